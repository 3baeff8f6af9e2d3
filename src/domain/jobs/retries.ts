// Execution retries (jobs-semantics §2.8): a FAILED or TIMED_OUT execution with retries left is queued again
// as a new attempt with a new executionNumber. REJECTED, CANCELED and REMOVED are final for the thing.

import type { ExecutionStatus } from './execution-state.ts';
import type { JobStatus } from './job-state.ts';

export type RetryFailureType = 'FAILED' | 'TIMED_OUT' | 'ALL';

export interface RetryCriteria {
  failureType: RetryFailureType;
  numberOfRetries: number;
}

export interface RetryConfig {
  criteriaList: RetryCriteria[];
}

/** Retries per thing across all criteria together. */
export const MAX_TOTAL_RETRIES = 10;

/**
 * Every problem with a retry config; empty when it is valid. Besides the documented limits (1–2 criteria,
 * 0–10 retries each, ≤ 10 in total, TIMED_OUT needs a timeout) a failure type may appear once, and ALL
 * cannot sit next to another type, since a failure would then match two budgets.
 */
export function checkRetryConfig(config: RetryConfig, opts: { hasTimeoutConfig: boolean }): string[] {
  const list = config.criteriaList;
  if (!Array.isArray(list) || list.length < 1 || list.length > 2) return ['jobExecutionsRetryConfig.criteriaList needs 1 or 2 criteria'];
  const problems: string[] = [];
  let total = 0;
  list.forEach((c, i) => {
    const at = `jobExecutionsRetryConfig.criteriaList[${i}]`;
    if (!['FAILED', 'TIMED_OUT', 'ALL'].includes(c.failureType)) problems.push(`${at}.failureType must be one of FAILED, TIMED_OUT, ALL`);
    if (!Number.isInteger(c.numberOfRetries) || c.numberOfRetries < 0 || c.numberOfRetries > MAX_TOTAL_RETRIES) {
      problems.push(`${at}.numberOfRetries must be a whole number between 0 and ${MAX_TOTAL_RETRIES}`);
    } else total += c.numberOfRetries;
  });
  const types = list.map((c) => c.failureType);
  if (new Set(types).size !== types.length) problems.push('Each failureType may appear only once in jobExecutionsRetryConfig.criteriaList');
  else if (types.includes('ALL') && types.length > 1) problems.push('failureType ALL cannot be combined with another retry criterion');
  if (total > MAX_TOTAL_RETRIES) problems.push(`The retries of all criteria together must not exceed ${MAX_TOTAL_RETRIES}, got ${total}`);
  if (types.includes('TIMED_OUT') && !opts.hasTimeoutConfig) problems.push('Retrying TIMED_OUT executions needs a timeoutConfig on the job');
  return problems;
}

/** The criterion that pays for retrying a failure of this status: its own type first, else ALL. */
function criterionFor(config: RetryConfig, status: ExecutionStatus): RetryCriteria | undefined {
  if (status !== 'FAILED' && status !== 'TIMED_OUT') return undefined;
  return config.criteriaList.find((c) => c.failureType === status) ?? config.criteriaList.find((c) => c.failureType === 'ALL');
}

export interface RetryInput {
  /** Terminal statuses of this thing's attempts so far, oldest first; the last is the one that just ended. */
  attempts: readonly ExecutionStatus[];
  /** The highest executionNumber this job has used on this thing. */
  highestExecutionNumber: number;
  jobStatus: JobStatus;
}

export type RetryDecision = { retry: true; executionNumber: number; retryAttempt: number } | { retry: false; reason: string };

/**
 * Whether the attempt that just ended is retried. Earlier attempts that failed were each retried (there is a
 * later attempt), so each one used up one retry of the criterion its status maps to. A canceled or deleting
 * job retries nothing: abort and CancelJob drop queued retries. In a CONTINUOUS job, the caller starts
 * `attempts` afresh when the thing re-joins a target group, which resets the counter.
 */
export function decideRetry(config: RetryConfig | undefined, input: RetryInput): RetryDecision {
  const { attempts } = input;
  const last = attempts[attempts.length - 1];
  if (!config) return { retry: false, reason: 'The job has no retry configuration' };
  if (last === undefined) return { retry: false, reason: 'No attempt has ended' };
  if (input.jobStatus !== 'IN_PROGRESS' && input.jobStatus !== 'SCHEDULED') return { retry: false, reason: `The job is ${input.jobStatus}` };
  const criterion = criterionFor(config, last);
  if (!criterion) return { retry: false, reason: `A ${last} execution is not retried` };
  const used = attempts.slice(0, -1).filter((s) => criterionFor(config, s) === criterion).length;
  const usedTotal = attempts.length - 1;
  if (used >= criterion.numberOfRetries || usedTotal >= MAX_TOTAL_RETRIES) {
    return { retry: false, reason: `All ${criterion.numberOfRetries} ${criterion.failureType} retries are used` };
  }
  // retryAttempt counts the retries made so far, so the first retry carries 1; the original attempt had 0.
  return { retry: true, executionNumber: input.highestExecutionNumber + 1, retryAttempt: attempts.length };
}
