// The job execution state machine (jobs-semantics §2.5/§2.6): what a device may ask for, what the control
// plane does, and how versionNumber, statusDetails, startedAt and the timers move with each change.
// Refusals are values, not throws; `kind` names the AWS error family the wire layer maps to a code.

import { applyStepTimeout, checkStepTimeout, startTimers, type ExecutionTimers, type TimeoutConfig } from './timeouts.ts';

export const EXECUTION_STATUSES = ['QUEUED', 'IN_PROGRESS', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'REJECTED', 'REMOVED', 'CANCELED'] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

/** Everything except QUEUED and IN_PROGRESS is final: no later request can move it. */
export function isTerminal(status: ExecutionStatus): boolean {
  return status !== 'QUEUED' && status !== 'IN_PROGRESS';
}

/** The statuses a device may report through UpdateJobExecution. */
export const DEVICE_STATUSES: readonly ExecutionStatus[] = ['IN_PROGRESS', 'SUCCEEDED', 'FAILED', 'REJECTED'];

export const MAX_STATUS_DETAILS = 10;
export const MAX_STATUS_DETAIL_VALUE = 1024;

export interface ExecutionState {
  status: ExecutionStatus;
  /** Starts at 1 and grows by one with every change, whoever makes it. */
  versionNumber: number;
  statusDetails?: Record<string, string>;
  queuedAt: number;
  startedAt?: number;
  lastUpdatedAt: number;
  forceCanceled?: boolean;
  timers: ExecutionTimers;
}

/**
 * Wire mapping: InvalidRequest → InvalidRequestException / MQTT InvalidRequest; InvalidStateTransition →
 * InvalidStateTransitionException / MQTT InvalidStateTransition; VersionConflict → control-plane
 * VersionConflictException, data-plane InvalidStateTransitionException, MQTT VersionMismatch; TerminalState →
 * TerminalStateException / MQTT TerminalStateReached. MQTT errors of the middle two carry `current`.
 */
export type ExecutionRefusalKind = 'InvalidRequest' | 'InvalidStateTransition' | 'VersionConflict' | 'TerminalState';
export type ExecutionResult = { ok: true; state: ExecutionState } | { ok: false; kind: ExecutionRefusalKind; message: string; current: ExecutionState };

const refuse = (current: ExecutionState, kind: ExecutionRefusalKind, message: string): ExecutionResult => ({ ok: false, kind, message, current });

/** A new execution, as fan-out creates it. */
export function newExecution(at: number): ExecutionState {
  return { status: 'QUEUED', versionNumber: 1, queuedAt: at, lastUpdatedAt: at, timers: {} };
}

/** Why a statusDetails map is refused (InvalidRequest), or undefined when it is valid. */
export function checkStatusDetails(details: Record<string, string>): string | undefined {
  const entries = Object.entries(details);
  if (entries.length > MAX_STATUS_DETAILS) return `statusDetails may hold at most ${MAX_STATUS_DETAILS} entries, got ${entries.length}`;
  for (const [key, value] of entries) {
    if (!/^[a-zA-Z0-9:_-]{1,128}$/.test(key)) return `statusDetails key '${key}' must be 1-128 characters of [a-zA-Z0-9:_-]`;
    if (typeof value !== 'string' || value.length < 1 || value.length > MAX_STATUS_DETAIL_VALUE || !/^[^\p{C}]+$/u.test(value)) {
      return `statusDetails value of '${key}' must be 1-${MAX_STATUS_DETAIL_VALUE} characters without control characters`;
    }
  }
  return undefined;
}

// Common to every change: bump the version, stamp the time, replace (not merge) statusDetails when given,
// and drop the timers once the execution is terminal.
function change(state: ExecutionState, status: ExecutionStatus, at: number, details: Record<string, string> | undefined): ExecutionState {
  const next: ExecutionState = { ...state, status, versionNumber: state.versionNumber + 1, lastUpdatedAt: at };
  if (details !== undefined) next.statusDetails = { ...details };
  if (isTerminal(status)) next.timers = {};
  return next;
}

function versionMismatch(state: ExecutionState, expectedVersion: number | undefined): ExecutionResult | undefined {
  if (expectedVersion === undefined || expectedVersion === state.versionNumber) return undefined;
  return refuse(state, 'VersionConflict', `Expected version ${expectedVersion} but the job execution is at version ${state.versionNumber}`);
}

export interface DeviceUpdate {
  status: ExecutionStatus;
  statusDetails?: Record<string, string>;
  expectedVersion?: number;
  stepTimeoutInMinutes?: number;
}

export interface TransitionContext {
  at: number;
  /** The job's timeoutConfig: it arms the in-progress timer when the execution starts. */
  timeoutConfig?: TimeoutConfig;
}

/**
 * UpdateJobExecution. Checks run malformed request → version → transition, so a stale device learns that its
 * view is stale (VersionConflict carries the current state) before being told its move is invalid.
 */
export function deviceUpdate(state: ExecutionState, request: DeviceUpdate, ctx: TransitionContext): ExecutionResult {
  const { status } = request;
  // QUEUED is a real state a device can never return to; the other service-only statuses are not requests at all.
  if (status === 'QUEUED') return refuse(state, 'InvalidStateTransition', 'A job execution cannot be set back to QUEUED');
  if (!DEVICE_STATUSES.includes(status)) return refuse(state, 'InvalidRequest', `A device cannot set a job execution to ${status}`);
  const detailsProblem = request.statusDetails && checkStatusDetails(request.statusDetails);
  if (detailsProblem) return refuse(state, 'InvalidRequest', detailsProblem);
  const stepProblem = request.stepTimeoutInMinutes !== undefined && checkStepTimeout(request.stepTimeoutInMinutes);
  if (stepProblem) return refuse(state, 'InvalidRequest', stepProblem);
  const stale = versionMismatch(state, request.expectedVersion);
  if (stale) return stale;
  if (isTerminal(state.status)) {
    return refuse(state, 'InvalidStateTransition', `The job execution is already ${state.status}; it cannot change to ${status}`);
  }
  const next = change(state, status, ctx.at, request.statusDetails);
  if (status === 'IN_PROGRESS') {
    if (state.status === 'QUEUED') {
      next.startedAt = ctx.at;
      next.timers = startTimers(ctx.at, ctx.timeoutConfig, request.stepTimeoutInMinutes);
    } else {
      // IN_PROGRESS again: the in-progress timer keeps running; only a new step timeout replaces the step timer.
      next.timers = applyStepTimeout(state.timers, ctx.at, request.stepTimeoutInMinutes);
    }
  }
  return { ok: true, state: next };
}

/**
 * StartNextPendingJobExecution on the execution it picked. A QUEUED pick starts and takes the request's
 * details; an IN_PROGRESS pick is returned untouched (same version, details and timers).
 */
export function startNext(
  state: ExecutionState,
  request: { statusDetails?: Record<string, string>; stepTimeoutInMinutes?: number },
  ctx: TransitionContext,
): ExecutionResult {
  const detailsProblem = request.statusDetails && checkStatusDetails(request.statusDetails);
  if (detailsProblem) return refuse(state, 'InvalidRequest', detailsProblem);
  const stepProblem = request.stepTimeoutInMinutes !== undefined && checkStepTimeout(request.stepTimeoutInMinutes);
  if (stepProblem) return refuse(state, 'InvalidRequest', stepProblem);
  if (state.status === 'IN_PROGRESS') return { ok: true, state };
  if (state.status !== 'QUEUED') return refuse(state, 'InvalidStateTransition', `A ${state.status} job execution is not pending`);
  return deviceUpdate(state, { status: 'IN_PROGRESS', ...request }, ctx);
}

/** DescribeJobExecution on the data plane answers TerminalState for a finished execution. */
export function deviceDescribe(state: ExecutionState): ExecutionResult {
  if (isTerminal(state.status)) return refuse(state, 'TerminalState', `The job execution is in the terminal state ${state.status}`);
  return { ok: true, state };
}

/** CancelJobExecution: QUEUED always; IN_PROGRESS only with force; a terminal execution stays as it is. */
export function cancelExecution(
  state: ExecutionState,
  request: { force?: boolean; expectedVersion?: number; statusDetails?: Record<string, string> },
  at: number,
): ExecutionResult {
  const detailsProblem = request.statusDetails && checkStatusDetails(request.statusDetails);
  if (detailsProblem) return refuse(state, 'InvalidRequest', detailsProblem);
  const stale = versionMismatch(state, request.expectedVersion);
  if (stale) return stale;
  if (isTerminal(state.status)) return refuse(state, 'InvalidStateTransition', `The job execution is already ${state.status}`);
  if (state.status === 'IN_PROGRESS' && !request.force) {
    return refuse(state, 'InvalidStateTransition', 'An IN_PROGRESS job execution can only be canceled with force=true');
  }
  // forceCanceled mirrors the request's flag, as the model words it ("canceled with the optional force parameter").
  return { ok: true, state: { ...change(state, 'CANCELED', at, request.statusDetails), forceCanceled: request.force === true } };
}

/** Which executions a job-level cancel reaches: CancelJob without force, abort and endBehavior CANCEL take QUEUED only. */
export type CancelScope = 'QUEUED' | 'QUEUED_AND_IN_PROGRESS';

/** The execution after a job-level cancel, or undefined when the cancel leaves it alone (never an error). */
export function cancelForJob(state: ExecutionState, scope: CancelScope, at: number): ExecutionState | undefined {
  if (state.status === 'QUEUED' || (state.status === 'IN_PROGRESS' && scope === 'QUEUED_AND_IN_PROGRESS')) {
    return { ...change(state, 'CANCELED', at, undefined), forceCanceled: scope === 'QUEUED_AND_IN_PROGRESS' };
  }
  return undefined;
}

/** The sweep found a due timer. Only IN_PROGRESS executions have timers. */
export function timeOut(state: ExecutionState, at: number): ExecutionResult {
  if (state.status !== 'IN_PROGRESS') return refuse(state, 'InvalidStateTransition', `A ${state.status} job execution cannot time out`);
  return { ok: true, state: change(state, 'TIMED_OUT', at, undefined) };
}

/** The thing stopped being a target (left the group, was deleted): unfinished work is REMOVED. */
export function removeExecution(state: ExecutionState, at: number): ExecutionResult {
  if (isTerminal(state.status)) return refuse(state, 'InvalidStateTransition', `The job execution is already ${state.status}`);
  return { ok: true, state: change(state, 'REMOVED', at, undefined) };
}

/** DeleteJobExecution: terminal executions always; an unfinished one only with force. */
export function checkDeleteExecution(state: ExecutionState, force: boolean): ExecutionResult {
  if (isTerminal(state.status) || force) return { ok: true, state };
  return refuse(state, 'InvalidStateTransition', `A ${state.status} job execution can only be deleted with force=true`);
}
