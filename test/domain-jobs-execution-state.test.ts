// Every cell of the job execution state machine, plus versions, statusDetails and timers on each change.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  cancelExecution,
  cancelForJob,
  checkDeleteExecution,
  checkStatusDetails,
  deviceDescribe,
  deviceUpdate,
  EXECUTION_STATUSES,
  isTerminal,
  newExecution,
  removeExecution,
  startNext,
  timeOut,
  type ExecutionResult,
  type ExecutionState,
  type ExecutionStatus,
} from '../src/domain/jobs/execution-state.ts';

const T0 = Date.UTC(2025, 0, 1, 12, 0);
const MIN = 60_000;
const ctx = { at: T0 + MIN };

function stateIn(status: ExecutionStatus): ExecutionState {
  const s = newExecution(T0);
  return { ...s, status, versionNumber: status === 'QUEUED' ? 1 : 2, startedAt: status === 'QUEUED' ? undefined : T0 };
}

const outcome = (r: ExecutionResult) => (r.ok ? r.state.status : r.kind);
const TERMINAL: ExecutionStatus[] = ['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'REJECTED', 'REMOVED', 'CANCELED'];

test('terminal statuses are all but QUEUED and IN_PROGRESS', () => {
  assert.deepEqual(EXECUTION_STATUSES.filter(isTerminal), TERMINAL);
});

test('a new execution is QUEUED at version 1 with no timers', () => {
  assert.deepEqual(newExecution(T0), { status: 'QUEUED', versionNumber: 1, queuedAt: T0, lastUpdatedAt: T0, timers: {} });
});

// Device requests: every (from, requested) pair.
for (const from of EXECUTION_STATUSES) {
  for (const requested of EXECUTION_STATUSES) {
    let expected: string;
    if (requested === 'QUEUED') expected = 'InvalidStateTransition';
    else if (['CANCELED', 'TIMED_OUT', 'REMOVED'].includes(requested)) expected = 'InvalidRequest';
    else if (isTerminal(from)) expected = 'InvalidStateTransition';
    else expected = requested;
    test(`device update ${from} → ${requested}: ${expected}`, () => {
      const before = stateIn(from);
      const r = deviceUpdate(before, { status: requested }, ctx);
      assert.equal(outcome(r), expected);
      if (r.ok) {
        assert.equal(r.state.versionNumber, before.versionNumber + 1);
        assert.equal(r.state.lastUpdatedAt, ctx.at);
      } else {
        assert.deepEqual(r.current, before, 'a refusal reports the unchanged state');
        assert.ok(r.message.length > 0);
      }
    });
  }
}

// Control-plane operations on every status.
const CONTROL: Record<string, (s: ExecutionState) => ExecutionResult> = {
  cancel: (s) => cancelExecution(s, {}, ctx.at),
  'cancel force': (s) => cancelExecution(s, { force: true }, ctx.at),
  'time out': (s) => timeOut(s, ctx.at),
  remove: (s) => removeExecution(s, ctx.at),
  delete: (s) => checkDeleteExecution(s, false),
  'delete force': (s) => checkDeleteExecution(s, true),
  'device describe': (s) => deviceDescribe(s),
  'start next': (s) => startNext(s, {}, ctx),
};
const EXPECTED_CONTROL: Record<string, (from: ExecutionStatus) => string> = {
  cancel: (f) => (f === 'QUEUED' ? 'CANCELED' : 'InvalidStateTransition'),
  'cancel force': (f) => (isTerminal(f) ? 'InvalidStateTransition' : 'CANCELED'),
  'time out': (f) => (f === 'IN_PROGRESS' ? 'TIMED_OUT' : 'InvalidStateTransition'),
  remove: (f) => (isTerminal(f) ? 'InvalidStateTransition' : 'REMOVED'),
  delete: (f) => (isTerminal(f) ? f : 'InvalidStateTransition'),
  'delete force': (f) => f,
  'device describe': (f) => (isTerminal(f) ? 'TerminalState' : f),
  'start next': (f) => (isTerminal(f) ? 'InvalidStateTransition' : 'IN_PROGRESS'),
};
for (const [op, run] of Object.entries(CONTROL)) {
  for (const from of EXECUTION_STATUSES) {
    const expected = EXPECTED_CONTROL[op](from);
    test(`${op} on ${from}: ${expected}`, () => {
      const before = stateIn(from);
      const r = run(before);
      assert.equal(outcome(r), expected);
      const changes = r.ok && r.state.status !== from;
      if (r.ok) assert.equal(r.state.versionNumber, before.versionNumber + (changes ? 1 : 0));
    });
  }
}

test('forceCanceled follows the force flag of CancelJobExecution', () => {
  const queued = cancelExecution(stateIn('QUEUED'), {}, ctx.at);
  assert.equal(queued.ok && queued.state.forceCanceled, false);
  const forced = cancelExecution(stateIn('IN_PROGRESS'), { force: true }, ctx.at);
  assert.equal(forced.ok && forced.state.forceCanceled, true);
});

test('CancelJobExecution checks expectedVersion before the state and may replace statusDetails', () => {
  const s = stateIn('SUCCEEDED');
  assert.equal(outcome(cancelExecution(s, { expectedVersion: 1 }, ctx.at)), 'VersionConflict');
  const r = cancelExecution(stateIn('QUEUED'), { expectedVersion: 1, statusDetails: { why: 'superseded' } }, ctx.at);
  assert.ok(r.ok);
  assert.deepEqual(r.state.statusDetails, { why: 'superseded' });
  assert.equal(outcome(cancelExecution(stateIn('QUEUED'), { statusDetails: { 'bad key!': 'x' } }, ctx.at)), 'InvalidRequest');
});

test('job-level cancel: QUEUED only, or QUEUED and IN_PROGRESS; never touches terminal executions', () => {
  for (const from of EXECUTION_STATUSES) {
    const narrow = cancelForJob(stateIn(from), 'QUEUED', ctx.at);
    const wide = cancelForJob(stateIn(from), 'QUEUED_AND_IN_PROGRESS', ctx.at);
    assert.equal(narrow?.status, from === 'QUEUED' ? 'CANCELED' : undefined, `narrow ${from}`);
    assert.equal(wide?.status, isTerminal(from) ? undefined : 'CANCELED', `wide ${from}`);
  }
  assert.equal(cancelForJob(stateIn('IN_PROGRESS'), 'QUEUED_AND_IN_PROGRESS', ctx.at)?.forceCanceled, true);
  assert.equal(cancelForJob(stateIn('QUEUED'), 'QUEUED', ctx.at)?.forceCanceled, false);
});

test('expectedVersion: equal passes, different is a VersionConflict carrying the current state', () => {
  const s = stateIn('IN_PROGRESS');
  assert.equal(outcome(deviceUpdate(s, { status: 'SUCCEEDED', expectedVersion: 2 }, ctx)), 'SUCCEEDED');
  const r = deviceUpdate(s, { status: 'SUCCEEDED', expectedVersion: 1 }, ctx);
  assert.equal(r.ok, false);
  assert.equal(!r.ok && r.kind, 'VersionConflict');
  assert.deepEqual(!r.ok && r.current, s);
});

test('check order: malformed request, then version, then transition', () => {
  const terminal = stateIn('FAILED');
  assert.equal(outcome(deviceUpdate(terminal, { status: 'CANCELED', expectedVersion: 9 }, ctx)), 'InvalidRequest');
  assert.equal(outcome(deviceUpdate(terminal, { status: 'IN_PROGRESS', expectedVersion: 9 }, ctx)), 'VersionConflict');
  assert.equal(outcome(deviceUpdate(terminal, { status: 'IN_PROGRESS', expectedVersion: 2 }, ctx)), 'InvalidStateTransition');
  assert.equal(outcome(deviceUpdate(terminal, { status: 'SUCCEEDED', stepTimeoutInMinutes: 0 }, ctx)), 'InvalidRequest');
});

test('versionNumber grows by one with every change, whoever makes it', () => {
  let s = newExecution(T0);
  const steps: ((x: ExecutionState) => ExecutionResult)[] = [
    (x) => deviceUpdate(x, { status: 'IN_PROGRESS' }, ctx),
    (x) => deviceUpdate(x, { status: 'IN_PROGRESS', statusDetails: { pct: '50' } }, ctx),
    (x) => cancelExecution(x, { force: true }, ctx.at),
  ];
  steps.forEach((step, i) => {
    const r = step(s);
    assert.ok(r.ok);
    s = r.state;
    assert.equal(s.versionNumber, i + 2);
  });
});

test('statusDetails: omitted keeps the map, given replaces it (no merge)', () => {
  const a = deviceUpdate(stateIn('QUEUED'), { status: 'IN_PROGRESS', statusDetails: { step: 'download', pct: '10' } }, ctx);
  assert.ok(a.ok);
  const b = deviceUpdate(a.state, { status: 'IN_PROGRESS' }, ctx);
  assert.ok(b.ok);
  assert.deepEqual(b.state.statusDetails, { step: 'download', pct: '10' });
  const c = deviceUpdate(b.state, { status: 'IN_PROGRESS', statusDetails: { step: 'install' } }, ctx);
  assert.ok(c.ok);
  assert.deepEqual(c.state.statusDetails, { step: 'install' });
});

test('statusDetails limits: 10 entries, key pattern, value 1-1024 without control characters', () => {
  const ten = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}`, 'v']));
  assert.equal(checkStatusDetails(ten), undefined);
  assert.match(checkStatusDetails({ ...ten, k10: 'v' }) ?? '', /at most 10/);
  assert.equal(checkStatusDetails({ 'a:b_c-D9': 'x'.repeat(1024) }), undefined);
  assert.match(checkStatusDetails({ k: 'x'.repeat(1025) }) ?? '', /1-1024/);
  assert.match(checkStatusDetails({ k: '' }) ?? '', /1-1024/);
  assert.match(checkStatusDetails({ k: 'line\nbreak' }) ?? '', /control/);
  assert.match(checkStatusDetails({ 'sp ace': 'v' }) ?? '', /key/);
  assert.match(checkStatusDetails({ ['k'.repeat(129)]: 'v' }) ?? '', /key/);
  assert.equal(outcome(deviceUpdate(stateIn('QUEUED'), { status: 'IN_PROGRESS', statusDetails: { ...ten, k10: 'v' } }, ctx)), 'InvalidRequest');
});

test('startedAt is stamped on the first IN_PROGRESS only; QUEUED → terminal never starts', () => {
  const a = deviceUpdate(stateIn('QUEUED'), { status: 'IN_PROGRESS' }, ctx);
  assert.ok(a.ok);
  assert.equal(a.state.startedAt, ctx.at);
  const b = deviceUpdate(a.state, { status: 'IN_PROGRESS' }, { at: ctx.at + MIN });
  assert.ok(b.ok);
  assert.equal(b.state.startedAt, ctx.at);
  const c = deviceUpdate(stateIn('QUEUED'), { status: 'REJECTED' }, ctx);
  assert.ok(c.ok);
  assert.equal(c.state.startedAt, undefined);
});

test('timers: starting arms the in-progress and step timers; IN_PROGRESS again replaces only the step timer', () => {
  const timeoutConfig = { inProgressTimeoutInMinutes: 60 };
  const a = deviceUpdate(stateIn('QUEUED'), { status: 'IN_PROGRESS', stepTimeoutInMinutes: 10 }, { at: T0, timeoutConfig });
  assert.ok(a.ok);
  assert.deepEqual(a.state.timers, { inProgressDeadlineAt: T0 + 60 * MIN, stepDeadlineAt: T0 + 10 * MIN });
  const b = deviceUpdate(a.state, { status: 'IN_PROGRESS' }, { at: T0 + 5 * MIN, timeoutConfig });
  assert.ok(b.ok);
  assert.deepEqual(b.state.timers, a.state.timers, 'no stepTimeoutInMinutes: the step timer keeps running');
  const c = deviceUpdate(b.state, { status: 'IN_PROGRESS', stepTimeoutInMinutes: 20 }, { at: T0 + 5 * MIN, timeoutConfig });
  assert.ok(c.ok);
  assert.deepEqual(c.state.timers, { inProgressDeadlineAt: T0 + 60 * MIN, stepDeadlineAt: T0 + 25 * MIN });
  const d = deviceUpdate(c.state, { status: 'IN_PROGRESS', stepTimeoutInMinutes: -1 }, { at: T0 + 6 * MIN, timeoutConfig });
  assert.ok(d.ok);
  assert.deepEqual(d.state.timers, { inProgressDeadlineAt: T0 + 60 * MIN });
  const e = deviceUpdate(d.state, { status: 'SUCCEEDED' }, { at: T0 + 7 * MIN, timeoutConfig });
  assert.ok(e.ok);
  assert.deepEqual(e.state.timers, {}, 'terminal executions run no timers');
});

test('StartNext: a QUEUED pick starts with the given details; an IN_PROGRESS pick is returned untouched', () => {
  const a = startNext(stateIn('QUEUED'), { statusDetails: { a: 'b' }, stepTimeoutInMinutes: 5 }, { at: T0 });
  assert.ok(a.ok);
  assert.equal(a.state.status, 'IN_PROGRESS');
  assert.deepEqual(a.state.statusDetails, { a: 'b' });
  assert.deepEqual(a.state.timers, { stepDeadlineAt: T0 + 5 * MIN });
  const b = startNext(a.state, { statusDetails: { c: 'd' }, stepTimeoutInMinutes: 50 }, { at: T0 + MIN });
  assert.ok(b.ok);
  assert.deepEqual(b.state, a.state);
  assert.equal(outcome(startNext(stateIn('QUEUED'), { stepTimeoutInMinutes: 10081 }, ctx)), 'InvalidRequest');
});

test('timing out and removing clear the timers and keep statusDetails', () => {
  const running = { ...stateIn('IN_PROGRESS'), statusDetails: { x: 'y' }, timers: { stepDeadlineAt: T0 + MIN } };
  const t = timeOut(running, T0 + MIN);
  assert.ok(t.ok);
  assert.deepEqual([t.state.timers, t.state.statusDetails], [{}, { x: 'y' }]);
  const r = removeExecution(running, T0 + MIN);
  assert.ok(r.ok);
  assert.deepEqual(r.state.timers, {});
});
