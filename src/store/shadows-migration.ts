// Migration 0007_shadows: device shadows, one row per (thing, shadow name); the classic shadow's name is ''.
// A deleted shadow keeps its row (state null) so that its version carries on when it is written again.
import type { Kysely, Migration, RawBuilder } from 'kysely';

export function shadowsMigration(key: RawBuilder<unknown>): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('shadows')
        .addColumn('account', key, (c) => c.notNull())
        .addColumn('region', key, (c) => c.notNull())
        .addColumn('thing_name', key, (c) => c.notNull())
        .addColumn('shadow_name', key, (c) => c.notNull())
        .addColumn('state', 'text') // JSON {desired?, reported?}; null while deleted
        .addColumn('metadata', 'text') // JSON mirror of state with timestamps; null while deleted
        .addColumn('version', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('deleted_at', 'bigint')
        .addPrimaryKeyConstraint('shadows_pk', ['account', 'region', 'thing_name', 'shadow_name'])
        .execute();
    },
  };
}
