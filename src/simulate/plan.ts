// Pure rules of the device simulator: what a simulated device does with a job, decided from its configured rates.

export type Outcome = 'SUCCEEDED' | 'FAILED' | 'REJECTED' | 'HANG';

export interface OutcomeRates {
  /** Fractions in [0, 1]; what is left over succeeds. */
  fail: number;
  reject: number;
  hang: number;
}

/** Checks the rates add up to at most 1; returns why not, or undefined. */
export function checkRates(rates: OutcomeRates): string | undefined {
  for (const [name, value] of Object.entries(rates)) {
    if (!(value >= 0 && value <= 1)) return `--${name}-rate must be between 0 and 1, got ${value}`;
  }
  const sum = rates.fail + rates.reject + rates.hang;
  if (sum > 1 + 1e-9) return `--fail-rate, --reject-rate and --hang-rate add up to ${sum}, more than 1`;
  return undefined;
}

/** The outcome for a uniform random draw `u` in [0, 1). */
export function pickOutcome(rates: OutcomeRates, u: number): Outcome {
  if (u < rates.reject) return 'REJECTED';
  if (u < rates.reject + rates.fail) return 'FAILED';
  if (u < rates.reject + rates.fail + rates.hang) return 'HANG';
  return 'SUCCEEDED';
}

/** Every http(s) URL in a job document (presigned artifact URLs after substitution), in document order. */
export function downloadUrls(document: unknown): string[] {
  const urls: string[] = [];
  const visit = (value: unknown) => {
    if (typeof value === 'string') {
      if (/^https?:\/\/\S+$/.test(value)) urls.push(value);
    } else if (Array.isArray(value)) {
      value.forEach(visit);
    } else if (value && typeof value === 'object') {
      Object.values(value).forEach(visit);
    }
  };
  visit(document);
  return urls;
}

/**
 * The package versions a document installs, read from package version ARNs anywhere in it
 * (`arn:aws:iot:REGION:ACCOUNT:package/NAME/version/VERSION`); `$null` means the package is removed.
 */
export function packageVersions(document: unknown): Record<string, string | null> {
  const found: Record<string, string | null> = {};
  const text = typeof document === 'string' ? document : JSON.stringify(document ?? null);
  for (const match of text.matchAll(/arn:aws:iot:[^:"]*:\d*:package\/([a-zA-Z0-9_.-]+)\/version\/(\$null|[a-zA-Z0-9_.-]+)/g)) {
    found[match[1]!] = match[2] === '$null' ? null : match[2]!;
  }
  return found;
}

/** Things `prefix0001` … as many as asked, zero-padded so they sort in order. */
export function thingNames(prefix: string, count: number): string[] {
  const width = String(Math.max(count - 1, 0)).length;
  return Array.from({ length: count }, (_, i) => `${prefix}${String(i).padStart(width, '0')}`);
}

/** Human-readable remaining time, e.g. "1m05s". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '--';
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}
