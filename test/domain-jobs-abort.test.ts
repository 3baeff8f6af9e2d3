// Abort criteria: config checks, thresholds at and below the boundary, minNumberOfExecutedThings, types.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkAbortConfig, criterionMet, evaluateAbort, failuresOf, type AbortCounts, type AbortCriteria } from '../src/domain/jobs/abort.ts';

const crit = (over: Partial<AbortCriteria> = {}): AbortCriteria => ({
  failureType: 'FAILED',
  action: 'CANCEL',
  thresholdPercentage: 10,
  minNumberOfExecutedThings: 10,
  ...over,
});
const counts = (over: Partial<AbortCounts> = {}): AbortCounts => ({ executed: 0, failed: 0, rejected: 0, timedOut: 0, ...over });

test('config: at least one criterion, known type, CANCEL, 0-100 with two decimals, min ≥ 1', () => {
  assert.deepEqual(checkAbortConfig({ criteriaList: [crit()] }), []);
  assert.deepEqual(checkAbortConfig({ criteriaList: [crit({ thresholdPercentage: 10.99 }), crit({ thresholdPercentage: 100 })] }), []);
  assert.deepEqual(checkAbortConfig({ criteriaList: [crit({ thresholdPercentage: 0 })] }), []);
  assert.match(checkAbortConfig({ criteriaList: [] })[0], /at least one/);
  assert.match(checkAbortConfig({ criteriaList: [crit({ thresholdPercentage: 10.999 })] })[0], /two digits/);
  assert.match(checkAbortConfig({ criteriaList: [crit({ thresholdPercentage: 100.01 })] })[0], /thresholdPercentage/);
  assert.match(checkAbortConfig({ criteriaList: [crit({ thresholdPercentage: -1 })] })[0], /thresholdPercentage/);
  assert.match(checkAbortConfig({ criteriaList: [crit({ minNumberOfExecutedThings: 0 })] })[0], /minNumberOfExecutedThings/);
  assert.match(checkAbortConfig({ criteriaList: [crit({ action: 'PAUSE' as 'CANCEL' })] })[0], /CANCEL/);
  assert.match(checkAbortConfig({ criteriaList: [crit({ failureType: 'CANCELED' as 'FAILED' })] })[0], /failureType/);
});

test('failure types: ALL adds FAILED, REJECTED and TIMED_OUT', () => {
  const c = counts({ failed: 1, rejected: 2, timedOut: 4 });
  assert.deepEqual(
    ['FAILED', 'REJECTED', 'TIMED_OUT', 'ALL'].map((t) => failuresOf(t as AbortCriteria['failureType'], c)),
    [1, 2, 4, 7],
  );
});

test('below minNumberOfExecutedThings nothing fires, even at 100 % failures', () => {
  assert.equal(criterionMet(crit(), counts({ executed: 9, failed: 9 })), false);
  assert.equal(criterionMet(crit(), counts({ executed: 10, failed: 9 })), true);
});

test('exactly at the threshold fires; one failure fewer does not', () => {
  assert.equal(criterionMet(crit(), counts({ executed: 100, failed: 10 })), true);
  assert.equal(criterionMet(crit(), counts({ executed: 100, failed: 9 })), false);
});

test('two-decimal thresholds compare exactly: 1 of 3 reaches 33.33 % but not 33.34 %', () => {
  const c = counts({ executed: 3, failed: 1 });
  assert.equal(criterionMet(crit({ thresholdPercentage: 33.33, minNumberOfExecutedThings: 1 }), c), true);
  assert.equal(criterionMet(crit({ thresholdPercentage: 33.34, minNumberOfExecutedThings: 1 }), c), false);
});

test('a 0 % threshold still needs one failure; 100 % needs every executed thing to fail', () => {
  assert.equal(criterionMet(crit({ thresholdPercentage: 0 }), counts({ executed: 50 })), false);
  assert.equal(criterionMet(crit({ thresholdPercentage: 0 }), counts({ executed: 50, failed: 1 })), true);
  assert.equal(criterionMet(crit({ thresholdPercentage: 100 }), counts({ executed: 50, failed: 49 })), false);
  assert.equal(criterionMet(crit({ thresholdPercentage: 100 }), counts({ executed: 50, failed: 50 })), true);
});

test('each criterion counts only its own failure type', () => {
  const c = counts({ executed: 10, rejected: 5 });
  assert.equal(criterionMet(crit({ failureType: 'FAILED' }), c), false);
  assert.equal(criterionMet(crit({ failureType: 'REJECTED' }), c), true);
  assert.equal(criterionMet(crit({ failureType: 'TIMED_OUT' }), c), false);
  assert.equal(criterionMet(crit({ failureType: 'ALL', thresholdPercentage: 60 }), counts({ executed: 10, failed: 2, rejected: 2, timedOut: 2 })), true);
});

test('evaluateAbort returns the first criterion met, in list order', () => {
  const timedOut = crit({ failureType: 'TIMED_OUT', thresholdPercentage: 50 });
  const all = crit({ failureType: 'ALL', thresholdPercentage: 20 });
  const config = { criteriaList: [crit({ thresholdPercentage: 90 }), timedOut, all] };
  assert.equal(evaluateAbort(config, counts({ executed: 10, timedOut: 5 })), timedOut);
  assert.equal(evaluateAbort(config, counts({ executed: 10, failed: 2 })), all);
  assert.equal(evaluateAbort(config, counts({ executed: 10, failed: 1 })), undefined);
  assert.equal(evaluateAbort(undefined, counts({ executed: 10, failed: 10 })), undefined);
});
