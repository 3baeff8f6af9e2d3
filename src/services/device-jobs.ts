// The device side of IoT Jobs (jobs-semantics §2.5, §2.6, §3): GetPendingJobExecutions, StartNextPendingJobExecution,
// DescribeJobExecution and UpdateJobExecution, written once for both planes — the HTTPS `iot-jobs-data` handlers
// (jobs-data-http.ts) and the MQTT topic handler (jobs-data-mqtt.ts) only translate. Each call is one transaction
// (the state rules of src/domain/jobs/execution-state.ts, written through `executions.update`, which records the
// notifications); job documents are rendered after it commits. Times on this plane are epoch seconds.
import type { BlobStore } from '../blob/blob.ts';
import type { Scope } from '../domain/arn.ts';
import {
  deviceDescribe,
  deviceUpdate,
  startNext,
  type ExecutionRefusalKind,
  type ExecutionState,
  type ExecutionStatus,
} from '../domain/jobs/execution-state.ts';
import { MAX_PENDING_LISTED, orderPending, type PendingExecution } from '../domain/jobs/notifications.ts';
import type { TimeoutConfig } from '../domain/jobs/timeouts.ts';
import { approximateSecondsBeforeTimedOut } from '../domain/jobs/timeouts.ts';
import { devicePending, type PendingExecutionRow } from '../store/device-jobs.ts';
import { executions, jobs } from '../store/jobs.ts';
import type { Db, JobExecutionRow, JobRow } from '../store/schema.ts';
import type { Store } from '../store/store.ts';
import { things } from '../store/things.ts';
import { documentForDevice } from './device-documents.ts';
import { parsed } from './job-inputs.ts';
import { patchOf, stateOf } from './job-views.ts';

export interface DeviceJobsDeps {
  store: Store;
  /** Signs the presigned-URL placeholders of job documents; without it they are delivered as written. */
  blob?: BlobStore;
}

export type DeviceErrorKind = ExecutionRefusalKind | 'ResourceNotFound';

/** A refusal, in the terms of the state rules; each plane maps `kind` to its own error name. */
export class DeviceJobsError extends Error {
  constructor(
    readonly kind: DeviceErrorKind,
    message: string,
    /** The execution as it is, for the refusals whose MQTT error document carries it. */
    readonly executionState?: ExecutionStateView,
  ) {
    super(message);
  }
}

export interface ExecutionSummaryView {
  jobId: string;
  queuedAt: number;
  startedAt?: number;
  lastUpdatedAt: number;
  versionNumber: number;
  executionNumber: number;
}

export interface ExecutionView extends ExecutionSummaryView {
  thingName: string;
  status: ExecutionStatus;
  statusDetails?: Record<string, string>;
  approximateSecondsBeforeTimedOut?: number;
  /** The rendered document, as JSON text (HTTPS sends it so; MQTT as an object). */
  jobDocument?: string;
}

export interface ExecutionStateView {
  status: ExecutionStatus;
  statusDetails?: Record<string, string>;
  versionNumber: number;
}

export interface StartNextRequest {
  statusDetails?: Record<string, string>;
  stepTimeoutInMinutes?: number;
}

export interface DescribeRequest {
  executionNumber?: number;
  /** Default true. */
  includeJobDocument?: boolean;
}

export interface UpdateRequest {
  status: ExecutionStatus;
  statusDetails?: Record<string, string>;
  expectedVersion?: number;
  executionNumber?: number;
  includeJobExecutionState?: boolean;
  includeJobDocument?: boolean;
  stepTimeoutInMinutes?: number;
}

const seconds = (ms: number) => Math.floor(ms / 1000);

export function summaryView(row: JobExecutionRow): ExecutionSummaryView {
  return {
    jobId: row.job_id,
    queuedAt: seconds(row.queued_at),
    startedAt: row.started_at === null ? undefined : seconds(row.started_at),
    lastUpdatedAt: seconds(row.last_updated_at),
    versionNumber: row.version_number,
    executionNumber: row.execution_number,
  };
}

export function stateView(state: ExecutionState): ExecutionStateView {
  return { status: state.status, statusDetails: state.statusDetails, versionNumber: state.versionNumber };
}

const asPending = (row: PendingExecutionRow): PendingExecution & { row: PendingExecutionRow } => ({
  jobId: row.job_id,
  executionNumber: row.execution_number,
  status: row.status as PendingExecution['status'],
  queuedAt: row.queued_at,
  namespaceId: row.namespace_id ?? undefined,
  row,
});

/** The thing's pending executions in device order; customer-managed (namespaced) jobs are not listed. */
export function orderedPending(rows: PendingExecutionRow[]): PendingExecutionRow[] {
  return orderPending(rows.map(asPending).filter((e) => e.namespaceId === undefined)).map((e) => e.row);
}

/** Over MQTT the job document is a JSON object, not the string HTTPS sends. */
export function documentObject(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

const refusal = (r: { kind: ExecutionRefusalKind; message: string; current: ExecutionState }) => new DeviceJobsError(r.kind, r.message, stateView(r.current));

export class DeviceJobs {
  constructor(private readonly deps: DeviceJobsDeps) {}

  async pending(scope: Scope, thingName: string): Promise<{ inProgressJobs: ExecutionSummaryView[]; queuedJobs: ExecutionSummaryView[] }> {
    const db = this.deps.store.db;
    const listed = orderedPending(await devicePending.list(db, scope, thingName)).slice(0, MAX_PENDING_LISTED);
    if (listed.length === 0) await this.requireThing(db, scope, thingName);
    return {
      inProgressJobs: listed.filter((r) => r.status === 'IN_PROGRESS').map(summaryView),
      queuedJobs: listed.filter((r) => r.status === 'QUEUED').map(summaryView),
    };
  }

  /** Starts the next QUEUED execution, or returns the IN_PROGRESS one; `execution` is absent when nothing is pending. */
  async startNext(scope: Scope, thingName: string, request: StartNextRequest): Promise<{ execution?: ExecutionView }> {
    const { store } = this.deps;
    const now = Date.now();
    const picked = await store.transaction(async (tx) => {
      // Locked: a second device racing for the same thing waits here, then finds the execution already IN_PROGRESS.
      const [head] = orderedPending(await devicePending.list(tx, scope, thingName, store.dialect));
      if (!head) {
        await this.requireThing(tx, scope, thingName);
        return undefined;
      }
      const job = (await jobs.get(tx, scope, head.job_id))!;
      const state = stateOf(head);
      const result = startNext(state, request, { at: now, timeoutConfig: parsed<TimeoutConfig>(job.timeout_config) });
      if (!result.ok) throw refusal(result);
      if (result.state === state) return { job, row: head as JobExecutionRow };
      const patch = patchOf(result.state);
      await executions.update(tx, head, patch);
      return { job, row: { ...head, ...patch } };
    });
    if (!picked) return {};
    return { execution: await this.view(scope, picked.job, picked.row, true, now) };
  }

  /** One execution (`$next`: the head of the pending list, absent when nothing is pending). */
  async describe(scope: Scope, thingName: string, jobId: string, request: DescribeRequest): Promise<{ execution?: ExecutionView }> {
    const db = this.deps.store.db;
    const now = Date.now();
    let row: JobExecutionRow | undefined;
    if (jobId === '$next') {
      [row] = orderedPending(await devicePending.list(db, scope, thingName));
      if (!row) {
        await this.requireThing(db, scope, thingName);
        return {};
      }
    } else {
      row = await executions.get(db, scope, jobId, thingName, request.executionNumber);
      if (!row) throw missing(jobId, thingName, request.executionNumber);
      const check = deviceDescribe(stateOf(row));
      if (!check.ok) throw new DeviceJobsError(check.kind, check.message);
    }
    const job = await jobs.get(db, scope, row.job_id);
    if (!job) throw missing(row.job_id, thingName, request.executionNumber);
    return { execution: await this.view(scope, job, row, request.includeJobDocument !== false, now) };
  }

  async update(scope: Scope, thingName: string, jobId: string, request: UpdateRequest): Promise<{ executionState?: ExecutionStateView; jobDocument?: string }> {
    const { store } = this.deps;
    const now = Date.now();
    const { job, state, executionNumber } = await store.transaction(async (tx) => {
      const row = await devicePending.lockExecution(tx, scope, jobId, thingName, request.executionNumber, store.dialect);
      const job = row && (await jobs.get(tx, scope, jobId));
      if (!row || !job) throw missing(jobId, thingName, request.executionNumber);
      const result = deviceUpdate(stateOf(row), request, { at: now, timeoutConfig: parsed<TimeoutConfig>(job.timeout_config) });
      if (!result.ok) throw refusal(result);
      await executions.update(tx, row, patchOf(result.state));
      return { job, state: result.state, executionNumber: row.execution_number };
    });
    return {
      executionState: request.includeJobExecutionState ? stateView(state) : undefined,
      jobDocument: request.includeJobDocument ? await documentForDevice(store.db, this.deps.blob, scope, job, thingName, executionNumber) : undefined,
    };
  }

  /** The execution as devices see it, its document rendered for this fetch when asked for. */
  async view(scope: Scope, job: JobRow, row: JobExecutionRow, includeDocument: boolean, now: number): Promise<ExecutionView> {
    const state = stateOf(row);
    return {
      ...summaryView(row),
      thingName: row.thing_name,
      status: state.status,
      statusDetails: state.statusDetails,
      approximateSecondsBeforeTimedOut: state.status === 'IN_PROGRESS' ? approximateSecondsBeforeTimedOut(state.timers, now) : undefined,
      jobDocument: includeDocument ? await documentForDevice(this.deps.store.db, this.deps.blob, scope, job, row.thing_name, row.execution_number) : undefined,
    };
  }

  private async requireThing(db: Db, scope: Scope, thingName: string): Promise<void> {
    if (!(await things.get(db, scope, thingName))) throw new DeviceJobsError('ResourceNotFound', `Thing ${thingName} does not exist`);
  }
}

const missing = (jobId: string, thingName: string, executionNumber?: number) =>
  new DeviceJobsError(
    'ResourceNotFound',
    `No execution${executionNumber !== undefined ? ` ${executionNumber}` : ''} of job ${jobId} exists on thing ${thingName}`,
  );
