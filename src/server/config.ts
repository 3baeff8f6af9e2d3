// Flotilla's settings: defaults, and the checks that refuse an unsafe or impossible setup before it starts.
import { join, resolve } from 'node:path';
import type { TopicHandler } from '../bus/types.ts';
import { DEFAULT_LIMITS, SBOM_FORMATS, type SbomConfig, type SbomFormat } from '../sbom/types.ts';

export interface FlotillaOptions {
  host?: string;
  port?: number;
  /** MQTT port of the embedded broker; 0 picks a free one, `off` runs no broker. */
  mqttPort?: number | 'off';
  dataDir?: string;
  /** `sqlite:<file>` or `postgres://…`; default `sqlite:<dataDir>/flotilla.db` */
  database?: string;
  /** In-process only: handlers of reserved device topics consulted before the built-in ones (tests, embedders). */
  topicHandlers?: TopicHandler[];
  /** `embedded` (default), or `mqtt://…` / `mqtts://…` of an external broker Flotilla connects to as a client. */
  broker?: string;
  /** `embedded` (default: the S3-compatible endpoint on the API port) or the http(s) URL of an external S3. */
  blob?: string;
  /** Largest single PutObject the embedded endpoint accepts, in bytes; default 5 GiB as S3. */
  maxObjectSize?: number;
  /** Deadline of one call to an external S3 (`blob: <url>`), in milliseconds; default 5000. */
  blobTimeoutMs?: number;
  /** Seconds a stop (SIGTERM) waits for in-flight requests before the process exits anyway; default 10. */
  shutdownTimeout?: number;
  /** Longest time to receive one whole request, headers and body, in milliseconds; default 15 minutes. */
  requestTimeoutMs?: number;
  account?: string;
  region?: string;
  /** Unset means `off` on a loopback address; any other address needs it said explicitly. */
  auth?: 'off' | 'sigv4';
  /** `ACCESS_KEY_ID:SECRET[,…]`, the keys `--auth sigv4` accepts. */
  credentials?: string;
  /** Allow POST /_flotilla/reset (unauthenticated); default only with the embedded SQLite store and auth off. */
  allowReset?: boolean;
  logLevel?: string;
  /** SBOM formats accepted by validation: a comma list or array of e.g. `cyclonedx-json-1.5`, `spdx-json-2.3`; default all. */
  sbomFormats?: string | string[];
  /** Largest SBOM object (a single file or a zip) validation reads, in bytes; default 100 MiB. */
  sbomMaxObjectSize?: number;
  /** Largest single SBOM file (uncompressed), in bytes; default 50 MiB. */
  sbomMaxFileSize?: number;
  /** Most SBOM files in one zip; default 100. */
  sbomMaxZipEntries?: number;
  /** Validations run at the same time (one worker thread each); default 1. */
  sbomConcurrency?: number;
  /** Wall-clock limit of one validation, in milliseconds; default 60000. */
  sbomTimeoutMs?: number;
  /** Rehearsal mode: the rollout engine's clocks run this many times faster; default 1. */
  timeScale?: number;
  /** Most executions one job releases per minute, on top of its own rollout config; default none. */
  maxExecutionsPerMinute?: number;
}

export interface FlotillaConfig {
  host: string;
  port: number;
  /** The embedded listener's port, `off` when there is none (`--mqtt-port off`, or an external broker). */
  mqttPort: number | 'off';
  dataDir: string;
  database: string;
  /** `embedded`, or the URL of an external MQTT broker. */
  broker: string;
  blob: string;
  maxObjectSize: number;
  blobTimeoutMs: number;
  shutdownTimeoutMs: number;
  requestTimeoutMs: number;
  account: string;
  region: string;
  auth: 'off' | 'sigv4';
  credentials: Map<string, string>;
  allowReset: boolean;
  logLevel: string;
  sbom: SbomConfig;
  timeScale: number;
  maxExecutionsPerMinute?: number;
}

export class ConfigError extends Error {}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|::1|\[::1\])$/;

export function resolveConfig(options: FlotillaOptions): FlotillaConfig {
  const host = options.host ?? '127.0.0.1';
  const dataDir = resolve(options.dataDir ?? '.flotilla');
  const database = options.database ?? `sqlite:${join(dataDir, 'flotilla.db')}`;
  if (!database.startsWith('sqlite:') && !/^postgres(ql)?:\/\//.test(database)) {
    throw new ConfigError(`--database must be sqlite:<file> or postgres://…, not ${database}`);
  }
  const broker = checkBroker(options.broker ?? 'embedded');
  const blob = checkBlob(options.blob ?? 'embedded');
  const maxObjectSize = options.maxObjectSize ?? 5 * 1024 ** 3;
  if (!Number.isSafeInteger(maxObjectSize) || maxObjectSize < 0) throw new ConfigError(`--max-object-size must be a number of bytes, not ${maxObjectSize}`);
  const blobTimeoutMs = options.blobTimeoutMs ?? 5000;
  if (!Number.isSafeInteger(blobTimeoutMs) || blobTimeoutMs < 1)
    throw new ConfigError(`--blob-timeout-ms must be a whole number of milliseconds of at least 1, not ${blobTimeoutMs}`);
  const shutdownTimeout = options.shutdownTimeout ?? 10;
  if (!Number.isFinite(shutdownTimeout) || shutdownTimeout < 0) throw new ConfigError(`--shutdown-timeout must be a number of seconds, not ${shutdownTimeout}`);
  const requestTimeoutMs = options.requestTimeoutMs ?? 15 * 60 * 1000;
  if (!Number.isSafeInteger(requestTimeoutMs) || requestTimeoutMs < 1)
    throw new ConfigError(`--request-timeout-ms must be a whole number of milliseconds, not ${requestTimeoutMs}`);
  const account = options.account ?? '000000000000';
  if (!/^\d{12}$/.test(account)) throw new ConfigError(`--account must be 12 digits, not ${account}`);
  const credentials = parseCredentials(options.credentials ?? '');
  if (options.auth === undefined && !LOOPBACK.test(host)) {
    throw new ConfigError(
      `Refusing to listen on ${host} without authentication. Pass --auth sigv4 with --credentials KEY:SECRET, or --auth off to accept unsigned requests from the network.`,
    );
  }
  const auth = options.auth ?? 'off';
  if (auth !== 'off' && auth !== 'sigv4') throw new ConfigError(`--auth must be off or sigv4, not ${auth}`);
  if (auth === 'sigv4' && credentials.size === 0) throw new ConfigError('--auth sigv4 needs at least one key: --credentials ACCESS_KEY_ID:SECRET');
  return {
    host,
    port: checkPort('--port', options.port ?? 4580),
    mqttPort: broker !== 'embedded' || options.mqttPort === 'off' ? 'off' : checkPort('--mqtt-port', options.mqttPort ?? 1883),
    dataDir,
    database,
    broker,
    blob,
    maxObjectSize,
    blobTimeoutMs,
    shutdownTimeoutMs: Math.round(shutdownTimeout * 1000),
    requestTimeoutMs,
    account,
    region: options.region ?? 'us-east-1',
    auth,
    credentials,
    // The reset endpoint is unauthenticated: with signatures required it must be asked for explicitly.
    allowReset: options.allowReset ?? (database.startsWith('sqlite:') && auth === 'off'),
    logLevel: options.logLevel ?? 'info',
    sbom: resolveSbom(options),
    timeScale: wholeNumber('--time-scale', options.timeScale ?? 1),
    maxExecutionsPerMinute:
      options.maxExecutionsPerMinute === undefined ? undefined : wholeNumber('--max-executions-per-minute', options.maxExecutionsPerMinute),
  };
}

function resolveSbom(options: FlotillaOptions): SbomConfig {
  const given = options.sbomFormats ?? [...SBOM_FORMATS];
  const names = (Array.isArray(given) ? given : given.split(',')).map((f) => f.trim()).filter(Boolean);
  const unknown = names.filter((f) => !(SBOM_FORMATS as readonly string[]).includes(f));
  if (unknown.length || names.length === 0) {
    throw new ConfigError(`--sbom-formats takes a comma list of ${SBOM_FORMATS.join(', ')}; not ${unknown.length ? unknown.join(', ') : 'an empty list'}`);
  }
  const count = (flag: string, value: number | undefined, fallback: number, min: number) => {
    const n = value ?? fallback;
    if (!Number.isSafeInteger(n) || n < min) throw new ConfigError(`${flag} must be a whole number of at least ${min}, not ${n}`);
    return n;
  };
  return {
    formats: [...new Set(names)] as SbomFormat[],
    maxObjectSize: count('--sbom-max-object-size', options.sbomMaxObjectSize, DEFAULT_LIMITS.maxObjectBytes, 1),
    maxFileSize: count('--sbom-max-file-size', options.sbomMaxFileSize, DEFAULT_LIMITS.maxFileBytes, 1),
    maxZipEntries: count('--sbom-max-zip-entries', options.sbomMaxZipEntries, DEFAULT_LIMITS.maxZipEntries, 1),
    concurrency: count('--sbom-concurrency', options.sbomConcurrency, 1, 1),
    timeoutMs: count('--sbom-timeout-ms', options.sbomTimeoutMs, 60_000, 1),
  };
}

function wholeNumber(flag: string, n: number): number {
  if (!Number.isSafeInteger(n) || n < 1) throw new ConfigError(`${flag} must be a whole number of at least 1, not ${n}`);
  return n;
}

/** The URL `value` spells, or undefined where it is not one. */
function parsedUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

function checkBlob(value: string): string {
  if (value === 'embedded') return value;
  const url = parsedUrl(value);
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:'))
    throw new ConfigError(`--blob must be embedded or the http(s) URL of an S3 endpoint, not ${value}`);
  return value;
}

function checkBroker(value: string): string {
  if (value === 'embedded') return value;
  const url = parsedUrl(value);
  if (!url || !['mqtt:', 'mqtts:', 'ws:', 'wss:'].includes(url.protocol) || !url.hostname) {
    throw new ConfigError(`--broker must be embedded or the mqtt(s):// URL of an MQTT 5 broker, not ${value}`);
  }
  return value;
}

function checkPort(flag: string, port: number): number {
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`${flag} must be a port number from 0 to 65535, not ${port}`);
  return port;
}

function parseCredentials(text: string): Map<string, string> {
  const keys = new Map<string, string>();
  for (const pair of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const colon = pair.indexOf(':');
    if (colon <= 0 || colon === pair.length - 1) throw new ConfigError(`--credentials takes ACCESS_KEY_ID:SECRET pairs separated by commas`);
    keys.set(pair.slice(0, colon), pair.slice(colon + 1));
  }
  return keys;
}
