// Migration 0010_device_jobs: per thing, what its devices were last told about their pending jobs, so that
// `notify` and `notify-next` are sent only when the list or its head changed (src/services/jobs-notify.ts).
import type { Kysely, Migration, RawBuilder } from 'kysely';

export function deviceJobsMigration(key: RawBuilder<unknown>): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('job_notify_state')
        .addColumn('account', key, (c) => c.notNull())
        .addColumn('region', key, (c) => c.notNull())
        .addColumn('thing_name', key, (c) => c.notNull())
        .addColumn('list', 'text', (c) => c.notNull()) // JSON array of jobId#executionNumber#status
        .addColumn('head', 'text') // jobId#executionNumber, null when the list was empty
        .addColumn('namespaced', 'text', (c) => c.notNull()) // JSON object jobId → executionNumber#status
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('job_notify_state_pk', ['account', 'region', 'thing_name'])
        .execute();
    },
  };
}
