// Execution timers: ranges, deadlines at the boundary, step timer replacement and capping.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  applyStepTimeout,
  approximateSecondsBeforeTimedOut,
  checkInProgressTimeout,
  checkStepTimeout,
  deadlineOf,
  startTimers,
  timeoutConfigEditable,
} from '../src/domain/jobs/timeouts.ts';

const T0 = Date.UTC(2025, 3, 1, 9, 0);
const MIN = 60_000;

test('in-progress timeout: 1..10080 whole minutes', () => {
  for (const ok of [1, 60, 10080]) assert.equal(checkInProgressTimeout(ok), undefined);
  for (const bad of [0, -1, 10081, 1.5]) assert.match(checkInProgressTimeout(bad) ?? '', /between 1 and 10080/);
});

test('step timeout: 1..10080 or -1', () => {
  for (const ok of [-1, 1, 10080]) assert.equal(checkStepTimeout(ok), undefined);
  for (const bad of [0, -2, 10081, 2.5]) assert.match(checkStepTimeout(bad) ?? '', /-1 or/);
});

test('timeoutConfig can change only until an execution has started', () => {
  assert.equal(timeoutConfigEditable(0), true);
  assert.equal(timeoutConfigEditable(1), false);
});

test('starting arms the in-progress timer from the start instant', () => {
  assert.deepEqual(startTimers(T0, { inProgressTimeoutInMinutes: 30 }), { inProgressDeadlineAt: T0 + 30 * MIN });
  assert.deepEqual(startTimers(T0, undefined), {});
  assert.deepEqual(startTimers(T0, {}, 5), { stepDeadlineAt: T0 + 5 * MIN });
});

test('the in-progress deadline is due at exactly N minutes, not a millisecond before', () => {
  const timers = startTimers(T0, { inProgressTimeoutInMinutes: 30 });
  // The engine times out an execution once now >= deadlineOf(timers).
  assert.equal(deadlineOf(timers), T0 + 30 * MIN);
  assert.equal(deadlineOf({}), undefined, 'no timer, no timeout');
});

test('the step deadline is due at exactly its minutes', () => {
  const timers = startTimers(T0, undefined, 10);
  assert.equal(deadlineOf(timers), T0 + 10 * MIN);
});

test('a new step timeout replaces the old one, counted from the update', () => {
  const a = startTimers(T0, { inProgressTimeoutInMinutes: 100 }, 10);
  const b = applyStepTimeout(a, T0 + 8 * MIN, 10);
  assert.equal(b.stepDeadlineAt, T0 + 18 * MIN);
  assert.equal(deadlineOf(b), T0 + 18 * MIN);
  const shorter = applyStepTimeout(b, T0 + 9 * MIN, 1);
  assert.equal(shorter.stepDeadlineAt, T0 + 10 * MIN, 'a shorter step replaces a longer one too');
});

test('undefined keeps the step timer, -1 cancels it and leaves the in-progress timer', () => {
  const a = startTimers(T0, { inProgressTimeoutInMinutes: 100 }, 10);
  assert.equal(applyStepTimeout(a, T0 + MIN, undefined), a);
  assert.deepEqual(applyStepTimeout(a, T0 + MIN, -1), { inProgressDeadlineAt: T0 + 100 * MIN });
});

test('the step timer never reaches past the in-progress deadline', () => {
  const a = startTimers(T0, { inProgressTimeoutInMinutes: 30 }, 60);
  assert.equal(a.stepDeadlineAt, T0 + 30 * MIN);
  const b = applyStepTimeout(a, T0 + 25 * MIN, 10);
  assert.equal(b.stepDeadlineAt, T0 + 30 * MIN);
  assert.equal(deadlineOf(b), T0 + 30 * MIN);
});

test('the earlier deadline wins', () => {
  assert.equal(deadlineOf({ inProgressDeadlineAt: 5, stepDeadlineAt: 3 }), 3);
  assert.equal(deadlineOf({ inProgressDeadlineAt: 5 }), 5);
  assert.equal(deadlineOf({ stepDeadlineAt: 3 }), 3);
  assert.equal(deadlineOf({}), undefined);
});

test('approximateSecondsBeforeTimedOut rounds up, is 0 once due, absent without timers', () => {
  const timers = startTimers(T0, { inProgressTimeoutInMinutes: 1 });
  assert.equal(approximateSecondsBeforeTimedOut(timers, T0), 60);
  assert.equal(approximateSecondsBeforeTimedOut(timers, T0 + 59_001), 1);
  assert.equal(approximateSecondsBeforeTimedOut(timers, T0 + 59_999), 1);
  assert.equal(approximateSecondsBeforeTimedOut(timers, T0 + 60_000), 0);
  assert.equal(approximateSecondsBeforeTimedOut(timers, T0 + 90_000), 0, 'a late sweep never shows a negative value');
  assert.equal(approximateSecondsBeforeTimedOut({}, T0), undefined);
});
