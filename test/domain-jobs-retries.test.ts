// Retries: config limits, which failures retry, per-criterion budgets, and the next attempt's numbers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ExecutionStatus } from '../src/domain/jobs/execution-state.ts';
import { checkRetryConfig, decideRetry, MAX_TOTAL_RETRIES, type RetryConfig, type RetryInput } from '../src/domain/jobs/retries.ts';

const withTimeout = { hasTimeoutConfig: true };
const cfg = (...criteria: [RetryConfig['criteriaList'][number]['failureType'], number][]): RetryConfig => ({
  criteriaList: criteria.map(([failureType, numberOfRetries]) => ({ failureType, numberOfRetries })),
});
const input = (attempts: ExecutionStatus[], over: Partial<RetryInput> = {}): RetryInput => ({
  attempts,
  highestExecutionNumber: attempts.length,
  jobStatus: 'IN_PROGRESS',
  ...over,
});

test('config: 1 or 2 criteria, 0..10 each, 10 in total', () => {
  assert.deepEqual(checkRetryConfig(cfg(['FAILED', 10]), withTimeout), []);
  assert.deepEqual(checkRetryConfig(cfg(['FAILED', 0]), withTimeout), []);
  assert.deepEqual(checkRetryConfig(cfg(['FAILED', 4], ['TIMED_OUT', 6]), withTimeout), []);
  assert.match(checkRetryConfig(cfg(['FAILED', 5], ['TIMED_OUT', 6]), withTimeout)[0], /must not exceed 10, got 11/);
  assert.match(checkRetryConfig(cfg(['FAILED', 11]), withTimeout)[0], /between 0 and 10/);
  assert.match(checkRetryConfig(cfg(['FAILED', -1]), withTimeout)[0], /between 0 and 10/);
  assert.match(checkRetryConfig(cfg(), withTimeout)[0], /1 or 2/);
  assert.match(checkRetryConfig(cfg(['FAILED', 1], ['TIMED_OUT', 1], ['ALL', 1]), withTimeout)[0], /1 or 2/);
  assert.match(checkRetryConfig(cfg(['REJECTED' as 'FAILED', 1]), withTimeout)[0], /failureType/);
});

test('config: a type only once, ALL alone, TIMED_OUT only with a timeout config', () => {
  assert.match(checkRetryConfig(cfg(['FAILED', 1], ['FAILED', 2]), withTimeout)[0], /only once/);
  assert.match(checkRetryConfig(cfg(['ALL', 1], ['FAILED', 2]), withTimeout)[0], /ALL cannot be combined/);
  assert.match(checkRetryConfig(cfg(['TIMED_OUT', 1]), { hasTimeoutConfig: false })[0], /timeoutConfig/);
  assert.deepEqual(checkRetryConfig(cfg(['ALL', 3]), { hasTimeoutConfig: false }), []);
});

test('FAILED and TIMED_OUT retry; SUCCEEDED, REJECTED, CANCELED and REMOVED never do', () => {
  const config = cfg(['ALL', 3]);
  for (const s of ['FAILED', 'TIMED_OUT'] as const) assert.equal(decideRetry(config, input([s])).retry, true, s);
  for (const s of ['SUCCEEDED', 'REJECTED', 'CANCELED', 'REMOVED'] as const) assert.equal(decideRetry(config, input([s])).retry, false, s);
});

test('the first retry gets the next executionNumber and retryAttempt 1', () => {
  assert.deepEqual(decideRetry(cfg(['FAILED', 2]), input(['FAILED'], { highestExecutionNumber: 4 })), { retry: true, executionNumber: 5, retryAttempt: 1 });
});

test('numberOfRetries N allows exactly N retries', () => {
  const config = cfg(['FAILED', 2]);
  assert.equal(decideRetry(config, input(['FAILED'])).retry, true);
  assert.deepEqual(decideRetry(config, input(['FAILED', 'FAILED'])), { retry: true, executionNumber: 3, retryAttempt: 2 });
  assert.equal(decideRetry(config, input(['FAILED', 'FAILED', 'FAILED'])).retry, false);
  assert.equal(decideRetry(cfg(['FAILED', 0]), input(['FAILED'])).retry, false);
});

test('each type spends its own budget', () => {
  const config = cfg(['FAILED', 1], ['TIMED_OUT', 2]);
  assert.equal(decideRetry(config, input(['FAILED', 'TIMED_OUT'])).retry, true);
  assert.equal(decideRetry(config, input(['FAILED', 'TIMED_OUT', 'TIMED_OUT'])).retry, true);
  assert.equal(decideRetry(config, input(['FAILED', 'TIMED_OUT', 'TIMED_OUT', 'TIMED_OUT'])).retry, false);
  assert.equal(decideRetry(config, input(['FAILED', 'FAILED'])).retry, false);
  assert.equal(decideRetry(cfg(['FAILED', 3]), input(['TIMED_OUT'])).retry, false, 'no criterion for TIMED_OUT');
});

test('ALL shares one budget across FAILED and TIMED_OUT', () => {
  const config = cfg(['ALL', 2]);
  assert.equal(decideRetry(config, input(['FAILED', 'TIMED_OUT'])).retry, true);
  assert.equal(decideRetry(config, input(['FAILED', 'TIMED_OUT', 'FAILED'])).retry, false);
});

test('never more than 10 retries in total', () => {
  const config = cfg(['ALL', 10]);
  const ten = Array<ExecutionStatus>(10).fill('FAILED');
  assert.deepEqual(decideRetry(config, input(ten)), { retry: true, executionNumber: 11, retryAttempt: 10 });
  assert.equal(decideRetry(config, input([...ten, 'FAILED'])).retry, false);
  assert.equal(MAX_TOTAL_RETRIES, 10);
});

test('no retries without a config, without an ended attempt, or once the job is no longer active', () => {
  assert.equal(decideRetry(undefined, input(['FAILED'])).retry, false);
  assert.equal(decideRetry(cfg(['FAILED', 1]), input([])).retry, false);
  for (const jobStatus of ['CANCELED', 'COMPLETED', 'DELETION_IN_PROGRESS'] as const) {
    const r = decideRetry(cfg(['FAILED', 1]), input(['FAILED'], { jobStatus }));
    assert.equal(r.retry, false, jobStatus);
    assert.match(!r.retry ? r.reason : '', new RegExp(jobStatus));
  }
  assert.equal(decideRetry(cfg(['FAILED', 1]), input(['FAILED'], { jobStatus: 'SCHEDULED' })).retry, true, 'between windows');
});
