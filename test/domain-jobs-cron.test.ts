// Maintenance-window cron expressions: parsing errors, and next starts across month, year and leap days.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nextCronTime, parseCron, type Cron } from '../src/domain/jobs/cron.ts';

/** The next `count` occurrences from `from` (inclusive), one minute apart at least. */
function nextCronTimes(cron: Cron, from: number, count: number): number[] {
  const out: number[] = [];
  for (let t = nextCronTime(cron, from); t !== undefined && out.length < count; t = nextCronTime(cron, t + 60_000)) out.push(t);
  return out;
}

const at = (iso: string) => Date.parse(`${iso}Z`);
const iso = (t: number) => new Date(t).toISOString().slice(0, 16);
function cron(text: string): Cron {
  const r = parseCron(text);
  assert.ok(r.ok, r.ok ? '' : r.error);
  return r.cron;
}
const next7 = (text: string, from: string) => nextCronTimes(cron(text), at(from), 7).map(iso);

test('daily at 10:00 across the year boundary, counting a start at `from` itself', () => {
  assert.deepEqual(next7('cron(0 10 * * ? *)', '2024-12-30T10:00'), [
    '2024-12-30T10:00',
    '2024-12-31T10:00',
    '2025-01-01T10:00',
    '2025-01-02T10:00',
    '2025-01-03T10:00',
    '2025-01-04T10:00',
    '2025-01-05T10:00',
  ]);
});

test('a start a second after the minute moves to the next occurrence', () => {
  assert.equal(iso(nextCronTime(cron('0 10 * * ? *'), at('2024-12-30T10:00') + 1000)!), '2024-12-31T10:00');
});

test('every 15 minutes from 0 across midnight of New Year', () => {
  assert.deepEqual(next7('cron(0/15 * * * ? *)', '2024-12-31T23:40'), [
    '2024-12-31T23:45',
    '2025-01-01T00:00',
    '2025-01-01T00:15',
    '2025-01-01T00:30',
    '2025-01-01T00:45',
    '2025-01-01T01:00',
    '2025-01-01T01:15',
  ]);
});

test('29 February: only leap years, 2100 skipped', () => {
  assert.deepEqual(next7('cron(30 6 29 2 ? *)', '2024-03-01T00:00'), [
    '2028-02-29T06:30',
    '2032-02-29T06:30',
    '2036-02-29T06:30',
    '2040-02-29T06:30',
    '2044-02-29T06:30',
    '2048-02-29T06:30',
    '2052-02-29T06:30',
  ]);
  assert.deepEqual(nextCronTimes(cron('30 6 29 2 ? *'), at('2096-03-01T00:00'), 2).map(iso), ['2104-02-29T06:30', '2108-02-29T06:30']);
});

test('L in day-of-month: the last day of each month, leap February included', () => {
  assert.deepEqual(next7('cron(0 0 L * ? *)', '2024-01-15T00:00'), [
    '2024-01-31T00:00',
    '2024-02-29T00:00',
    '2024-03-31T00:00',
    '2024-04-30T00:00',
    '2024-05-31T00:00',
    '2024-06-30T00:00',
    '2024-07-31T00:00',
  ]);
});

test('6L in day-of-week: the last Friday of each month', () => {
  assert.deepEqual(
    next7('cron(0 12 ? * 6L *)', '2024-01-01T00:00').map((t) => t.slice(0, 10)),
    ['2024-01-26', '2024-02-23', '2024-03-29', '2024-04-26', '2024-05-31', '2024-06-28', '2024-07-26'],
  );
  assert.deepEqual(nextCronTimes(cron('0 12 ? * FRIL *'), at('2024-01-01T00:00'), 1).map(iso), ['2024-01-26T12:00']);
});

test('2#1 in day-of-week: the first Monday of each month', () => {
  assert.deepEqual(
    next7('cron(0 9 ? * 2#1 *)', '2025-01-01T00:00').map((t) => t.slice(0, 10)),
    ['2025-01-06', '2025-02-03', '2025-03-03', '2025-04-07', '2025-05-05', '2025-06-02', '2025-07-07'],
  );
  assert.deepEqual(nextCronTimes(cron('0 9 ? * MON#1 *'), at('2025-01-01T00:00'), 1).map(iso), ['2025-01-06T09:00']);
  assert.deepEqual(nextCronTimes(cron('0 0 ? * 5#5 *'), at('2025-01-01T00:00'), 2).map(iso), ['2025-01-30T00:00', '2025-05-29T00:00'], 'fifth Thursdays only');
});

test('L alone in day-of-week is Saturday', () => {
  assert.deepEqual(nextCronTimes(cron('0 0 ? * L *'), at('2025-01-01T00:00'), 2).map(iso), ['2025-01-04T00:00', '2025-01-11T00:00']);
});

test('weekday ranges and names', () => {
  assert.deepEqual(
    next7('cron(0 9 ? * MON-FRI *)', '2025-01-03T08:00').map((t) => t.slice(0, 10)),
    ['2025-01-03', '2025-01-06', '2025-01-07', '2025-01-08', '2025-01-09', '2025-01-10', '2025-01-13'],
  );
  assert.deepEqual(next7('cron(0 9 ? * 2-6 *)', '2025-01-03T08:00'), next7('cron(0 9 ? * mon-fri *)', '2025-01-03T08:00'));
});

test('W: the nearest weekday inside the month', () => {
  const one = (text: string, from: string) => iso(nextCronTime(cron(text), at(from))!).slice(0, 10);
  assert.equal(one('0 0 15W * ? *', '2025-03-01T00:00'), '2025-03-14', 'Saturday 15th → Friday 14th');
  assert.equal(one('0 0 15W * ? *', '2025-06-01T00:00'), '2025-06-16', 'Sunday 15th → Monday 16th');
  assert.equal(one('0 0 1W * ? *', '2025-03-01T00:00'), '2025-03-03', 'Saturday 1st → Monday 3rd, not February');
  assert.equal(one('0 0 31W * ? *', '2025-08-01T00:00'), '2025-08-29', 'Sunday 31st (last day) → Friday 29th');
  assert.equal(one('0 0 31W * ? *', '2025-09-01T00:00'), '2025-10-31', 'no 31st in September');
  assert.equal(one('0 0 LW * ? *', '2025-05-01T00:00'), '2025-05-30', 'last day Saturday → Friday');
  assert.equal(one('0 0 LW * ? *', '2025-08-01T00:00'), '2025-08-29', 'last day Sunday → Friday');
});

test('lists, ranges with steps, month names, and the year field', () => {
  assert.deepEqual(next7('cron(0 0 1 JAN,JUL ? *)', '2025-02-01T00:00').slice(0, 3), ['2025-07-01T00:00', '2026-01-01T00:00', '2026-07-01T00:00']);
  assert.deepEqual(nextCronTimes(cron('10-30/10 8,20 * * ? *'), at('2025-01-01T00:00'), 4).map(iso), [
    '2025-01-01T08:10',
    '2025-01-01T08:20',
    '2025-01-01T08:30',
    '2025-01-01T20:10',
  ]);
  assert.deepEqual(next7('cron(0 0 1 1 ? 2026-2027)', '2025-01-01T00:00'), ['2026-01-01T00:00', '2027-01-01T00:00']);
  assert.deepEqual(
    nextCronTimes(cron('0 0 */10 * ? *'), at('2025-01-01T00:00'), 4)
      .map(iso)
      .map((t) => t.slice(0, 10)),
    ['2025-01-01', '2025-01-11', '2025-01-21', '2025-01-31'],
  );
});

test('an expression that never fires gives no occurrence', () => {
  assert.equal(nextCronTime(cron('0 0 30 2 ? *'), at('2025-01-01T00:00')), undefined);
  assert.equal(nextCronTime(cron('0 0 1 1 ? 2020'), at('2025-01-01T00:00')), undefined);
  assert.equal(nextCronTime(cron('0 0 31 12 ? 2199'), at('2199-12-31T00:01')), undefined);
});

test('the cron(...) wrapper is optional and extra spaces are fine', () => {
  assert.deepEqual(next7('  cron( 0  10 * * ? * )  ', '2025-01-01T00:00'), next7('0 10 * * ? *', '2025-01-01T00:00'));
});

const ERRORS: [string, RegExp][] = [
  ['cron(0 10 * * ?)', /6 fields.*got 5/],
  ['', /got 0/],
  ['0 10 * * * * *', /got 7/],
  ['0 10 ? * ? *', /Exactly one/],
  ['0 10 * * * *', /Exactly one/],
  ['0 10 1 * MON *', /Exactly one/],
  ['? 10 * * ? *', /\? wildcard is only allowed/],
  ['60 10 * * ? *', /60 is out of range in the minutes field \(0-59\)/],
  ['0 24 * * ? *', /24 is out of range in the hours field/],
  ['0 0 0 * ? *', /0 is out of range in the day-of-month field/],
  ['0 0 32 * ? *', /32 is out of range in the day-of-month/],
  ['0 0 1 13 ? *', /13 is out of range in the month field/],
  ['0 0 1 FOO ? *', /'FOO' is not a valid value in the month field/],
  ['0 0 ? * 8 *', /8 is out of range in the day-of-week field/],
  ['0 0 ? * 0 *', /0 is out of range in the day-of-week field/],
  ['0 0 1 * ? 1969', /1969 is out of range in the year field/],
  ['0 0 1 * ? 2200', /2200 is out of range in the year field/],
  ['0 20-10 * * ? *', /runs backwards/],
  ['0 1-2-3 * * ? *', /not a valid range/],
  ['0/0 * * * ? *', /not a valid increment/],
  ['0/x * * * ? *', /not a valid increment/],
  ['0/5/5 * * * ? *', /more than one '\/'/],
  ['0 0 ? * 1/2 *', /\/ wildcard is not allowed in the day-of-week field/],
  ['0 0 ? * 3#1,6#3 *', /# takes one expression/],
  ['0 0 ? * 3#6 *', /between 1 and 5/],
  ['0 0 ? * 9#1 *', /9 is out of range/],
  ['0 0 ? * 2L,3 *', /L stands alone/],
  ['0 0 L-2 * ? *', /L and W stand alone/],
  ['0 0 1,15W * ? *', /L and W stand alone/],
  ['0 0 32W * ? *', /32 is out of range/],
  ['0,,5 0 * * ? *', /Empty list item/],
  ['a 0 * * ? *', /'a' is not a valid value in the minutes field/],
];
for (const [text, error] of ERRORS) {
  test(`invalid: '${text}'`, () => {
    const r = parseCron(text);
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.error : '', error);
  });
}
