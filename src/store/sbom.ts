// Repository of SBOM validation: per-file results, and the bookkeeping on package_versions (generation, lease)
// the background validator claims and completes its work with.
import type { Scope } from '../domain/arn.ts';
import type { Dialect } from './migrations.ts';
import type { Db, SbomResultRow } from './schema.ts';
import { inScope } from './scope.ts';

/** A package version, by key. */
export interface VersionKey extends Scope {
  package_name: string;
  version_name: string;
}

/** A validation a validator holds the lease of. */
export interface SbomClaim extends VersionKey {
  sbom: string; // JSON Sbom
  generation: number;
  /** How many times this validation has been claimed, this claim included. */
  attempt: number;
}

const ofVersion =
  (key: VersionKey) =>
  <QB extends { where: (...args: any[]) => any }>(query: QB): QB =>
    inScope(key)(query).where('package_name', '=', key.package_name).where('version_name', '=', key.version_name);

export const sbomResults = {
  async deleteFor(db: Db, key: VersionKey): Promise<void> {
    await db.deleteFrom('sbom_results').$call(ofVersion(key)).execute();
  },

  async insert(db: Db, rows: SbomResultRow[]): Promise<void> {
    // Chunks keep every statement well under SQLite's bound-parameter limit.
    for (let i = 0; i < rows.length; i += 50)
      await db
        .insertInto('sbom_results')
        .values(rows.slice(i, i + 50))
        .execute();
  },

  /** Results in report order; `afterSeq` continues a page, `result` filters on SUCCEEDED/FAILED. */
  list(db: Db, key: VersionKey, result: string | undefined, afterSeq: number | undefined, limit: number): Promise<SbomResultRow[]> {
    let query = db.selectFrom('sbom_results').selectAll().$call(ofVersion(key));
    if (result !== undefined) query = query.where('validation_result', '=', result);
    if (afterSeq !== undefined) query = query.where('seq', '>', afterSeq);
    return query.orderBy('seq').limit(limit).execute();
  },
};

export const sbomWork = {
  /**
   * Takes the lease of one IN_PROGRESS validation whose lease is absent or expired (`skip`: keys this process
   * already works on). PostgreSQL skips rows another replica is claiming right now.
   */
  async claim(tx: Db, dialect: Dialect, now: number, leaseMs: number, skip: (key: VersionKey) => boolean): Promise<SbomClaim | undefined> {
    let query = tx
      .selectFrom('package_versions')
      .select(['account', 'region', 'package_name', 'version_name', 'sbom', 'sbom_generation', 'sbom_attempts'])
      .where('sbom_validation_status', '=', 'IN_PROGRESS')
      .where((eb) => eb.or([eb('sbom_claimed_until', 'is', null), eb('sbom_claimed_until', '<', now)]))
      .orderBy('updated_at')
      .limit(20);
    if (dialect === 'postgres') query = query.forUpdate().skipLocked();
    const rows = await query.execute();
    const row = rows.find((r) => r.sbom !== null && !skip(r));
    if (!row) return undefined;
    const key = { account: row.account, region: row.region, package_name: row.package_name, version_name: row.version_name };
    const generation = Number(row.sbom_generation ?? 0);
    const attempt = Number(row.sbom_attempts ?? 0) + 1;
    await tx
      .updateTable('package_versions')
      .set({ sbom_claimed_until: now + leaseMs, sbom_attempts: attempt })
      .$call(ofVersion(key))
      .where('sbom_generation', '=', generation)
      .execute();
    return { ...key, sbom: row.sbom!, generation, attempt };
  },

  /** Gives a held lease up until `retryAt`, when any validator may claim the validation again. */
  async release(db: Db, claim: SbomClaim, retryAt: number): Promise<void> {
    await db
      .updateTable('package_versions')
      .set({ sbom_claimed_until: retryAt })
      .$call(ofVersion(claim))
      .where('sbom_generation', '=', claim.generation)
      .where('sbom_validation_status', '=', 'IN_PROGRESS')
      .execute();
  },

  /** Extends a held lease; false when the validation was superseded meanwhile. */
  async renew(db: Db, claim: SbomClaim, until: number): Promise<boolean> {
    const res = await db
      .updateTable('package_versions')
      .set({ sbom_claimed_until: until })
      .$call(ofVersion(claim))
      .where('sbom_generation', '=', claim.generation)
      .where('sbom_validation_status', '=', 'IN_PROGRESS')
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  },

  /** Writes the results and the final status, only if the generation is unchanged; false when superseded. */
  async complete(tx: Db, claim: SbomClaim, status: 'SUCCEEDED' | 'FAILED', rows: SbomResultRow[]): Promise<boolean> {
    const res = await tx
      .updateTable('package_versions')
      .set({ sbom_validation_status: status, sbom_claimed_until: null })
      .$call(ofVersion(claim))
      .where('sbom_generation', '=', claim.generation)
      .where('sbom_validation_status', '=', 'IN_PROGRESS')
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) === 0) return false;
    await sbomResults.deleteFor(tx, claim);
    await sbomResults.insert(tx, rows);
    return true;
  },

  /** Drops every lease (SQLite at start: the process owns the data dir, so any lease is a dead process's). */
  async releaseAll(db: Db): Promise<void> {
    // Through the (status, claimed_until) index: only IN_PROGRESS rows are ever claimed, and start-up reads no whole table.
    await db
      .updateTable('package_versions')
      .set({ sbom_claimed_until: null })
      .where('sbom_validation_status', '=', 'IN_PROGRESS')
      .where('sbom_claimed_until', 'is not', null)
      .execute();
  },
};
