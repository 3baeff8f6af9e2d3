// Rollout pacing (jobs-semantics §2.9): how many more executions may be notified right now.
//
// Pacing uses a sliding one-minute window over the times of recent notifications, not a token bucket:
// "at most N per minute" then holds for every 60-second span, whereas a bucket of N refilled at N/min lets
// up to 2N through in some span (a full bucket drained, then a minute of refill). The caller keeps the
// notification times of the last minute; nothing else is needed.

export interface RateIncreaseCriteria {
  numberOfNotifiedThings?: number;
  numberOfSucceededThings?: number;
}

export interface ExponentialRolloutRate {
  baseRatePerMinute: number;
  incrementFactor: number;
  rateIncreaseCriteria: RateIncreaseCriteria;
}

export interface RolloutConfig {
  maximumPerMinute?: number;
  exponentialRate?: ExponentialRolloutRate;
}

/** The developer guide's default when no maximumPerMinute is set, and the service's fan-out ceiling. */
export const DEFAULT_MAX_PER_MINUTE = 1000;
export const MAX_PER_MINUTE = 1000;
export const WINDOW_MS = 60_000;

const isCount = (n: unknown, min: number, max = Number.MAX_SAFE_INTEGER) => Number.isInteger(n) && (n as number) >= min && (n as number) <= max;

/** Every problem with a rollout config; empty when it is valid. */
export function checkRolloutConfig(config: RolloutConfig): string[] {
  const problems: string[] = [];
  if (config.maximumPerMinute !== undefined && !isCount(config.maximumPerMinute, 1, MAX_PER_MINUTE)) {
    problems.push(`maximumPerMinute must be a whole number between 1 and ${MAX_PER_MINUTE}`);
  }
  const exp = config.exponentialRate;
  if (exp) {
    if (!isCount(exp.baseRatePerMinute, 1, MAX_PER_MINUTE)) problems.push(`baseRatePerMinute must be a whole number between 1 and ${MAX_PER_MINUTE}`);
    // One decimal at most: 1.5 is fine, 1.55 is not. Compared in tenths to stay clear of float noise.
    const tenths = exp.incrementFactor * 10;
    if (!(exp.incrementFactor >= 1.1 && exp.incrementFactor <= 5) || Math.abs(tenths - Math.round(tenths)) > 1e-9) {
      problems.push('incrementFactor must be between 1.1 and 5 with at most one digit after the decimal point');
    }
    const { numberOfNotifiedThings: n, numberOfSucceededThings: s } = exp.rateIncreaseCriteria ?? {};
    if (n === undefined && s === undefined) problems.push('rateIncreaseCriteria needs numberOfNotifiedThings or numberOfSucceededThings');
    if (n !== undefined && !isCount(n, 1)) problems.push('numberOfNotifiedThings must be a whole number of at least 1');
    if (s !== undefined && !isCount(s, 1)) problems.push('numberOfSucceededThings must be a whole number of at least 1');
  }
  return problems;
}

export interface RolloutProgress {
  /** Things notified so far (each execution counted once, at its first notification). */
  notified: number;
  /** Things whose execution SUCCEEDED so far. */
  succeeded: number;
}

/**
 * How many times the exponential rate has been multiplied. Thresholds are cumulative multiples of each
 * criterion (N, 2N, 3N…), and whichever counter is further ahead decides, which is "whichever comes first"
 * of the developer guide: base 50, factor 2, N=1000 gives 50/100/200/400 at 0/1000/2000/3000 notified.
 */
export function rateIncreases(criteria: RateIncreaseCriteria, progress: RolloutProgress): number {
  const byNotified = criteria.numberOfNotifiedThings ? Math.floor(progress.notified / criteria.numberOfNotifiedThings) : 0;
  const bySucceeded = criteria.numberOfSucceededThings ? Math.floor(progress.succeeded / criteria.numberOfSucceededThings) : 0;
  return Math.max(byNotified, bySucceeded);
}

/**
 * The rate in force: maximumPerMinute when constant; for exponential, base × factor^increases rounded down,
 * never above maximumPerMinute when both are given, and never above the 1000/min fan-out ceiling.
 */
export function currentRatePerMinute(config: RolloutConfig | undefined, progress: RolloutProgress): number {
  const ceiling = config?.maximumPerMinute ?? DEFAULT_MAX_PER_MINUTE;
  const exp = config?.exponentialRate;
  if (!exp) return Math.min(ceiling, MAX_PER_MINUTE);
  // Exact arithmetic in tenths (the factor has one decimal), so 50 × 1.1² is 60.5, never 60.4999….
  const tenths = BigInt(Math.round(exp.incrementFactor * 10));
  let numerator = BigInt(exp.baseRatePerMinute);
  let denominator = 1n;
  const increases = rateIncreases(exp.rateIncreaseCriteria, progress);
  // Stop multiplying once past the ceiling, so huge counters cost nothing.
  for (let i = 0; i < increases && numerator < BigInt(ceiling) * denominator; i++) {
    numerator *= tenths;
    denominator *= 10n;
  }
  return Math.max(1, Math.min(ceiling, MAX_PER_MINUTE, Number(numerator / denominator)));
}

export interface RolloutAllowance {
  /** Executions that may be notified now. */
  allowed: number;
  ratePerMinute: number;
  /** When nothing is allowed: the instant the oldest counted notification leaves the window. */
  nextAllowedAt?: number;
}

/**
 * The budget at `now`. A notification at time t counts while now − t < 60 s: at exactly t + 60 s it no
 * longer does. A time after `now` (clock skew between nodes) counts too, until 60 s after that time.
 */
export function rolloutAllowance(
  config: RolloutConfig | undefined,
  progress: RolloutProgress,
  recentNotifications: readonly number[],
  now: number,
): RolloutAllowance {
  const ratePerMinute = currentRatePerMinute(config, progress);
  const inWindow = recentNotifications.filter((t) => now - t < WINDOW_MS).sort((a, b) => a - b);
  const allowed = Math.max(0, ratePerMinute - inWindow.length);
  if (allowed > 0) return { allowed, ratePerMinute };
  // One slot frees when enough old entries leave: the (excess+1)-th oldest must drop out.
  const excess = inWindow.length - ratePerMinute;
  return { allowed: 0, ratePerMinute, nextAllowedAt: inWindow[excess] + WINDOW_MS };
}
