// The job status machine (jobs-semantics §2.4, §2.12): scheduling, completion, cancel, abort, endTime and
// delete, plus the jobProcessDetails counters. Refusal kinds follow what each operation models:
// CancelJob only knows InvalidRequest, DeleteJob knows InvalidStateTransition and LimitExceeded.

import type { CancelScope, ExecutionStatus } from './execution-state.ts';

export const JOB_STATUSES = ['SCHEDULED', 'IN_PROGRESS', 'COMPLETED', 'CANCELED', 'DELETION_IN_PROGRESS'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
export type TargetSelection = 'SNAPSHOT' | 'CONTINUOUS';
export type EndBehavior = 'STOP_ROLLOUT' | 'CANCEL' | 'FORCE_CANCEL';

/** At most this many jobs of an account may be in DELETION_IN_PROGRESS at once. */
export const MAX_JOBS_DELETING = 10;
/** reasonCode recorded when an abort criterion cancels a job (Flotilla's choice; AWS documents none). */
export const ABORT_REASON_CODE = 'ABORT_CRITERIA_MET';

export type JobRefusalKind = 'InvalidRequest' | 'InvalidStateTransition' | 'LimitExceeded';
export type JobResult<T> = { ok: true; value: T } | { ok: false; kind: JobRefusalKind; message: string };

const refuse = <T>(kind: JobRefusalKind, message: string): JobResult<T> => ({ ok: false, kind, message });

/** Active jobs may still roll out or wait on devices; the others are finished with. */
const isActive = (status: JobStatus) => status === 'SCHEDULED' || status === 'IN_PROGRESS';

/** A job with a future start (or waiting for its first maintenance window) is created SCHEDULED. */
export function initialJobStatus(waitsForSchedule: boolean): JobStatus {
  return waitsForSchedule ? 'SCHEDULED' : 'IN_PROGRESS';
}

/**
 * startTime arrived or a maintenance window opened. A job that would exceed the account's concurrency limit
 * at its startTime is CANCELED rather than delayed, as the developer guide states.
 */
export function startScheduled(status: JobStatus, atConcurrencyLimit: boolean): JobResult<JobStatus> {
  if (status !== 'SCHEDULED') return refuse('InvalidStateTransition', `Only a SCHEDULED job can start; this job is ${status}`);
  return { ok: true, value: atConcurrencyLimit ? 'CANCELED' : 'IN_PROGRESS' };
}

/** A maintenance window closed: rollout pauses and the job shows SCHEDULED until the next window. */
export function closeWindow(status: JobStatus): JobResult<JobStatus> {
  if (status !== 'IN_PROGRESS') return refuse('InvalidStateTransition', `Only an IN_PROGRESS job waits for the next window; this job is ${status}`);
  return { ok: true, value: 'SCHEDULED' };
}

export interface CompletionInput {
  status: JobStatus;
  targetSelection: TargetSelection;
  /** schedulingConfig.endTime in epoch ms. */
  endTime?: number;
  /** Every target present at creation has an execution (SNAPSHOT), or rollout was stopped by endTime. */
  rolloutFinished: boolean;
  /** Executions still QUEUED or IN_PROGRESS. */
  openExecutions: number;
}

/**
 * SNAPSHOT completes once rollout is done and every execution is terminal. CONTINUOUS keeps accepting new
 * group members, so it completes only with an endTime that has passed and nothing left open.
 */
export function completionDue(job: CompletionInput, now: number): boolean {
  if (!isActive(job.status) || job.openExecutions > 0) return false;
  const ended = job.endTime !== undefined && now >= job.endTime;
  return job.targetSelection === 'SNAPSHOT' ? job.rolloutFinished || ended : ended;
}

export interface CancelRequest {
  force?: boolean;
  reasonCode?: string;
  comment?: string;
}

export interface CancelOutcome {
  status: 'CANCELED';
  forceCanceled: boolean;
  reasonCode?: string;
  comment?: string;
  /** The executions to move to CANCELED now. */
  cancelExecutions: CancelScope;
}

/**
 * CancelJob. A CANCELED job may be canceled again: with force that reaches the IN_PROGRESS executions the
 * first cancel left running (a retry loop without force changes nothing but the reason and comment).
 */
export function cancelJob(job: { status: JobStatus; forceCanceled?: boolean }, request: CancelRequest): JobResult<CancelOutcome> {
  if (job.status === 'COMPLETED') return refuse('InvalidRequest', 'A COMPLETED job cannot be canceled');
  if (job.status === 'DELETION_IN_PROGRESS') return refuse('InvalidRequest', 'The job is being deleted and cannot be canceled');
  const force = request.force === true || (job.status === 'CANCELED' && job.forceCanceled === true);
  return {
    ok: true,
    value: {
      status: 'CANCELED',
      forceCanceled: force,
      reasonCode: request.reasonCode,
      comment: request.comment,
      cancelExecutions: force ? 'QUEUED_AND_IN_PROGRESS' : 'QUEUED',
    },
  };
}

/** An abort criterion fired: the job is canceled, QUEUED executions with it, IN_PROGRESS ones run on. */
export function abortJob(status: JobStatus): JobResult<CancelOutcome> {
  if (!isActive(status)) return refuse('InvalidStateTransition', `A ${status} job cannot be aborted`);
  return { ok: true, value: { status: 'CANCELED', forceCanceled: false, reasonCode: ABORT_REASON_CODE, cancelExecutions: 'QUEUED' } };
}

export interface EndTimeEffect {
  /** No new executions are notified after endTime, whatever the behaviour. */
  stopRollout: true;
  /** The job's new status, or undefined when it stays and completes once its executions finish. */
  status?: 'CANCELED';
  forceCanceled?: boolean;
  cancelExecutions?: CancelScope;
}

/**
 * What reaching endTime does. STOP_ROLLOUT (also the default) only stops notifying; CANCEL acts like CancelJob,
 * FORCE_CANCEL like CancelJob with force. Applies only to a job that is still active.
 */
export function endTimeEffect(status: JobStatus, behavior: EndBehavior | undefined): EndTimeEffect | undefined {
  if (!isActive(status)) return undefined;
  if (behavior === 'CANCEL') return { stopRollout: true, status: 'CANCELED', forceCanceled: false, cancelExecutions: 'QUEUED' };
  if (behavior === 'FORCE_CANCEL') return { stopRollout: true, status: 'CANCELED', forceCanceled: true, cancelExecutions: 'QUEUED_AND_IN_PROGRESS' };
  return { stopRollout: true };
}

/**
 * DeleteJob. COMPLETED and CANCELED jobs may go; an active one (IN_PROGRESS, and SCHEDULED likewise) needs force.
 * A job already being deleted is refused, and so is an 11th concurrent deletion.
 */
export function deleteJob(status: JobStatus, force: boolean, jobsBeingDeleted: number): JobResult<'DELETION_IN_PROGRESS'> {
  if (status === 'DELETION_IN_PROGRESS') return refuse('InvalidStateTransition', 'The job is already being deleted');
  if (isActive(status) && !force) return refuse('InvalidStateTransition', `A ${status} job can only be deleted with force=true`);
  if (jobsBeingDeleted >= MAX_JOBS_DELETING) {
    return refuse('LimitExceeded', `At most ${MAX_JOBS_DELETING} jobs can be in DELETION_IN_PROGRESS at the same time`);
  }
  return { ok: true, value: 'DELETION_IN_PROGRESS' };
}

export interface JobProcessDetails {
  processingTargets?: string[];
  numberOfCanceledThings: number;
  numberOfSucceededThings: number;
  numberOfFailedThings: number;
  numberOfRejectedThings: number;
  numberOfQueuedThings: number;
  numberOfInProgressThings: number;
  numberOfRemovedThings: number;
  numberOfTimedOutThings: number;
}

const COUNTER: Record<ExecutionStatus, Exclude<keyof JobProcessDetails, 'processingTargets'>> = {
  QUEUED: 'numberOfQueuedThings',
  IN_PROGRESS: 'numberOfInProgressThings',
  SUCCEEDED: 'numberOfSucceededThings',
  FAILED: 'numberOfFailedThings',
  TIMED_OUT: 'numberOfTimedOutThings',
  REJECTED: 'numberOfRejectedThings',
  REMOVED: 'numberOfRemovedThings',
  CANCELED: 'numberOfCanceledThings',
};

/** How many things' latest executions are in each status. */
export type StatusCounts = Partial<Record<ExecutionStatus, number>>;

/**
 * Counters from how many things' latest executions are in each status (the store's GROUP BY: a retried thing counts
 * once, and no row per thing is held in memory). processingTargets is passed only while rollout is still fanning out;
 * afterwards it is absent.
 */
export function jobProcessDetails(counts: StatusCounts, processingTargets?: string[]): JobProcessDetails {
  const details: JobProcessDetails = {
    numberOfCanceledThings: 0,
    numberOfSucceededThings: 0,
    numberOfFailedThings: 0,
    numberOfRejectedThings: 0,
    numberOfQueuedThings: 0,
    numberOfInProgressThings: 0,
    numberOfRemovedThings: 0,
    numberOfTimedOutThings: 0,
  };
  for (const [status, n] of Object.entries(counts) as [ExecutionStatus, number][]) details[COUNTER[status]] += n;
  if (processingTargets !== undefined) details.processingTargets = [...processingTargets];
  return details;
}
