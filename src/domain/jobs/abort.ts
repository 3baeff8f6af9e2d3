// Abort criteria (jobs-semantics §2.10): when enough of the things that received a job have failed in a given
// way, the job is canceled (see abortJob in job-state.ts for what that does to the executions).

export type AbortFailureType = 'FAILED' | 'REJECTED' | 'TIMED_OUT' | 'ALL';

export interface AbortCriteria {
  failureType: AbortFailureType;
  action: 'CANCEL';
  /** 0–100 with at most two decimals. */
  thresholdPercentage: number;
  minNumberOfExecutedThings: number;
}

export interface AbortConfig {
  criteriaList: AbortCriteria[];
}

/**
 * The population the criteria look at. `executed` is the number of things that have received the job
 * (been notified), which is what minNumberOfExecutedThings counts; the failure figures are things whose
 * latest execution ended that way, so a thing that succeeded on a retry is no longer a failure.
 */
export interface AbortCounts {
  executed: number;
  failed: number;
  rejected: number;
  timedOut: number;
}

const FAILURE_TYPES: readonly string[] = ['FAILED', 'REJECTED', 'TIMED_OUT', 'ALL'];

/** Every problem with an abort config; empty when it is valid. */
export function checkAbortConfig(config: AbortConfig): string[] {
  const problems: string[] = [];
  if (!Array.isArray(config.criteriaList) || config.criteriaList.length === 0) return ['abortConfig.criteriaList needs at least one criterion'];
  config.criteriaList.forEach((c, i) => {
    const at = `abortConfig.criteriaList[${i}]`;
    if (!FAILURE_TYPES.includes(c.failureType)) problems.push(`${at}.failureType must be one of ${FAILURE_TYPES.join(', ')}`);
    if (c.action !== 'CANCEL') problems.push(`${at}.action must be CANCEL`);
    const hundredths = c.thresholdPercentage * 100;
    if (!(c.thresholdPercentage >= 0 && c.thresholdPercentage <= 100) || Math.abs(hundredths - Math.round(hundredths)) > 1e-6) {
      problems.push(`${at}.thresholdPercentage must be between 0 and 100 with at most two digits after the decimal point`);
    }
    if (!Number.isInteger(c.minNumberOfExecutedThings) || c.minNumberOfExecutedThings < 1) {
      problems.push(`${at}.minNumberOfExecutedThings must be a whole number of at least 1`);
    }
  });
  return problems;
}

/** The failures one criterion counts: ALL adds up FAILED, REJECTED and TIMED_OUT (never CANCELED or REMOVED). */
export function failuresOf(type: AbortFailureType, counts: AbortCounts): number {
  switch (type) {
    case 'FAILED':
      return counts.failed;
    case 'REJECTED':
      return counts.rejected;
    case 'TIMED_OUT':
      return counts.timedOut;
    case 'ALL':
      return counts.failed + counts.rejected + counts.timedOut;
  }
}

/**
 * Whether one criterion is met. It waits for minNumberOfExecutedThings; then it fires when failures reach
 * ("the minimum percentage … that must occur") the threshold of the executed things. Compared in integer
 * hundredths of a percent, so 1 of 3 things does not slip under a 33.33 % threshold by float rounding.
 * A criterion needs at least one failure: a 0 % threshold does not cancel a job nothing has failed in.
 */
export function criterionMet(criterion: AbortCriteria, counts: AbortCounts): boolean {
  if (counts.executed < criterion.minNumberOfExecutedThings || counts.executed <= 0) return false;
  const failures = failuresOf(criterion.failureType, counts);
  if (failures === 0) return false;
  const thresholdHundredths = Math.round(criterion.thresholdPercentage * 100);
  return failures * 100 * 100 >= thresholdHundredths * counts.executed;
}

/** The first criterion (in list order) that calls for an abort, or undefined when the job runs on. */
export function evaluateAbort(config: AbortConfig | undefined, counts: AbortCounts): AbortCriteria | undefined {
  return config?.criteriaList.find((c) => criterionMet(c, counts));
}
