// Migration 0012_hardening: how many times the current SBOM validation was claimed, so that one whose results
// cannot be stored ends FAILED after a bounded number of attempts instead of being retried forever.
import type { Kysely, Migration } from 'kysely';

export const hardeningMigration: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .alterTable('package_versions')
      .addColumn('sbom_attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
  },
};
