// Migration 0004_jobs: jobs, their targets and executions, and custom job templates.
import type { Kysely, Migration, RawBuilder } from 'kysely';

export function jobsMigration(key: RawBuilder<unknown>): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('jobs')
        .addColumn('account', key, (c) => c.notNull())
        .addColumn('region', key, (c) => c.notNull())
        .addColumn('job_id', key, (c) => c.notNull())
        .addColumn('arn', 'text', (c) => c.notNull())
        .addColumn('status', key, (c) => c.notNull())
        .addColumn('target_selection', key, (c) => c.notNull())
        .addColumn('targets', 'text', (c) => c.notNull())
        .addColumn('description', 'text')
        .addColumn('document', 'text', (c) => c.notNull())
        .addColumn('document_before', 'text', (c) => c.notNull())
        .addColumn('document_source', 'text')
        .addColumn('destinations', 'text')
        .addColumn('destinations_before', 'text')
        .addColumn('document_parameters', 'text')
        .addColumn('presigned_url_config', 'text')
        .addColumn('rollout_config', 'text')
        .addColumn('abort_config', 'text')
        .addColumn('timeout_config', 'text')
        .addColumn('retry_config', 'text')
        .addColumn('scheduling_config', 'text')
        .addColumn('namespace_id', key)
        .addColumn('job_template_arn', 'text')
        .addColumn('force_canceled', 'integer')
        .addColumn('reason_code', 'text')
        .addColumn('comment', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('completed_at', 'bigint')
        .addPrimaryKeyConstraint('jobs_pk', ['account', 'region', 'job_id'])
        .execute();
      await db.schema
        .createTable('job_targets')
        .addColumn('account', key, (c) => c.notNull())
        .addColumn('region', key, (c) => c.notNull())
        .addColumn('job_id', key, (c) => c.notNull())
        .addColumn('target_arn', key, (c) => c.notNull())
        .addColumn('kind', key, (c) => c.notNull())
        .addColumn('name', key, (c) => c.notNull())
        .addColumn('group_id', key)
        .addPrimaryKeyConstraint('job_targets_pk', ['account', 'region', 'job_id', 'target_arn'])
        .execute();
      await db.schema.createIndex('job_targets_name').on('job_targets').columns(['account', 'region', 'kind', 'name']).execute();
      await db.schema
        .createTable('job_executions')
        .addColumn('account', key, (c) => c.notNull())
        .addColumn('region', key, (c) => c.notNull())
        .addColumn('job_id', key, (c) => c.notNull())
        .addColumn('thing_name', key, (c) => c.notNull())
        .addColumn('execution_number', 'bigint', (c) => c.notNull())
        .addColumn('thing_arn', 'text', (c) => c.notNull())
        .addColumn('status', key, (c) => c.notNull())
        .addColumn('version_number', 'bigint', (c) => c.notNull())
        .addColumn('retry_attempt', 'integer', (c) => c.notNull())
        .addColumn('status_details', 'text')
        .addColumn('force_canceled', 'integer')
        .addColumn('queued_at', 'bigint', (c) => c.notNull())
        .addColumn('started_at', 'bigint')
        .addColumn('last_updated_at', 'bigint', (c) => c.notNull())
        .addColumn('in_progress_deadline_at', 'bigint')
        .addColumn('step_deadline_at', 'bigint')
        .addPrimaryKeyConstraint('job_executions_pk', ['account', 'region', 'job_id', 'thing_name', 'execution_number'])
        .execute();
      await db.schema.createIndex('job_executions_thing').on('job_executions').columns(['account', 'region', 'thing_name', 'job_id']).execute();
      await db.schema
        .createTable('job_templates')
        .addColumn('account', key, (c) => c.notNull())
        .addColumn('region', key, (c) => c.notNull())
        .addColumn('template_id', key, (c) => c.notNull())
        .addColumn('arn', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('document', 'text')
        .addColumn('document_source', 'text')
        .addColumn('presigned_url_config', 'text')
        .addColumn('rollout_config', 'text')
        .addColumn('abort_config', 'text')
        .addColumn('timeout_config', 'text')
        .addColumn('retry_config', 'text')
        .addColumn('maintenance_windows', 'text')
        .addColumn('destinations', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('job_templates_pk', ['account', 'region', 'template_id'])
        .execute();
    },
  };
}
