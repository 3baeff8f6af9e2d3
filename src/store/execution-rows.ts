// Execution rows and the domain's execution state, both ways: what a state change writes.
import type { ExecutionState, ExecutionStatus } from '../domain/jobs/execution-state.ts';
import type { JobExecutionRow } from './schema.ts';

const parsed = <T>(text: string | null): T | undefined => (text === null ? undefined : (JSON.parse(text) as T));

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
type StateColumns =
  | 'status'
  | 'version_number'
  | 'status_details'
  | 'started_at'
  | 'last_updated_at'
  | 'force_canceled'
  | 'in_progress_deadline_at'
  | 'step_deadline_at';

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
