// The account's event configuration (UpdateEventConfigurations), and the one way job events are published: as an
// MQTT message recorded in the caller's transaction, only when the account enabled that event type.
import { randomUUID } from 'node:crypto';
import type { Scope } from '../domain/arn.ts';
import { executionEvent, jobEvent, jobEventTopic, type JobOperation } from '../domain/jobs/events.ts';
import { effects } from './effects.ts';
import type { Db, EventConfigurationRow, JobExecutionRow, JobRow } from './schema.ts';
import { inScope } from './scope.ts';

export type EventConfig = Record<string, { Enabled?: boolean }>;

export const eventConfigs = {
  get(db: Db, scope: Scope): Promise<EventConfigurationRow | undefined> {
    return db.selectFrom('event_configurations').selectAll().$call(inScope(scope)).executeTakeFirst();
  },

  async put(db: Db, scope: Scope, config: EventConfig, now: number): Promise<void> {
    await db
      .insertInto('event_configurations')
      .values({ ...scope, config: JSON.stringify(config), updated_at: now })
      .onConflict((oc) => oc.columns(['account', 'region']).doUpdateSet({ config: JSON.stringify(config), updated_at: now }))
      .execute();
  },

  async enabled(db: Db, scope: Scope, type: 'JOB' | 'JOB_EXECUTION'): Promise<boolean> {
    const row = await eventConfigs.get(db, scope);
    return row !== undefined && (JSON.parse(row.config) as EventConfig)[type]?.Enabled === true;
  },

  /** Publishes an event of `type` on `topic` after commit, if the account enabled that type. */
  async publish(db: Db, scope: Scope, type: 'JOB' | 'JOB_EXECUTION', topic: string, payload: object): Promise<void> {
    if (await eventConfigs.enabled(db, scope, type)) await effects.publish(db, scope, topic, payload);
  },
};

/** The job event of `operation` for the job as it stands after the change. */
export function publishJobEvent(db: Db, job: JobRow, operation: JobOperation, at: number): Promise<void> {
  const facts = {
    jobId: job.job_id,
    status: job.status,
    targetSelection: job.target_selection,
    targets: JSON.parse(job.targets),
    description: job.description ?? undefined,
    createdAt: job.created_at,
    lastUpdatedAt: job.updated_at,
    completedAt: job.completed_at ?? undefined,
  };
  return eventConfigs.publish(db, job, 'JOB', jobEventTopic(job.job_id, operation), jobEvent(facts, operation, at, randomUUID()));
}

/** The job-execution event of an execution that ended, if its status has one. */
export async function publishExecutionEvent(db: Db, row: JobExecutionRow, at: number): Promise<void> {
  const details = row.status_details === null ? undefined : JSON.parse(row.status_details);
  const event = executionEvent({ jobId: row.job_id, thingArn: row.thing_arn, status: row.status, statusDetails: details }, at, randomUUID());
  if (event) await eventConfigs.publish(db, row, 'JOB_EXECUTION', event.topic, event.payload);
}
