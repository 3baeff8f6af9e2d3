// Repositories of the Software Package Catalog: packages, versions and the package configuration.
import type { Scope } from '../domain/arn.ts';
import type { Db, PackageConfigRow, PackageRow, PackageVersionRow } from './schema.ts';
import { prepared } from './prepared.ts';
import { inScope } from './scope.ts';

type Patch<T> = Partial<Omit<T, 'account' | 'region'>>;

const packageByName = prepared((db, p: Scope & { name: string }) => db.selectFrom('packages').selectAll().$call(inScope(p)).where('name', '=', p.name));
const packageForUpdate = prepared((db, p: Scope & { name: string }) =>
  db.selectFrom('packages').selectAll().$call(inScope(p)).where('name', '=', p.name).forUpdate(),
);
const versionByName = prepared((db, p: Scope & { packageName: string; versionName: string }) =>
  db.selectFrom('package_versions').selectAll().$call(inScope(p)).where('package_name', '=', p.packageName).where('version_name', '=', p.versionName),
);

export const packages = {
  async get(db: Db, scope: Scope, name: string): Promise<PackageRow | undefined> {
    return (await packageByName(db, { account: scope.account, region: scope.region, name }))[0];
  },

  /** Locks the package row for the rest of the transaction (PostgreSQL), serializing changes to it. */
  async lock(db: Db, scope: Scope, name: string, dialect: 'sqlite' | 'postgres'): Promise<PackageRow | undefined> {
    const params = { account: scope.account, region: scope.region, name };
    return (await (dialect === 'postgres' ? packageForUpdate(db, params) : packageByName(db, params)))[0];
  },

  async insert(db: Db, row: PackageRow): Promise<void> {
    await db.insertInto('packages').values(row).execute();
  },

  async update(db: Db, scope: Scope, name: string, patch: Patch<PackageRow>): Promise<void> {
    await db.updateTable('packages').set(patch).$call(inScope(scope)).where('name', '=', name).execute();
  },

  async delete(db: Db, scope: Scope, name: string): Promise<void> {
    await db.deleteFrom('packages').$call(inScope(scope)).where('name', '=', name).execute();
  },

  list(db: Db, scope: Scope, after: string | undefined, limit: number): Promise<PackageRow[]> {
    let query = db.selectFrom('packages').selectAll().$call(inScope(scope));
    if (after !== undefined) query = query.where('name', '>', after);
    return query.orderBy('name').limit(limit).execute();
  },
};

export const versions = {
  async get(db: Db, scope: Scope, packageName: string, versionName: string): Promise<PackageVersionRow | undefined> {
    return (await versionByName(db, { account: scope.account, region: scope.region, packageName, versionName }))[0];
  },

  async insert(db: Db, row: PackageVersionRow): Promise<void> {
    await db.insertInto('package_versions').values(row).execute();
  },

  async update(db: Db, scope: Scope, packageName: string, versionName: string, patch: Patch<PackageVersionRow>): Promise<void> {
    await db
      .updateTable('package_versions')
      .set(patch)
      .$call(inScope(scope))
      .where('package_name', '=', packageName)
      .where('version_name', '=', versionName)
      .execute();
  },

  async delete(db: Db, scope: Scope, packageName: string, versionName: string): Promise<void> {
    await db.deleteFrom('package_versions').$call(inScope(scope)).where('package_name', '=', packageName).where('version_name', '=', versionName).execute();
  },

  async exist(db: Db, scope: Scope, packageName: string): Promise<boolean> {
    const row = await db
      .selectFrom('package_versions')
      .select('version_name')
      .$call(inScope(scope))
      .where('package_name', '=', packageName)
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  },

  list(db: Db, scope: Scope, packageName: string, status: string | undefined, after: string | undefined, limit: number): Promise<PackageVersionRow[]> {
    let query = db.selectFrom('package_versions').selectAll().$call(inScope(scope)).where('package_name', '=', packageName);
    if (status !== undefined) query = query.where('status', '=', status);
    if (after !== undefined) query = query.where('version_name', '>', after);
    return query.orderBy('version_name').limit(limit).execute();
  },
};

export const packageConfig = {
  get(db: Db, scope: Scope): Promise<PackageConfigRow | undefined> {
    return db.selectFrom('package_config').selectAll().$call(inScope(scope)).executeTakeFirst();
  },

  async put(db: Db, row: PackageConfigRow): Promise<void> {
    await db
      .insertInto('package_config')
      .values(row)
      .onConflict((oc) => oc.columns(['account', 'region']).doUpdateSet({ enabled: row.enabled, role_arn: row.role_arn, updated_at: row.updated_at }))
      .execute();
  },
};
