// EventBridge-style cron expressions for maintenance windows: `cron(minutes hours day-of-month month
// day-of-week year)`, evaluated in UTC. Supported as EventBridge documents them: `*`, `?`, `,`, `-`, `/`
// (not in day-of-week), `L` and `W` in day-of-month (`L`, `LW`, `15W`), `L` and `#` in day-of-week
// (`L` = Saturday, `6L` = last Friday, `2#1` = first Monday). Exactly one of the two day fields is `?`.

export const MIN_YEAR = 1970;
export const MAX_YEAR = 2199;

type DayOfMonth =
  | { kind: 'any' }
  | { kind: 'set'; days: ReadonlySet<number> }
  | { kind: 'last' }
  | { kind: 'lastWeekday' }
  | { kind: 'nearestWeekday'; day: number };

type DayOfWeek =
  | { kind: 'any' }
  | { kind: 'set'; days: ReadonlySet<number> } // 1 = SUN … 7 = SAT
  | { kind: 'last'; day: number }
  | { kind: 'nth'; day: number; nth: number };

export interface Cron {
  source: string;
  minutes: ReadonlySet<number>;
  hours: ReadonlySet<number>;
  dayOfMonth: DayOfMonth;
  months: ReadonlySet<number>;
  dayOfWeek: DayOfWeek;
  years: ReadonlySet<number>;
}

export type CronResult = { ok: true; cron: Cron } | { ok: false; error: string };

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  names?: string[];
  step: boolean;
}

const FIELDS: Record<'minutes' | 'hours' | 'dayOfMonth' | 'months' | 'dayOfWeek' | 'years', FieldSpec> = {
  minutes: { name: 'minutes', min: 0, max: 59, step: true },
  hours: { name: 'hours', min: 0, max: 23, step: true },
  dayOfMonth: { name: 'day-of-month', min: 1, max: 31, step: true },
  months: { name: 'month', min: 1, max: 12, names: MONTHS, step: true },
  dayOfWeek: { name: 'day-of-week', min: 1, max: 7, names: WEEKDAYS, step: false },
  years: { name: 'year', min: MIN_YEAR, max: MAX_YEAR, step: true },
};

class CronError extends Error {}
const fail = (message: string): never => {
  throw new CronError(message);
};

function value(text: string, spec: FieldSpec): number {
  const named = spec.names?.indexOf(text.toUpperCase()) ?? -1;
  if (named >= 0) return named + spec.min;
  if (!/^\d+$/.test(text)) fail(`'${text}' is not a valid value in the ${spec.name} field`);
  const n = Number(text);
  if (n < spec.min || n > spec.max) fail(`${n} is out of range in the ${spec.name} field (${spec.min}-${spec.max})`);
  return n;
}

// A list of `*`, `a`, `a-b`, with an optional `/step`, into the set of values it covers.
function valueSet(text: string, spec: FieldSpec): Set<number> {
  const out = new Set<number>();
  for (const item of text.split(',')) {
    if (item === '') fail(`Empty list item in the ${spec.name} field`);
    const [range, stepText, extra] = item.split('/');
    if (extra !== undefined) fail(`'${item}' has more than one '/' in the ${spec.name} field`);
    if (stepText !== undefined && !spec.step) fail(`The / wildcard is not allowed in the ${spec.name} field`);
    const step = stepText === undefined ? 1 : Number(stepText);
    if (stepText !== undefined && (!/^\d+$/.test(stepText) || step < 1)) fail(`'${stepText}' is not a valid increment in the ${spec.name} field`);
    let lo: number;
    let hi: number;
    if (range === '*') [lo, hi] = [spec.min, spec.max];
    else if (range.includes('-')) {
      const [a, b, more] = range.split('-');
      if (more !== undefined || a === '' || b === '') fail(`'${range}' is not a valid range in the ${spec.name} field`);
      [lo, hi] = [value(a, spec), value(b, spec)];
      if (lo > hi) fail(`The range '${range}' in the ${spec.name} field runs backwards`);
    } else {
      lo = value(range, spec);
      // `5/15` means from 5 to the end of the field in steps of 15.
      hi = stepText === undefined ? lo : spec.max;
    }
    for (let v = lo; v <= hi; v += step) out.add(v);
  }
  return out;
}

function dayOfMonth(text: string): DayOfMonth {
  if (text === '?') return { kind: 'any' };
  const upper = text.toUpperCase();
  if (upper === 'L') return { kind: 'last' };
  if (upper === 'LW') return { kind: 'lastWeekday' };
  const weekday = /^(\d+)W$/.exec(upper);
  if (weekday) return { kind: 'nearestWeekday', day: value(weekday[1], FIELDS.dayOfMonth) };
  if (/[LW]/.test(upper)) fail(`'${text}' is not valid in the day-of-month field: L and W stand alone (L, LW, 15W), not in lists or ranges`);
  return { kind: 'set', days: valueSet(text, FIELDS.dayOfMonth) };
}

function dayOfWeek(text: string): DayOfWeek {
  if (text === '?') return { kind: 'any' };
  const upper = text.toUpperCase();
  if (upper === 'L') return { kind: 'set', days: new Set([7]) }; // the last day of the week: Saturday
  const last = /^([A-Z0-9]+)L$/.exec(upper);
  if (last) return { kind: 'last', day: value(last[1], FIELDS.dayOfWeek) };
  const nth = /^([A-Z0-9]+)#(\d+)$/.exec(upper);
  if (nth) {
    const n = Number(nth[2]);
    if (n < 1 || n > 5) fail(`'${text}': the number after # must be between 1 and 5`);
    return { kind: 'nth', day: value(nth[1], FIELDS.dayOfWeek), nth: n };
  }
  if (upper.includes('#')) fail(`'${text}' is not valid in the day-of-week field: # takes one expression such as 3#2, not a list`);
  if (upper.includes('L')) fail(`'${text}' is not valid in the day-of-week field: L stands alone or after one day (L, 6L)`);
  return { kind: 'set', days: valueSet(text, FIELDS.dayOfWeek) };
}

/** Parses `cron(…)` or the bare six fields. Errors name the field and say what is wrong. */
export function parseCron(text: string): CronResult {
  const wrapped = /^\s*cron\((.*)\)\s*$/is.exec(text);
  const body = (wrapped ? wrapped[1] : text).trim();
  const parts = body === '' ? [] : body.split(/\s+/);
  if (parts.length !== 6) {
    return { ok: false, error: `A cron expression needs 6 fields (minutes hours day-of-month month day-of-week year), got ${parts.length}` };
  }
  const [mi, h, dom, mo, dow, y] = parts;
  if ((dom === '?') === (dow === '?')) {
    return { ok: false, error: 'Exactly one of the day-of-month and day-of-week fields must be ?' };
  }
  try {
    for (const [field, spec] of [
      [mi, FIELDS.minutes],
      [h, FIELDS.hours],
      [mo, FIELDS.months],
      [y, FIELDS.years],
    ] as const) {
      if (field.includes('?')) fail(`The ? wildcard is only allowed in the day-of-month and day-of-week fields, not in ${spec.name}`);
    }
    const cron: Cron = {
      source: text,
      minutes: valueSet(mi, FIELDS.minutes),
      hours: valueSet(h, FIELDS.hours),
      dayOfMonth: dayOfMonth(dom),
      months: valueSet(mo, FIELDS.months),
      dayOfWeek: dayOfWeek(dow),
      years: valueSet(y, FIELDS.years),
    };
    return { ok: true, cron };
  } catch (e) {
    if (e instanceof CronError) return { ok: false, error: e.message };
    throw e;
  }
}

const daysIn = (y: number, m: number) => new Date(Date.UTC(y, m, 0)).getUTCDate();
const weekdayOf = (y: number, m: number, d: number) => new Date(Date.UTC(y, m - 1, d)).getUTCDay() + 1; // 1 = SUN

function nearestWeekday(y: number, m: number, day: number): number | undefined {
  const last = daysIn(y, m);
  if (day > last) return undefined;
  const w = weekdayOf(y, m, day);
  // The weekday closest to `day` without leaving the month: the 1st on a Saturday moves to Monday the 3rd.
  if (w === 7) return day === 1 ? 3 : day - 1;
  if (w === 1) return day === last ? day - 2 : day + 1;
  return day;
}

function dayMatches(cron: Cron, y: number, m: number, d: number): boolean {
  const dom = cron.dayOfMonth;
  switch (dom.kind) {
    case 'set':
      return dom.days.has(d);
    case 'last':
      return d === daysIn(y, m);
    case 'lastWeekday':
      return d === nearestWeekday(y, m, daysIn(y, m));
    case 'nearestWeekday':
      return d === nearestWeekday(y, m, dom.day);
    case 'any':
      break;
  }
  const dow = cron.dayOfWeek;
  const w = weekdayOf(y, m, d);
  switch (dow.kind) {
    case 'set':
      return dow.days.has(w);
    case 'last':
      return w === dow.day && d + 7 > daysIn(y, m);
    case 'nth':
      return w === dow.day && Math.ceil(d / 7) === dow.nth;
    case 'any':
      return true;
  }
}

/** The first matching minute at or after `from` (epoch ms), or undefined when none remains before 2200. */
export function nextCronTime(cron: Cron, from: number): number | undefined {
  const start = new Date(Math.ceil(from / 60_000) * 60_000);
  let [y, mo, d, h, mi] = [start.getUTCFullYear(), start.getUTCMonth() + 1, start.getUTCDate(), start.getUTCHours(), start.getUTCMinutes()];
  // Walk field by field from the largest; a mismatch jumps to the start of the next unit.
  while (y <= MAX_YEAR) {
    if (!cron.years.has(y)) [y, mo, d, h, mi] = [y + 1, 1, 1, 0, 0];
    else if (!cron.months.has(mo)) [mo, d, h, mi] = [mo + 1, 1, 0, 0];
    else if (!dayMatches(cron, y, mo, d)) [d, h, mi] = [d + 1, 0, 0];
    else if (!cron.hours.has(h)) [h, mi] = [h + 1, 0];
    else if (!cron.minutes.has(mi)) mi += 1;
    else return Date.UTC(y, mo - 1, d, h, mi);
    if (mi > 59) [h, mi] = [h + 1, 0];
    if (h > 23) [d, h] = [d + 1, 0];
    if (d > daysIn(y, mo)) [mo, d] = [mo + 1, 1];
    if (mo > 12) [y, mo] = [y + 1, 1];
  }
  return undefined;
}
