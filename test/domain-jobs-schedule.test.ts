// schedulingConfig: date-time strings, start/end bounds, windows (membership at the edges, next seven
// starts), scheduledJobRollouts and the schedule phase.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  activeWindow,
  addYears,
  checkMaintenanceWindow,
  checkSchedulingConfig,
  formatDateTime,
  nextWindowStarts,
  parseDateTime,
  scheduledJobRollouts,
  schedulePhase,
  type MaintenanceWindow,
} from '../src/domain/jobs/schedule.ts';

const at = (iso: string) => Date.parse(`${iso}Z`);
const NOW = at('2025-01-10T12:00');
const parsed = (text: string) => {
  const r = parseDateTime(text);
  return r.ok ? r.at : r.error;
};

test('date-times: YYYY-MM-DDTHH:MM is UTC; seconds, fractions and offsets are understood', () => {
  assert.equal(parsed('2025-01-10T12:00'), NOW);
  assert.equal(parsed('2025-01-10 12:00'), NOW);
  assert.equal(parsed('2025-01-10T12:00Z'), NOW);
  assert.equal(parsed('2025-01-10T12:00:30'), NOW + 30_000);
  assert.equal(parsed('2025-01-10T12:00:30.250Z'), NOW + 30_250);
  assert.equal(parsed('2025-01-10T14:00+02:00'), NOW);
  assert.equal(parsed('2025-01-10T07:30-0430'), NOW);
  assert.equal(parsed('2024-02-29T00:00'), at('2024-02-29T00:00'));
});

test('date-times: malformed or impossible values are refused with the expected form', () => {
  for (const bad of [
    '2025-02-29T00:00',
    '2025-13-01T00:00',
    '2025-01-32T00:00',
    '2025-01-01T24:00',
    '2025-01-01T10:60',
    '2025-01-01',
    '2025-1-1T10:00',
    'tomorrow',
    '2025-01-01T10:00+25:00',
  ]) {
    assert.match(String(parsed(bad)), /YYYY-MM-DDTHH:MM/, bad);
  }
});

test('formatDateTime writes minutes in UTC', () => {
  assert.equal(formatDateTime(at('2025-03-04T05:06') + 59_999), '2025-03-04T05:06');
});

test('addYears keeps the day, clamping 29 February to the 28th', () => {
  assert.equal(addYears(at('2025-01-10T12:00'), 1), at('2026-01-10T12:00'));
  assert.equal(addYears(at('2024-02-29T08:00'), 1), at('2025-02-28T08:00'));
  assert.equal(addYears(at('2024-02-29T08:00'), 4), at('2028-02-29T08:00'));
});

test('startTime: exactly 30 minutes ahead is accepted, a minute less is not', () => {
  assert.deepEqual(checkSchedulingConfig({ startTime: '2025-01-10T12:30' }, NOW), []);
  assert.deepEqual(checkSchedulingConfig({ startTime: '2025-01-10T12:29' }, NOW), ['startTime must be at least 30 minutes in the future']);
});

test('startTime: exactly one year ahead is accepted, a minute more is not', () => {
  assert.deepEqual(checkSchedulingConfig({ startTime: '2026-01-10T12:00' }, NOW), []);
  assert.deepEqual(checkSchedulingConfig({ startTime: '2026-01-10T12:01' }, NOW), ['startTime must be at most one year in the future']);
});

test('endTime: 30 minutes to 2 years from now', () => {
  assert.deepEqual(checkSchedulingConfig({ endTime: '2025-01-10T12:30' }, NOW), []);
  assert.deepEqual(checkSchedulingConfig({ endTime: '2025-01-10T12:29' }, NOW), ['endTime must be at least 30 minutes in the future']);
  assert.deepEqual(checkSchedulingConfig({ endTime: '2027-01-10T12:00' }, NOW), []);
  assert.deepEqual(checkSchedulingConfig({ endTime: '2027-01-10T12:01' }, NOW), ['endTime must be at most two years in the future']);
});

test('endTime: at least 30 minutes after startTime', () => {
  assert.deepEqual(checkSchedulingConfig({ startTime: '2025-01-11T00:00', endTime: '2025-01-11T00:30' }, NOW), []);
  assert.deepEqual(checkSchedulingConfig({ startTime: '2025-01-11T00:00', endTime: '2025-01-11T00:29' }, NOW), [
    'endTime must be at least 30 minutes after startTime',
  ]);
  assert.deepEqual(checkSchedulingConfig({ startTime: '2026-01-10T12:00', endTime: '2027-01-10T12:00' }, NOW), []);
});

test('endBehavior: checked when given, harmless without endTime', () => {
  assert.deepEqual(checkSchedulingConfig({ endBehavior: 'CANCEL' }, NOW), []);
  assert.deepEqual(checkSchedulingConfig({ endBehavior: 'PAUSE' as 'CANCEL' }, NOW), ['endBehavior must be one of STOP_ROLLOUT, CANCEL, FORCE_CANCEL']);
  assert.match(checkSchedulingConfig({ startTime: 'soon' }, NOW)[0], /^startTime: /);
});

test('maintenance windows: duration 1..1430, a valid cron that still occurs', () => {
  const w = (startTime: string, durationInMinutes: number): MaintenanceWindow => ({ startTime, durationInMinutes });
  assert.deepEqual(checkMaintenanceWindow(w('cron(0 2 * * ? *)', 1), NOW), []);
  assert.deepEqual(checkMaintenanceWindow(w('cron(0 2 * * ? *)', 1430), NOW), []);
  assert.match(checkMaintenanceWindow(w('cron(0 2 * * ? *)', 0), NOW)[0], /durationInMinutes/);
  assert.match(checkMaintenanceWindow(w('cron(0 2 * * ? *)', 1431), NOW)[0], /between 1 and 1430/);
  assert.match(checkMaintenanceWindow(w('cron(0 2 * *)', 60), NOW)[0], /6 fields/);
  assert.match(checkMaintenanceWindow(w('cron(0 2 1 1 ? 2024)', 60), NOW)[0], /never occurs/);
  const problems = checkSchedulingConfig({ maintenanceWindows: [w('cron(0 2 * * ? *)', 60), w('bad', 0)] }, NOW);
  assert.equal(problems.length, 2);
  assert.match(problems[0], /^maintenanceWindows\[1\]\.startTime/);
});

const nightly: MaintenanceWindow = { startTime: 'cron(0 2 * * ? *)', durationInMinutes: 60 };

test('window membership: open at its first instant, closed at its end instant', () => {
  assert.equal(activeWindow([nightly], at('2025-01-11T01:59') + 59_999), undefined);
  assert.deepEqual(activeWindow([nightly], at('2025-01-11T02:00')), { start: at('2025-01-11T02:00'), end: at('2025-01-11T03:00') });
  assert.ok(activeWindow([nightly], at('2025-01-11T03:00') - 1));
  assert.equal(activeWindow([nightly], at('2025-01-11T03:00')), undefined);
});

test('window membership across midnight and New Year', () => {
  const late: MaintenanceWindow = { startTime: 'cron(0 23 31 12 ? *)', durationInMinutes: 120 };
  assert.deepEqual(activeWindow([late], at('2026-01-01T00:30')), { start: at('2025-12-31T23:00'), end: at('2026-01-01T01:00') });
  assert.equal(activeWindow([late], at('2026-01-01T01:00')), undefined);
});

test('the longest window (1430 min) leaves a 10-minute gap in a daily schedule', () => {
  const long: MaintenanceWindow = { startTime: 'cron(0 0 * * ? *)', durationInMinutes: 1430 };
  assert.ok(activeWindow([long], at('2025-01-11T23:49')));
  assert.equal(activeWindow([long], at('2025-01-11T23:50')), undefined);
  assert.ok(activeWindow([long], at('2025-01-12T00:00')));
});

test('overlapping windows: the one that closes last is reported', () => {
  const a: MaintenanceWindow = { startTime: 'cron(0 2 * * ? *)', durationInMinutes: 60 };
  const b: MaintenanceWindow = { startTime: 'cron(30 2 * * ? *)', durationInMinutes: 90 };
  assert.deepEqual(activeWindow([a, b], at('2025-01-11T02:45')), { start: at('2025-01-11T02:30'), end: at('2025-01-11T04:00') });
  const hourly: MaintenanceWindow = { startTime: 'cron(0 * * * ? *)', durationInMinutes: 90 };
  assert.deepEqual(activeWindow([hourly], at('2025-01-11T05:15')), { start: at('2025-01-11T05:00'), end: at('2025-01-11T06:30') });
});

test('next window starts merge several windows, drop duplicates, stop at `until`', () => {
  const weekends: MaintenanceWindow = { startTime: 'cron(0 2 ? * SAT,SUN *)', durationInMinutes: 30 };
  const fridays: MaintenanceWindow = { startTime: 'cron(0 22 ? * FRI *)', durationInMinutes: 30 };
  const starts = nextWindowStarts([weekends, fridays, weekends], at('2025-01-10T12:00')).map(formatDateTime);
  assert.deepEqual(starts, [
    '2025-01-10T22:00',
    '2025-01-11T02:00',
    '2025-01-12T02:00',
    '2025-01-17T22:00',
    '2025-01-18T02:00',
    '2025-01-19T02:00',
    '2025-01-24T22:00',
  ]);
  assert.deepEqual(nextWindowStarts([fridays], at('2025-01-10T12:00'), 7, at('2025-01-24T22:00')).map(formatDateTime), [
    '2025-01-10T22:00',
    '2025-01-17T22:00',
  ]);
  assert.deepEqual(nextWindowStarts([], NOW), []);
});

test('scheduledJobRollouts: seven starts from startTime, formatted, none at or after endTime', () => {
  const config = { startTime: '2025-02-27T00:00', maintenanceWindows: [nightly] };
  assert.deepEqual(scheduledJobRollouts(config, NOW), [
    { startTime: '2025-02-27T02:00' },
    { startTime: '2025-02-28T02:00' },
    { startTime: '2025-03-01T02:00' },
    { startTime: '2025-03-02T02:00' },
    { startTime: '2025-03-03T02:00' },
    { startTime: '2025-03-04T02:00' },
    { startTime: '2025-03-05T02:00' },
  ]);
  assert.equal(scheduledJobRollouts({ ...config, endTime: '2025-03-01T02:00' }, NOW).length, 2);
  assert.deepEqual(scheduledJobRollouts({ startTime: '2025-02-27T00:00' }, NOW), []);
  assert.equal(scheduledJobRollouts({ maintenanceWindows: [nightly] }, NOW)[0].startTime, '2025-01-11T02:00', 'no startTime: from now');
});

test('schedule phase: before start, in and between windows, rolling out, ended', () => {
  const windowed = { startTime: '2025-01-11T00:00', endTime: '2025-01-13T02:30', maintenanceWindows: [nightly] };
  assert.deepEqual(schedulePhase(windowed, NOW), { phase: 'BEFORE_START', nextChangeAt: at('2025-01-11T00:00') });
  assert.deepEqual(schedulePhase(windowed, at('2025-01-11T00:00')), { phase: 'BETWEEN_WINDOWS', nextChangeAt: at('2025-01-11T02:00') });
  assert.deepEqual(schedulePhase(windowed, at('2025-01-11T02:00')), { phase: 'IN_WINDOW', nextChangeAt: at('2025-01-11T03:00') });
  assert.deepEqual(schedulePhase(windowed, at('2025-01-13T02:10')), { phase: 'IN_WINDOW', nextChangeAt: at('2025-01-13T02:30') }, 'endTime cuts the window');
  assert.deepEqual(schedulePhase(windowed, at('2025-01-13T02:30')), { phase: 'ENDED' });
  assert.deepEqual(schedulePhase({ startTime: '2025-01-11T00:00' }, at('2025-01-11T00:00')), { phase: 'ROLLING_OUT', nextChangeAt: undefined });
  assert.deepEqual(schedulePhase({ endTime: '2025-01-12T00:00' }, NOW), { phase: 'ROLLING_OUT', nextChangeAt: at('2025-01-12T00:00') });
  assert.deepEqual(
    schedulePhase({ startTime: '2025-01-11T02:30', maintenanceWindows: [nightly] }, at('2025-01-11T02:30')),
    {
      phase: 'IN_WINDOW',
      nextChangeAt: at('2025-01-11T03:00'),
    },
    'a start inside a window uses the rest of it',
  );
  assert.equal(schedulePhase({ endTime: '2025-01-11T01:00', maintenanceWindows: [nightly] }, NOW).nextChangeAt, at('2025-01-11T01:00'));
});
