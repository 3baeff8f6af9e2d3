// Migration 0013_engine: what the rollout engine keeps between its steps. On a job: whether targets remain to be
// expanded (`fanout_pending`), where expansion stands (`fanout_cursor`) and how many things the rollout released
// (`released`, the exponential rate's notified count). On an execution: whether the engine has handled its end
// (`settled`: retry, `$package`, events). The account's event configuration has its own table.
import type { Kysely, Migration, RawBuilder } from 'kysely';

export function engineMigration(key: RawBuilder<unknown>): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .alterTable('jobs')
        .addColumn('fanout_pending', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.alterTable('jobs').addColumn('fanout_cursor', 'text').execute();
      await db.schema
        .alterTable('jobs')
        .addColumn('released', 'bigint', (c) => c.notNull().defaultTo(0))
        .execute();
      // Executions that ended before the engine existed need nothing more.
      await db.schema
        .alterTable('job_executions')
        .addColumn('settled', 'integer', (c) => c.notNull().defaultTo(1))
        .execute();
      await db.schema.createIndex('job_executions_unsettled').on('job_executions').columns(['account', 'region', 'job_id', 'settled', 'status']).execute();
      await db.schema.createIndex('job_executions_queued_at').on('job_executions').columns(['account', 'region', 'job_id', 'queued_at']).execute();
      await db.schema
        .createTable('event_configurations')
        .addColumn('account', key, (c) => c.notNull())
        .addColumn('region', key, (c) => c.notNull())
        .addColumn('config', 'text', (c) => c.notNull()) // JSON {eventType: {Enabled}}
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('event_configurations_pk', ['account', 'region'])
        .execute();
    },
  };
}
