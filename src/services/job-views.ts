// What jobs and executions look like on the wire. Fan-out, completion and the rest of a job's life after the
// request belong to the rollout engine (src/engine/jobs.ts).
import type * as IoT from '@aws-sdk/client-iot';
import { jobProcessDetails, type StatusCounts } from '../domain/jobs/job-state.ts';
import { scheduledJobRollouts, type SchedulingConfig } from '../domain/jobs/schedule.ts';
import { approximateSecondsBeforeTimedOut } from '../domain/jobs/timeouts.ts';
import { patchOf, stateOf } from '../store/execution-rows.ts';
import { rollout } from '../store/rollout.ts';
import type { Db, JobExecutionRow, JobRow } from '../store/schema.ts';
import { parsed } from './job-inputs.ts';

const date = (ms: number | null) => (ms === null ? undefined : new Date(ms));

/** The job as DescribeJob shows it; `before` gives the stored template form of destinations. */
export async function jobView(db: Db, row: JobRow, now: number, before: boolean): Promise<IoT.Job> {
  const counts = Object.fromEntries(await rollout.counts(db, row, row.job_id)) as StatusCounts;
  const targets: string[] = JSON.parse(row.targets);
  const scheduling = parsed<IoT.SchedulingConfig>(row.scheduling_config);
  const rollouts = scheduling ? scheduledJobRollouts(scheduling as SchedulingConfig, now) : [];
  return {
    jobArn: row.arn,
    jobId: row.job_id,
    targetSelection: row.target_selection as IoT.TargetSelection,
    status: row.status as IoT.JobStatus,
    forceCanceled: row.force_canceled === null ? undefined : row.force_canceled === 1,
    reasonCode: row.reason_code ?? undefined,
    comment: row.comment ?? undefined,
    targets,
    description: row.description ?? undefined,
    presignedUrlConfig: parsed(row.presigned_url_config),
    jobExecutionsRolloutConfig: parsed(row.rollout_config),
    abortConfig: parsed(row.abort_config),
    createdAt: new Date(row.created_at),
    lastUpdatedAt: new Date(row.updated_at),
    completedAt: date(row.completed_at),
    // processingTargets: the targets while the engine still expands them into executions.
    jobProcessDetails: jobProcessDetails(counts, row.fanout_pending === 1 ? targets : undefined),
    timeoutConfig: parsed(row.timeout_config),
    namespaceId: row.namespace_id ?? undefined,
    jobTemplateArn: row.job_template_arn ?? undefined,
    jobExecutionsRetryConfig: parsed(row.retry_config),
    documentParameters: parsed(row.document_parameters),
    isConcurrent: isConcurrent(row),
    schedulingConfig: scheduling,
    scheduledJobRollouts: rollouts.length ? rollouts : undefined,
    destinationPackageVersions: parsed(before ? row.destinations_before : row.destinations),
  };
}

/** A job is concurrent while the engine fans it out (jobs-semantics §2.13). */
const isConcurrent = (row: JobRow) => row.fanout_pending === 1 && row.status === 'IN_PROGRESS';

export function jobSummary(row: JobRow, groupId: string | undefined): IoT.JobSummary {
  return {
    jobArn: row.arn,
    jobId: row.job_id,
    thingGroupId: groupId,
    targetSelection: row.target_selection as IoT.TargetSelection,
    status: row.status as IoT.JobStatus,
    createdAt: new Date(row.created_at),
    lastUpdatedAt: new Date(row.updated_at),
    completedAt: date(row.completed_at),
    isConcurrent: isConcurrent(row),
  };
}

export function executionView(row: JobExecutionRow, now: number): IoT.JobExecution {
  const details = parsed<Record<string, string>>(row.status_details);
  const timers = { inProgressDeadlineAt: row.in_progress_deadline_at ?? undefined, stepDeadlineAt: row.step_deadline_at ?? undefined };
  return {
    jobId: row.job_id,
    status: row.status as IoT.JobExecutionStatus,
    forceCanceled: row.force_canceled === null ? undefined : row.force_canceled === 1,
    statusDetails: details ? { detailsMap: details } : undefined,
    thingArn: row.thing_arn,
    queuedAt: new Date(row.queued_at),
    startedAt: date(row.started_at),
    lastUpdatedAt: new Date(row.last_updated_at),
    executionNumber: row.execution_number,
    versionNumber: row.version_number,
    approximateSecondsBeforeTimedOut: row.status === 'IN_PROGRESS' ? approximateSecondsBeforeTimedOut(timers, now) : undefined,
  };
}

export function executionSummary(row: JobExecutionRow): IoT.JobExecutionSummary {
  return {
    status: row.status as IoT.JobExecutionStatus,
    queuedAt: new Date(row.queued_at),
    startedAt: date(row.started_at),
    lastUpdatedAt: new Date(row.last_updated_at),
    executionNumber: row.execution_number,
    retryAttempt: row.retry_attempt,
  };
}

export { patchOf, stateOf };
