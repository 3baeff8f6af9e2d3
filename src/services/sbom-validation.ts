// The background SBOM validator: claims IN_PROGRESS validations (a lease on the version row, so replicas on one
// PostgreSQL share the work and a crashed process's work is taken up again), reads the object through the
// BlobStore, validates it in the worker pool, and writes the per-file results and the final status in one
// transaction, unless the SBOM was re-associated or disassociated meanwhile (the generation changed).
import type { Logger } from 'pino';
import type { Readable } from 'node:stream';
import type * as IoT from '@aws-sdk/client-iot';
import type { BlobStore } from '../blob/blob.ts';
import { SbomValidatorPool } from '../sbom/pool.ts';
import { failed, type FileReport } from '../sbom/types.ts';
import type { SbomConfig } from '../sbom/types.ts';
import type { SbomResultRow } from '../store/schema.ts';
import { sbomWork, type SbomClaim, type VersionKey } from '../store/sbom.ts';
import type { Store } from '../store/store.ts';

export interface SbomValidatorOptions {
  store: Store;
  blob: BlobStore;
  config: SbomConfig;
  log: Logger;
  /** How often the store is polled for work (also picks up other replicas' and crashed processes' work). */
  pollMs?: number;
  /** How long a claim holds without renewal; renewed every third of it while the validation runs. */
  leaseMs?: number;
}

const keyOf = (k: VersionKey) => JSON.stringify([k.account, k.region, k.package_name, k.version_name]);

/** Claims of one validation before it ends FAILED: its results could not be stored, or it never finished. */
export const MAX_SBOM_ATTEMPTS = 3;
/** After a failed write the validation waits this long times the attempt number before it is claimed again. */
const RETRY_DELAY_MS = 1000;

/** Text as both stores keep it: PostgreSQL refuses U+0000 (a zip entry may be named `a\0b.json`). */
const storable = (text: string) => text.replaceAll('\u0000', '\uFFFD');

export class SbomValidator {
  private readonly pool: SbomValidatorPool;
  private readonly pollMs: number;
  private readonly leaseMs: number;
  private readonly active = new Map<string, Promise<void>>();
  private timer?: NodeJS.Timeout;
  /** The claiming loop while it runs (stop waits for it: it holds a transaction). */
  private pumping?: Promise<void>;
  private again = false;
  private stopped = false;

  constructor(private readonly options: SbomValidatorOptions) {
    const { config } = options;
    this.pool = new SbomValidatorPool({
      concurrency: config.concurrency,
      timeoutMs: config.timeoutMs,
      accepted: config.formats,
      limits: { maxObjectBytes: config.maxObjectSize, maxFileBytes: config.maxFileSize, maxZipEntries: config.maxZipEntries },
    });
    this.pollMs = options.pollMs ?? 1000;
    this.leaseMs = options.leaseMs ?? 15_000;
  }

  async start(): Promise<void> {
    // With SQLite this process alone owns the data dir: any lease left is a crashed process's.
    if (this.options.store.dialect === 'sqlite') await sbomWork.releaseAll(this.options.store.db);
    this.timer = setInterval(() => this.pump(), this.pollMs);
    this.timer.unref();
    this.pump();
  }

  /** Looks for work soon (after an associate commits; a second look covers a commit still in flight). */
  nudge = (): void => {
    if (this.stopped) return;
    setTimeout(() => this.pump(), 0).unref();
    setTimeout(() => this.pump(), 100).unref();
  };

  /** Stops claiming, abandons running validations without writing (their lease expires; they run again later). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.pool.close();
    await this.pumping;
    await Promise.allSettled([...this.active.values()]);
  }

  private pump(): void {
    if (this.stopped) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = this.fill()
      .catch((err) => this.options.log.warn({ err }, 'claiming SBOM validations failed'))
      .finally(() => {
        this.pumping = undefined;
        if (this.again) {
          this.again = false;
          this.pump();
        }
      });
  }

  private async fill(): Promise<void> {
    const { store } = this.options;
    while (!this.stopped && this.active.size < this.options.config.concurrency) {
      const claim = await store.transaction((tx) => sbomWork.claim(tx, store.dialect, Date.now(), this.leaseMs, (k) => this.active.has(keyOf(k))));
      if (!claim || this.stopped) return;
      const id = keyOf(claim);
      const run = this.run(claim)
        .catch((err) => this.options.log.error({ err, packageName: claim.package_name, versionName: claim.version_name }, 'SBOM validation failed'))
        .finally(() => {
          this.active.delete(id);
          this.pump();
        });
      this.active.set(id, run);
    }
  }

  private async run(claim: SbomClaim): Promise<void> {
    const { store, log } = this.options;
    // Claimed too often without an end (the process died each time, or the results could not be stored).
    if (claim.attempt > MAX_SBOM_ATTEMPTS) return this.giveUp(claim, `the validation was started ${MAX_SBOM_ATTEMPTS} times without completing`);
    const renew = setInterval(
      () => {
        sbomWork.renew(store.db, claim, Date.now() + this.leaseMs).catch((err) => log.warn({ err }, 'renewing an SBOM lease failed'));
      },
      Math.max(100, Math.floor(this.leaseMs / 3)),
    );
    renew.unref();
    try {
      const reports = await this.validate(claim);
      if (this.stopped) return;
      const status = reports.length > 0 && reports.every((r) => r.validationResult === 'SUCCEEDED') ? 'SUCCEEDED' : 'FAILED';
      const rows = reports.map((r, seq) => this.row(claim, seq, r));
      try {
        const written = await store.transaction((tx) => sbomWork.complete(tx, claim, status, rows));
        log.debug({ packageName: claim.package_name, versionName: claim.version_name, status, written }, 'SBOM validated');
      } catch (err) {
        const where = { err, packageName: claim.package_name, versionName: claim.version_name, attempt: claim.attempt };
        log.error(where, 'storing the SBOM validation results failed');
        if (claim.attempt >= MAX_SBOM_ATTEMPTS)
          return await this.giveUp(claim, `its results could not be stored after ${claim.attempt} attempts: ${(err as Error).message}`);
        await sbomWork.release(store.db, claim, Date.now() + RETRY_DELAY_MS * claim.attempt);
      }
    } finally {
      clearInterval(renew);
    }
  }

  /** Ends the validation FAILED with one result saying why; without even that result when it cannot be stored. */
  private async giveUp(claim: SbomClaim, reason: string): Promise<void> {
    const { store, log } = this.options;
    const key = (JSON.parse(claim.sbom) as IoT.Sbom).s3Location?.key ?? claim.version_name;
    const row = this.row(claim, 0, failed(key, 'INCOMPATIBLE_FORMAT', `Flotilla could not complete this validation: ${reason}`));
    log.error({ packageName: claim.package_name, versionName: claim.version_name, attempt: claim.attempt, reason }, 'SBOM validation FAILED: giving up');
    try {
      await store.transaction((tx) => sbomWork.complete(tx, claim, 'FAILED', [row]));
    } catch (err) {
      log.error(
        { err, packageName: claim.package_name, versionName: claim.version_name },
        'storing the SBOM give-up result failed; setting FAILED without results',
      );
      await store.transaction((tx) => sbomWork.complete(tx, claim, 'FAILED', []));
    }
  }

  private row(claim: SbomClaim, seq: number, r: FileReport): SbomResultRow {
    return {
      account: claim.account,
      region: claim.region,
      package_name: claim.package_name,
      version_name: claim.version_name,
      seq,
      file_name: storable(r.fileName),
      validation_result: r.validationResult,
      error_code: r.errorCode ?? null,
      error_message: r.errorMessage === undefined ? null : storable(r.errorMessage),
      report: JSON.stringify({ ...(r.format ? { format: r.format } : {}), errors: r.errors, warnings: r.warnings }),
    };
  }

  /** The reports of one validation; never throws for a bad or unreadable object. */
  private async validate(claim: SbomClaim): Promise<FileReport[]> {
    const location = (JSON.parse(claim.sbom) as IoT.Sbom).s3Location!;
    const loc = { bucket: location.bucket!, key: location.key!, ...(location.version !== undefined ? { version: location.version } : {}) };
    const name = loc.key;
    const where = `s3://${loc.bucket}/${loc.key}${loc.version !== undefined ? ` (version ${loc.version})` : ''}`;
    const max = this.options.config.maxObjectSize;
    let bytes: Buffer;
    try {
      const object = await this.options.blob.get(claim, loc);
      if (!object) return [failed(name, 'INCOMPATIBLE_FORMAT', `The SBOM object ${where} no longer exists or cannot be read`)];
      if (object.size > max) {
        object.stream.destroy();
        return [failed(name, 'FILE_SIZE_LIMIT_EXCEEDED', `The SBOM object is ${object.size} bytes, over the ${max}-byte limit`)];
      }
      const read = await readCapped(object.stream, max);
      if (read === undefined) return [failed(name, 'FILE_SIZE_LIMIT_EXCEEDED', `The SBOM object is over the ${max}-byte limit`)];
      bytes = read;
    } catch (err) {
      return [failed(name, 'INCOMPATIBLE_FORMAT', `The SBOM object ${where} cannot be read: ${(err as Error).message}`)];
    }
    if (this.stopped) return [];
    try {
      return await this.pool.validate(bytes, name);
    } catch (err) {
      if (this.stopped) return [];
      return [failed(name, 'INCOMPATIBLE_FORMAT', `validation error: ${(err as Error).message}`)];
    }
  }
}

/** The whole stream, or undefined (and the stream destroyed) once it passes `max` bytes. */
async function readCapped(stream: Readable, max: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    total += buf.length;
    if (total > max) {
      stream.destroy();
      return undefined;
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks, total);
}
