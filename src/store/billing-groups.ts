// Repositories of billing groups and their members (a thing is in at most one billing group).
import { sql } from 'kysely';
import type { Scope } from '../domain/arn.ts';
import type { BillingGroupRow, Db } from './schema.ts';
import { inScope } from './scope.ts';

type Dialect = 'sqlite' | 'postgres';

export const billingGroups = {
  get(db: Db, scope: Scope, name: string): Promise<BillingGroupRow | undefined> {
    return db.selectFrom('billing_groups').selectAll().$call(inScope(scope)).where('name', '=', name).executeTakeFirst();
  },

  /** `update`: for changing the group; `share`: kept from deletion while members change (PostgreSQL). */
  lock(db: Db, scope: Scope, name: string, dialect: Dialect, mode: 'update' | 'share' = 'update'): Promise<BillingGroupRow | undefined> {
    let query = db.selectFrom('billing_groups').selectAll().$call(inScope(scope)).where('name', '=', name);
    if (dialect === 'postgres') query = mode === 'update' ? query.forUpdate() : query.forShare();
    return query.executeTakeFirst();
  },

  async insert(db: Db, row: BillingGroupRow): Promise<void> {
    await db.insertInto('billing_groups').values(row).execute();
  },

  async update(db: Db, scope: Scope, name: string, patch: Pick<BillingGroupRow, 'description' | 'version' | 'updated_at'>): Promise<void> {
    await db.updateTable('billing_groups').set(patch).$call(inScope(scope)).where('name', '=', name).execute();
  },

  /** Deletes the group and its memberships (the things stay). */
  async delete(db: Db, scope: Scope, name: string): Promise<void> {
    await db.deleteFrom('billing_group_members').$call(inScope(scope)).where('group_name', '=', name).execute();
    await db.deleteFrom('billing_groups').$call(inScope(scope)).where('name', '=', name).execute();
  },

  /** Groups in name order, optionally only names starting with `prefix` (byte-exact). */
  list(db: Db, scope: Scope, prefix: string | undefined, after: string | undefined, limit: number): Promise<BillingGroupRow[]> {
    let query = db.selectFrom('billing_groups').selectAll().$call(inScope(scope));
    if (prefix !== undefined) query = query.where(sql<boolean>`substr(${sql.ref('name')}, 1, ${prefix.length}) = ${prefix}`);
    if (after !== undefined) query = query.where('name', '>', after);
    return query.orderBy('name').limit(limit).execute();
  },

  /** The billing group of the thing, if any. */
  async groupOfThing(db: Db, scope: Scope, thingName: string): Promise<string | undefined> {
    const row = await db.selectFrom('billing_group_members').select('group_name').$call(inScope(scope)).where('thing_name', '=', thingName).executeTakeFirst();
    return row?.group_name;
  },

  /** Puts the thing in the group, moving it out of any other billing group. */
  async setGroupOfThing(db: Db, scope: Scope, thingName: string, groupName: string, now: number): Promise<void> {
    await db
      .insertInto('billing_group_members')
      .values({ ...scope, thing_name: thingName, group_name: groupName, added_at: now })
      .onConflict((oc) => oc.columns(['account', 'region', 'thing_name']).doUpdateSet({ group_name: groupName, added_at: now }))
      .execute();
  },

  /** Takes the thing out of the group; false when it was not in it. */
  async removeThing(db: Db, scope: Scope, groupName: string, thingName: string): Promise<boolean> {
    const result = await db
      .deleteFrom('billing_group_members')
      .$call(inScope(scope))
      .where('thing_name', '=', thingName)
      .where('group_name', '=', groupName)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  },

  /** Thing names of the group in name order, after `after`. */
  async thingsIn(db: Db, scope: Scope, groupName: string, after: string | undefined, limit: number): Promise<string[]> {
    let query = db.selectFrom('billing_group_members').select('thing_name').$call(inScope(scope)).where('group_name', '=', groupName);
    if (after !== undefined) query = query.where('thing_name', '>', after);
    return (await query.orderBy('thing_name').limit(limit).execute()).map((r) => r.thing_name);
  },
};
