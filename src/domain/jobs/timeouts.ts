// Execution timers: the job-wide in-progress timer and the device-set step timer. Both only run while an
// execution is IN_PROGRESS; whichever deadline comes first turns it TIMED_OUT. Times are epoch milliseconds.

export const MIN_TIMEOUT_MINUTES = 1;
/** 7 days, the range the API reference gives for both timers. */
export const MAX_TIMEOUT_MINUTES = 10080;
/** A step timeout of -1 cancels the running step timer (UpdateJobExecution docs). */
export const CANCEL_STEP_TIMER = -1;

const MINUTE_MS = 60_000;

export interface TimeoutConfig {
  inProgressTimeoutInMinutes?: number;
}

/** Absolute deadlines of one execution; both absent when no timer runs (QUEUED, terminal, or no config). */
export interface ExecutionTimers {
  inProgressDeadlineAt?: number;
  stepDeadlineAt?: number;
}

const inRange = (m: number) => Number.isInteger(m) && m >= MIN_TIMEOUT_MINUTES && m <= MAX_TIMEOUT_MINUTES;

/** Why an in-progress timeout is refused, or undefined when it is valid. */
export function checkInProgressTimeout(minutes: number): string | undefined {
  if (inRange(minutes)) return undefined;
  return `inProgressTimeoutInMinutes must be a whole number of minutes between ${MIN_TIMEOUT_MINUTES} and ${MAX_TIMEOUT_MINUTES}, got ${minutes}`;
}

/** Why a step timeout is refused, or undefined when it is valid (-1 is valid: it cancels the step timer). */
export function checkStepTimeout(minutes: number): string | undefined {
  if (minutes === CANCEL_STEP_TIMER || inRange(minutes)) return undefined;
  return `stepTimeoutInMinutes must be -1 or a whole number of minutes between ${MIN_TIMEOUT_MINUTES} and ${MAX_TIMEOUT_MINUTES}, got ${minutes}`;
}

/**
 * The job's timeoutConfig can change only until an execution has started: the in-progress timer of a running
 * execution is fixed when it starts, and the docs say it "can't be updated" after that.
 */
export function timeoutConfigEditable(startedExecutions: number): boolean {
  return startedExecutions === 0;
}

/** Timers of an execution entering IN_PROGRESS at `at` (StartNext, or UpdateJobExecution from QUEUED). */
export function startTimers(at: number, config: TimeoutConfig | undefined, stepTimeoutInMinutes?: number): ExecutionTimers {
  const timers: ExecutionTimers = {};
  if (config?.inProgressTimeoutInMinutes !== undefined) timers.inProgressDeadlineAt = at + config.inProgressTimeoutInMinutes * MINUTE_MS;
  return applyStepTimeout(timers, at, stepTimeoutInMinutes);
}

/**
 * A new step timeout replaces the previous step timer; -1 cancels it; undefined leaves it as it is.
 * The step deadline never reaches past the in-progress deadline, so it is capped when set.
 */
export function applyStepTimeout(timers: ExecutionTimers, at: number, stepTimeoutInMinutes: number | undefined): ExecutionTimers {
  if (stepTimeoutInMinutes === undefined) return timers;
  const { stepDeadlineAt: _previous, ...rest } = timers;
  if (stepTimeoutInMinutes === CANCEL_STEP_TIMER) return rest;
  const step = at + stepTimeoutInMinutes * MINUTE_MS;
  const capped = rest.inProgressDeadlineAt === undefined ? step : Math.min(step, rest.inProgressDeadlineAt);
  return { ...rest, stepDeadlineAt: capped };
}

/** The moment the execution times out: the earlier of the two deadlines, undefined when no timer runs. */
export function deadlineOf(timers: ExecutionTimers): number | undefined {
  const { inProgressDeadlineAt: a, stepDeadlineAt: b } = timers;
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}
/**
 * The value shown in execution views while a timer runs. Rounded up so it reads 0 only once the timeout is
 * due; the sweep that applies it may run a little later (AWS allows up to 60 s), hence never negative.
 */
export function approximateSecondsBeforeTimedOut(timers: ExecutionTimers, now: number): number | undefined {
  const deadline = deadlineOf(timers);
  if (deadline === undefined) return undefined;
  return Math.max(0, Math.ceil((deadline - now) / 1000));
}
