// Migration 0006_effects: the table through which every effect follows the commit that caused it (docs/architecture.md).
import { sql, type Kysely, type Migration, type RawBuilder } from 'kysely';
import type { Dialect } from './migrations.ts';

export function effectsMigration(dialect: Dialect, key: RawBuilder<unknown>): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('effects')
        .addColumn('id', dialect === 'postgres' ? 'bigserial' : 'integer', (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
        .addColumn('account', key, (c) => c.notNull())
        .addColumn('region', key, (c) => c.notNull())
        .addColumn('kind', key, (c) => c.notNull())
        .addColumn('subject', key, (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('coalescing', 'integer', (c) => c.notNull())
        .addColumn('due_at', 'bigint', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('claimed_until', 'bigint')
        .addColumn('dead', 'integer', (c) => c.notNull())
        .addColumn('last_error', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      // Per-subject order: the claim takes a row only when no earlier live row of its subject remains.
      await db.schema.createIndex('effects_subject').on('effects').columns(['account', 'region', 'kind', 'subject', 'id']).execute();
      await db.schema.createIndex('effects_due').on('effects').columns(['dead', 'due_at']).execute();
      // One waiting row per coalescing (kind, subject): a second change before the first is claimed adds nothing.
      await db.schema
        .createIndex('effects_coalesce')
        .on('effects')
        .columns(['account', 'region', 'kind', 'subject'])
        .unique()
        .where(sql<boolean>`coalescing = 1 and claimed_until is null`)
        .execute();
    },
  };
}
