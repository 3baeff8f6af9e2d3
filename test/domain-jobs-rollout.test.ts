// Rollout pacing: config checks, constant and exponential rates, and the sliding one-minute window.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  checkRolloutConfig,
  currentRatePerMinute,
  DEFAULT_MAX_PER_MINUTE,
  rateIncreases,
  rolloutAllowance,
  type RolloutConfig,
} from '../src/domain/jobs/rollout.ts';

const NOW = Date.UTC(2025, 2, 1, 8, 0);
const exp = (base: number, factor: number, n?: number, s?: number): RolloutConfig => ({
  exponentialRate: { baseRatePerMinute: base, incrementFactor: factor, rateIncreaseCriteria: { numberOfNotifiedThings: n, numberOfSucceededThings: s } },
});
const none = { notified: 0, succeeded: 0 };

test('config: maximumPerMinute 1..1000', () => {
  assert.deepEqual(checkRolloutConfig({ maximumPerMinute: 1 }), []);
  assert.deepEqual(checkRolloutConfig({ maximumPerMinute: 1000 }), []);
  assert.equal(checkRolloutConfig({ maximumPerMinute: 0 }).length, 1);
  assert.equal(checkRolloutConfig({ maximumPerMinute: 1001 }).length, 1);
  assert.equal(checkRolloutConfig({ maximumPerMinute: 2.5 }).length, 1);
});

test('config: baseRatePerMinute 1..1000', () => {
  assert.deepEqual(checkRolloutConfig(exp(1, 2, 10)), []);
  assert.deepEqual(checkRolloutConfig(exp(1000, 2, 10)), []);
  assert.match(checkRolloutConfig(exp(0, 2, 10))[0], /baseRatePerMinute/);
  assert.match(checkRolloutConfig(exp(1001, 2, 10))[0], /baseRatePerMinute/);
});

test('config: incrementFactor 1.1..5 with one decimal', () => {
  for (const ok of [1.1, 1.5, 2, 4.9, 5]) assert.deepEqual(checkRolloutConfig(exp(10, ok, 10)), [], `${ok}`);
  for (const bad of [1, 1.0999, 1.55, 5.1, 0]) assert.match(checkRolloutConfig(exp(10, bad, 10))[0] ?? '', /incrementFactor/, `${bad}`);
});

test('config: rateIncreaseCriteria needs one count of at least 1', () => {
  assert.match(checkRolloutConfig(exp(10, 2))[0], /needs/);
  assert.deepEqual(checkRolloutConfig(exp(10, 2, undefined, 1)), []);
  assert.match(checkRolloutConfig(exp(10, 2, 0))[0], /numberOfNotifiedThings/);
  assert.match(checkRolloutConfig(exp(10, 2, undefined, -1))[0], /numberOfSucceededThings/);
});

test('no config: the 1000/min default; constant: maximumPerMinute', () => {
  assert.equal(currentRatePerMinute(undefined, none), DEFAULT_MAX_PER_MINUTE);
  assert.equal(currentRatePerMinute({}, none), 1000);
  assert.equal(currentRatePerMinute({ maximumPerMinute: 7 }, { notified: 10_000, succeeded: 10_000 }), 7);
});

test('exponential: the developer guide example, 50 ×2 every 1000 notified', () => {
  const c = exp(50, 2, 1000);
  const at = (notified: number) => currentRatePerMinute(c, { notified, succeeded: 0 });
  assert.deepEqual([at(0), at(999), at(1000), at(1999), at(2000), at(3000)], [50, 50, 100, 100, 200, 400]);
});

test('exponential: whichever criterion is further ahead decides', () => {
  const c = exp(50, 2, 1000, 100);
  assert.equal(rateIncreases(c.exponentialRate!.rateIncreaseCriteria, { notified: 999, succeeded: 99 }), 0);
  assert.equal(rateIncreases(c.exponentialRate!.rateIncreaseCriteria, { notified: 999, succeeded: 100 }), 1);
  assert.equal(rateIncreases(c.exponentialRate!.rateIncreaseCriteria, { notified: 1000, succeeded: 0 }), 1);
  assert.equal(currentRatePerMinute(c, { notified: 1500, succeeded: 300 }), 400);
});

test('exponential: base × factor^k rounded down, computed exactly', () => {
  const c = exp(50, 1.5, 1);
  assert.deepEqual(
    [0, 1, 2, 3].map((n) => currentRatePerMinute(c, { notified: n, succeeded: 0 })),
    [50, 75, 112, 168],
  );
  assert.equal(currentRatePerMinute(exp(50, 1.1, 1), { notified: 2, succeeded: 0 }), 60, '50 × 1.21 = 60.5');
  assert.equal(currentRatePerMinute(exp(1, 1.1, 1), { notified: 1, succeeded: 0 }), 1, 'never below 1');
});

test('exponential: capped by maximumPerMinute when both are set, else at 1000', () => {
  assert.equal(currentRatePerMinute({ ...exp(50, 2, 1), maximumPerMinute: 120 }, { notified: 5, succeeded: 0 }), 120);
  assert.equal(currentRatePerMinute(exp(500, 5, 1), { notified: 1_000_000, succeeded: 0 }), 1000);
});

test('window: the budget is the rate minus notifications of the last 60 s', () => {
  const c = { maximumPerMinute: 3 };
  assert.deepEqual(rolloutAllowance(c, none, [], NOW), { allowed: 3, ratePerMinute: 3 });
  assert.deepEqual(rolloutAllowance(c, none, [NOW - 10_000], NOW), { allowed: 2, ratePerMinute: 3 });
});

test('window: a notification counts until exactly 60 s have passed', () => {
  const c = { maximumPerMinute: 1 };
  assert.equal(rolloutAllowance(c, none, [NOW - 59_999], NOW).allowed, 0);
  assert.equal(rolloutAllowance(c, none, [NOW - 60_000], NOW).allowed, 1);
});

test('window: when full, nextAllowedAt is when the oldest counted notification leaves', () => {
  const c = { maximumPerMinute: 2 };
  const r = rolloutAllowance(c, none, [NOW - 30_000, NOW - 50_000, NOW - 70_000], NOW);
  assert.deepEqual(r, { allowed: 0, ratePerMinute: 2, nextAllowedAt: NOW + 10_000 });
  assert.equal(rolloutAllowance(c, none, [NOW - 30_000, NOW - 50_000], NOW + 10_000).allowed, 1);
});

test('window: over budget (rate dropped or clock skew) waits for enough entries to leave', () => {
  const recent = [NOW - 5_000, NOW - 40_000, NOW + 1_000];
  const two = rolloutAllowance({ maximumPerMinute: 2 }, none, recent, NOW);
  assert.equal(two.allowed, 0);
  assert.equal(two.nextAllowedAt, NOW - 5_000 + 60_000, 'two must leave: the second oldest decides');
  const one = rolloutAllowance({ maximumPerMinute: 1 }, none, recent, NOW);
  assert.equal(one.nextAllowedAt, NOW + 1_000 + 60_000, 'all three must leave, the future one last');
  assert.equal(rolloutAllowance({ maximumPerMinute: 1 }, none, recent, NOW + 61_000).allowed, 1);
});

test('window: a rate increase enlarges the budget at once', () => {
  const c = exp(2, 2, 2);
  const recent = [NOW - 1000, NOW - 2000];
  assert.equal(rolloutAllowance(c, { notified: 1, succeeded: 0 }, recent, NOW).allowed, 0);
  assert.equal(rolloutAllowance(c, { notified: 2, succeeded: 0 }, recent, NOW).allowed, 2);
});
