// What jobs and executions look like on the wire, and the store-side steps shared by job operations:
// fan-out of executions, execution state round trips, and completion of a job whose executions are done.
import type * as IoT from '@aws-sdk/client-iot';
import { thingArn, type Scope } from '../domain/arn.ts';
import { isTerminal, newExecution, type ExecutionState, type ExecutionStatus } from '../domain/jobs/execution-state.ts';
import { completionDue, jobProcessDetailsOf, type JobStatus, type StatusCounts, type TargetSelection } from '../domain/jobs/job-state.ts';
import { parseDateTime, scheduledJobRollouts, type SchedulingConfig } from '../domain/jobs/schedule.ts';
import { approximateSecondsBeforeTimedOut } from '../domain/jobs/timeouts.ts';
import { executions, jobs } from '../store/jobs.ts';
import type { Db, JobExecutionRow, JobRow } from '../store/schema.ts';
import { parsed } from './job-inputs.ts';

const date = (ms: number | null) => (ms === null ? undefined : new Date(ms));

/** The job as DescribeJob shows it; `before` gives the stored template form of destinations. */
export async function jobView(db: Db, row: JobRow, now: number, before: boolean): Promise<IoT.Job> {
  const counts = (await executions.countLatestByStatus(db, row, row.job_id)) as StatusCounts;
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
    targets: JSON.parse(row.targets),
    description: row.description ?? undefined,
    presignedUrlConfig: parsed(row.presigned_url_config),
    jobExecutionsRolloutConfig: parsed(row.rollout_config),
    abortConfig: parsed(row.abort_config),
    createdAt: new Date(row.created_at),
    lastUpdatedAt: new Date(row.updated_at),
    completedAt: date(row.completed_at),
    jobProcessDetails: jobProcessDetailsOf(counts),
    timeoutConfig: parsed(row.timeout_config),
    namespaceId: row.namespace_id ?? undefined,
    jobTemplateArn: row.job_template_arn ?? undefined,
    jobExecutionsRetryConfig: parsed(row.retry_config),
    documentParameters: parsed(row.document_parameters),
    // Fan-out and cancellation finish inside the request that starts them, so no job is ever seen mid-way.
    isConcurrent: false,
    schedulingConfig: scheduling,
    scheduledJobRollouts: rollouts.length ? rollouts : undefined,
    destinationPackageVersions: parsed(before ? row.destinations_before : row.destinations),
  };
}

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
    isConcurrent: false,
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

export function stateOf(row: JobExecutionRow): ExecutionState {
  return {
    status: row.status as ExecutionStatus,
    versionNumber: row.version_number,
    statusDetails: parsed(row.status_details),
    queuedAt: row.queued_at,
    startedAt: row.started_at ?? undefined,
    lastUpdatedAt: row.last_updated_at,
    forceCanceled: row.force_canceled === null ? undefined : row.force_canceled === 1,
    timers: { inProgressDeadlineAt: row.in_progress_deadline_at ?? undefined, stepDeadlineAt: row.step_deadline_at ?? undefined },
  };
}

/** The columns an execution state change writes. */
type StateColumns = 'status' | 'version_number' | 'status_details' | 'started_at' | 'last_updated_at' | 'force_canceled' | 'in_progress_deadline_at' | 'step_deadline_at';

export function patchOf(state: ExecutionState): Pick<JobExecutionRow, StateColumns> {
  return {
    status: state.status,
    version_number: state.versionNumber,
    status_details: state.statusDetails === undefined ? null : JSON.stringify(state.statusDetails),
    started_at: state.startedAt ?? null,
    last_updated_at: state.lastUpdatedAt,
    force_canceled: state.forceCanceled === undefined ? null : state.forceCanceled ? 1 : 0,
    in_progress_deadline_at: state.timers.inProgressDeadlineAt ?? null,
    step_deadline_at: state.timers.stepDeadlineAt ?? null,
  };
}

/** Queues execution number 1 for each thing that has no execution of the job yet; returns how many were created. */
export async function fanOut(db: Db, scope: Scope, jobId: string, thingNames: string[], at: number): Promise<number> {
  const existing = await executions.thingNames(db, scope, jobId);
  const fresh = thingNames.filter((name) => !existing.has(name));
  const initial = newExecution(at);
  await executions.insert(
    db,
    fresh.map((thing_name) => ({
      ...scope,
      job_id: jobId,
      thing_name,
      execution_number: 1,
      thing_arn: thingArn(scope, thing_name),
      retry_attempt: 0,
      queued_at: initial.queuedAt,
      ...patchOf(initial),
    })),
  );
  return fresh.length;
}

/**
 * Completes an active job that has nothing left to do (jobs-semantics §2.4): a SNAPSHOT job once it has fanned
 * out and every execution is terminal; a CONTINUOUS one only after its endTime. Call after executions change.
 */
export async function settleJob(db: Db, job: JobRow, now: number): Promise<JobStatus> {
  const status = job.status as JobStatus;
  if (status !== 'IN_PROGRESS' && status !== 'SCHEDULED') return status;
  const counts = await executions.countLatestByStatus(db, job, job.job_id);
  const end = parsed<IoT.SchedulingConfig>(job.scheduling_config)?.endTime;
  const endAt = end ? parseDateTime(end) : undefined;
  const due = completionDue(
    {
      status,
      targetSelection: job.target_selection as TargetSelection,
      endTime: endAt?.ok ? endAt.at : undefined,
      rolloutFinished: status === 'IN_PROGRESS',
      openExecutions: Object.entries(counts).reduce((open, [status, n]) => (isTerminal(status as ExecutionStatus) ? open : open + n), 0),
    },
    now,
  );
  if (!due) return status;
  await jobs.update(db, job, job.job_id, { status: 'COMPLETED', completed_at: now, updated_at: now });
  return 'COMPLETED';
}

export { isTerminal };
