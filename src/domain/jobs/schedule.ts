// schedulingConfig (jobs-semantics §2.11): start and end times, end behaviour, and recurring maintenance
// windows. StringDateTime values are ISO-8601 strings read as UTC when they carry no offset; every instant
// handled here is epoch milliseconds.

import { nextCronTime, parseCron, type Cron } from './cron.ts';
import type { EndBehavior } from './job-state.ts';

export interface MaintenanceWindow {
  startTime: string;
  durationInMinutes: number;
}

export interface SchedulingConfig {
  startTime?: string;
  endTime?: string;
  endBehavior?: EndBehavior;
  maintenanceWindows?: MaintenanceWindow[];
}

export const MIN_LEAD_MS = 30 * 60_000;
export const MAX_WINDOW_MINUTES = 1430;
/** scheduledJobRollouts lists the next seven window starts. */
export const SCHEDULED_ROLLOUTS_SHOWN = 7;
const MINUTE_MS = 60_000;

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$/i;

/** Reads `YYYY-MM-DDTHH:MM` (seconds, fraction and offset optional; no offset means UTC). */
export function parseDateTime(text: string): { ok: true; at: number } | { ok: false; error: string } {
  const m = DATE_TIME.exec(text.trim());
  const bad = { ok: false as const, error: `'${text}' is not a date and time in the form YYYY-MM-DDTHH:MM (UTC unless an offset is given)` };
  if (!m) return bad;
  const [y, mo, d, h, mi, s] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i] ?? 0));
  const ms = m[7] ? Math.floor(Number(m[7]) * 1000) : 0;
  if (mo < 1 || mo > 12 || d < 1 || d > new Date(Date.UTC(y, mo, 0)).getUTCDate() || h > 23 || mi > 59 || s > 59) return bad;
  let offsetMinutes = 0;
  const zone = m[8]?.toUpperCase();
  if (zone && zone !== 'Z') {
    const [, sign, oh, om] = /^([+-])(\d{2}):?(\d{2})$/.exec(zone)!;
    if (Number(oh) > 23 || Number(om) > 59) return bad;
    offsetMinutes = (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om));
  }
  const at = Date.UTC(y, mo - 1, d, h, mi, s, ms) - offsetMinutes * MINUTE_MS;
  return { ok: true, at };
}

/** `YYYY-MM-DDTHH:MM` in UTC, the documented StringDateTime form (used for scheduledJobRollouts). */
export function formatDateTime(at: number): string {
  return new Date(at).toISOString().slice(0, 16);
}

/** The same day-of-month `years` later, clamped to the month's end (29 Feb + 1 year is 28 Feb). */
export function addYears(at: number, years: number): number {
  const d = new Date(at);
  const y = d.getUTCFullYear() + years;
  const m = d.getUTCMonth();
  const day = Math.min(d.getUTCDate(), new Date(Date.UTC(y, m + 1, 0)).getUTCDate());
  return Date.UTC(y, m, day, d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds());
}

/** Every problem with one maintenance window; empty when it is valid and opens at least once more. */
export function checkMaintenanceWindow(window: MaintenanceWindow, now: number, label = 'maintenanceWindow'): string[] {
  const problems: string[] = [];
  const parsed = parseCron(window.startTime);
  if (!parsed.ok) problems.push(`${label}.startTime: ${parsed.error}`);
  else if (nextCronTime(parsed.cron, now) === undefined) problems.push(`${label}.startTime '${window.startTime}' never occurs after now`);
  const d = window.durationInMinutes;
  if (!Number.isInteger(d) || d < 1 || d > MAX_WINDOW_MINUTES)
    problems.push(`${label}.durationInMinutes must be a whole number between 1 and ${MAX_WINDOW_MINUTES}`);
  return problems;
}

/**
 * Every problem with a schedulingConfig at creation time `now`; empty when it is valid. startTime: 30 min to
 * 1 year ahead. endTime: 30 min to 2 years ahead, and 30 min to 2 years after startTime. Bounds are inclusive.
 * endBehavior without endTime is accepted and has no effect, as the model says.
 */
export function checkSchedulingConfig(config: SchedulingConfig, now: number): string[] {
  const problems: string[] = [];
  let start: number | undefined;
  let end: number | undefined;
  if (config.startTime !== undefined) {
    const p = parseDateTime(config.startTime);
    if (!p.ok) problems.push(`startTime: ${p.error}`);
    else if (p.at < now + MIN_LEAD_MS) problems.push('startTime must be at least 30 minutes in the future');
    else if (p.at > addYears(now, 1)) problems.push('startTime must be at most one year in the future');
    else start = p.at;
  }
  if (config.endTime !== undefined) {
    const p = parseDateTime(config.endTime);
    if (!p.ok) problems.push(`endTime: ${p.error}`);
    else if (p.at < now + MIN_LEAD_MS) problems.push('endTime must be at least 30 minutes in the future');
    else if (p.at > addYears(now, 2)) problems.push('endTime must be at most two years in the future');
    else end = p.at;
  }
  if (start !== undefined && end !== undefined) {
    if (end < start + MIN_LEAD_MS) problems.push('endTime must be at least 30 minutes after startTime');
    else if (end > addYears(start, 2)) problems.push('endTime must be at most two years after startTime');
  }
  if (config.endBehavior !== undefined && !['STOP_ROLLOUT', 'CANCEL', 'FORCE_CANCEL'].includes(config.endBehavior)) {
    problems.push('endBehavior must be one of STOP_ROLLOUT, CANCEL, FORCE_CANCEL');
  }
  (config.maintenanceWindows ?? []).forEach((w, i) => {
    problems.push(...checkMaintenanceWindow(w, now, `maintenanceWindows[${i}]`));
  });
  return problems;
}

interface CompiledWindow {
  cron: Cron;
  durationMs: number;
}

// Windows that fail to parse are skipped: configs are checked before they are stored.
function compile(windows: readonly MaintenanceWindow[]): CompiledWindow[] {
  return windows.flatMap((w) => {
    const p = parseCron(w.startTime);
    return p.ok ? [{ cron: p.cron, durationMs: w.durationInMinutes * MINUTE_MS }] : [];
  });
}

/** Up to `count` distinct window starts at or after `from`, merged across windows, earliest first. */
export function nextWindowStarts(windows: readonly MaintenanceWindow[], from: number, count = SCHEDULED_ROLLOUTS_SHOWN, until?: number): number[] {
  const compiled = compile(windows);
  const heads = compiled.map((w) => nextCronTime(w.cron, from));
  const out: number[] = [];
  while (out.length < count) {
    let best = -1;
    heads.forEach((t, i) => {
      if (t !== undefined && (best < 0 || t < heads[best]!)) best = i;
    });
    if (best < 0) break;
    const t = heads[best]!;
    if (until !== undefined && t >= until) break;
    if (out[out.length - 1] !== t) out.push(t);
    heads[best] = nextCronTime(compiled[best].cron, t + MINUTE_MS);
  }
  return out;
}

/**
 * The window open at `at`, if any. A window covers [start, start + duration): open at its first minute,
 * closed at its end instant. Of overlapping windows, the one that closes last is returned.
 */
export function activeWindow(windows: readonly MaintenanceWindow[], at: number): { start: number; end: number } | undefined {
  let found: { start: number; end: number } | undefined;
  for (const w of compile(windows)) {
    // Only a start in (at − duration, at] covers `at`; each occurrence is checked, the latest closes last.
    for (let t = nextCronTime(w.cron, at - w.durationMs + 1); t !== undefined && t <= at; t = nextCronTime(w.cron, t + MINUTE_MS)) {
      const end = t + w.durationMs;
      if (!found || end > found.end) found = { start: t, end };
    }
  }
  return found;
}

/** scheduledJobRollouts: the next seven window starts from the later of startTime and now, before endTime. */
export function scheduledJobRollouts(config: SchedulingConfig, now: number): { startTime: string }[] {
  if (!config.maintenanceWindows?.length) return [];
  const start = config.startTime ? parseDateTime(config.startTime) : undefined;
  const end = config.endTime ? parseDateTime(config.endTime) : undefined;
  const from = Math.max(now, start?.ok ? start.at : now);
  return nextWindowStarts(config.maintenanceWindows, from, SCHEDULED_ROLLOUTS_SHOWN, end?.ok ? end.at : undefined).map((t) => ({
    startTime: formatDateTime(t),
  }));
}

export type SchedulePhase = 'BEFORE_START' | 'ROLLING_OUT' | 'IN_WINDOW' | 'BETWEEN_WINDOWS' | 'ENDED';

/**
 * Where a scheduled job stands at `now`, and when that next changes. Rollout may notify devices only in
 * ROLLING_OUT and IN_WINDOW; BEFORE_START and BETWEEN_WINDOWS show the job as SCHEDULED. A job that starts
 * inside a window rolls out for the rest of that window.
 */
export function schedulePhase(config: SchedulingConfig, now: number): { phase: SchedulePhase; nextChangeAt?: number } {
  const startP = config.startTime ? parseDateTime(config.startTime) : undefined;
  const endP = config.endTime ? parseDateTime(config.endTime) : undefined;
  const start = startP?.ok ? startP.at : undefined;
  const end = endP?.ok ? endP.at : undefined;
  const capped = (t: number | undefined) => (end === undefined ? t : t === undefined ? end : Math.min(t, end));
  if (start !== undefined && now < start) return { phase: 'BEFORE_START', nextChangeAt: start };
  if (end !== undefined && now >= end) return { phase: 'ENDED' };
  const windows = config.maintenanceWindows ?? [];
  if (windows.length === 0) return { phase: 'ROLLING_OUT', nextChangeAt: end };
  const open = activeWindow(windows, now);
  if (open) return { phase: 'IN_WINDOW', nextChangeAt: capped(open.end) };
  return { phase: 'BETWEEN_WINDOWS', nextChangeAt: capped(nextWindowStarts(windows, now, 1)[0]) };
}
