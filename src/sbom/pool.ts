// Runs validateSbom in worker threads (sbom.md §6.6): JSON validation needs ~10× the file size in
// memory and blocks its thread for about a second per 50 MB, so it must neither share the server's
// heap nor its event loop. Each job has a timeout; a timed-out or crashed worker is replaced and
// its job resolves to one FAILED report, never to a rejected promise.
import { Worker } from 'node:worker_threads';
import { failed, type FileReport, type SbomFormat, type SbomValidateOptions } from './types.ts';
import type { JobResult } from './worker.ts';

export interface SbomPoolOptions extends SbomValidateOptions {
  /** Jobs validated at the same time, one worker each. Default 1. */
  concurrency?: number;
  /** Per-job wall-clock limit. Default 60 s. */
  timeoutMs?: number;
  /** V8 old-generation cap of each worker. Default 1024 MiB. (WebAssembly memory of the XML engine is outside it.) */
  maxOldGenerationSizeMb?: number;
  /**
   * V8 young generation of each worker. Default 96 MiB: JSON.parse of a big SBOM allocates fast, and
   * a roomier nursery measured about 2× faster parsing than V8's default on 20 MB documents.
   */
  maxYoungGenerationSizeMb?: number;
  /**
   * A worker that put more XML than this through libxml2 in one job is replaced afterwards: the
   * WebAssembly memory of the XML engine grows to fit the largest document and never shrinks.
   * (V8's own heap does shrink after GC.) Default 16 MiB.
   */
  recycleAboveXmlBytes?: number;
}

interface Job {
  id: number;
  timeoutMs: number;
  objectName: string;
  bytes: ArrayBuffer;
  resolve: (reports: FileReport[]) => void;
  reject: (err: Error) => void;
}

interface Slot {
  worker?: Worker;
  job?: Job;
  timer?: NodeJS.Timeout;
  lastError?: Error;
}

// The compiled build (dist/) starts its worker.js directly; the sources (tests, under tsx) go through
// worker-boot.mjs, which registers tsx in the worker first.
const BOOT = import.meta.url.endsWith('.ts') ? new URL('./worker-boot.mjs', import.meta.url) : new URL('./worker.js', import.meta.url);

/** The buffer to hand over; a view into a larger buffer (e.g. Node's Buffer pool) is copied instead. */
function ownBuffer(bytes: Uint8Array): ArrayBuffer {
  const b = bytes.buffer;
  if (b instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === b.byteLength) return b;
  // Not bytes.slice(): on a Buffer that is a view, and its .buffer may be Node's shared pool.
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return copy.buffer;
}

export class SbomValidatorPool {
  private readonly slots: Slot[];
  private readonly queue: Job[] = [];
  private readonly timeoutMs: number;
  private readonly maxOldMb: number;
  private readonly maxYoungMb: number;
  private readonly recycleAboveXmlBytes: number;
  private readonly workerOptions: SbomValidateOptions;
  private nextId = 1;
  private closed = false;
  private readonly counters = { workersStarted: 0, recycled: 0, timedOut: 0, crashed: 0 };

  constructor(opts: SbomPoolOptions = {}) {
    const concurrency = Math.max(1, Math.floor(opts.concurrency ?? 1));
    this.slots = Array.from({ length: concurrency }, () => ({}));
    this.timeoutMs = opts.timeoutMs ?? 60_000;
    this.maxOldMb = opts.maxOldGenerationSizeMb ?? 1024;
    this.maxYoungMb = opts.maxYoungGenerationSizeMb ?? 96;
    this.recycleAboveXmlBytes = opts.recycleAboveXmlBytes ?? 16 * 1024 * 1024;
    this.workerOptions = {
      ...(opts.limits ? { limits: { ...opts.limits } } : {}),
      ...(opts.accepted ? { accepted: [...opts.accepted] as SbomFormat[] } : {}),
      ...(opts.lenientSpdx23 !== undefined ? { lenientSpdx23: opts.lenientSpdx23 } : {}),
    };
  }

  /**
   * Validate one object in a worker. The bytes' buffer is transferred, not copied, when `bytes`
   * spans a whole ArrayBuffer: the caller's view is detached afterwards. `timeoutMs` overrides the
   * pool's per-job timeout for this call.
   */
  validate(bytes: Uint8Array, objectName: string, opts: { timeoutMs?: number } = {}): Promise<FileReport[]> {
    if (this.closed) return Promise.reject(new Error('SbomValidatorPool is closed'));
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, timeoutMs, objectName, bytes: ownBuffer(bytes), resolve, reject });
      this.pump();
    });
  }

  /** Worker lifecycle counts, for metrics and tests. */
  stats(): { workersStarted: number; recycled: number; timedOut: number; crashed: number } {
    return { ...this.counters };
  }

  async close(): Promise<void> {
    this.closed = true;
    const gone = new Error('SbomValidatorPool is closed');
    for (const job of this.queue.splice(0)) job.reject(gone);
    await Promise.all(
      this.slots.map(async (slot) => {
        if (slot.timer) clearTimeout(slot.timer);
        slot.job?.reject(gone);
        slot.job = undefined;
        const w = slot.worker;
        slot.worker = undefined;
        if (w) await w.terminate();
      }),
    );
  }

  private spawn(slot: Slot): Worker {
    this.counters.workersStarted++;
    const w = new Worker(BOOT, {
      // No inherited flags: under the sources worker-boot.mjs registers tsx itself (see there).
      execArgv: [],
      workerData: { options: this.workerOptions },
      resourceLimits: { maxOldGenerationSizeMb: this.maxOldMb, maxYoungGenerationSizeMb: this.maxYoungMb },
    });
    w.on('message', (msg: JobResult) => {
      if (slot.worker !== w || slot.job?.id !== msg.id) return;
      if (msg.xmlBytes > this.recycleAboveXmlBytes) {
        this.counters.recycled++;
        slot.worker = undefined; // its 'exit' is then ignored; the next job starts a fresh one
        void w.terminate();
      }
      this.finish(slot, msg.reports);
    });
    w.on('error', (err) => {
      if (slot.worker === w) slot.lastError = err;
    });
    w.on('exit', (code) => {
      if (slot.worker !== w) return; // already replaced (timeout) or closed
      slot.worker = undefined;
      const job = slot.job;
      if (job) {
        this.counters.crashed++;
        this.finish(slot, [this.crashReport(job.objectName, slot.lastError, code)]);
      }
      slot.lastError = undefined;
    });
    return w;
  }

  private crashReport(objectName: string, err: Error | undefined, code: number): FileReport {
    if ((err as { code?: string } | undefined)?.code === 'ERR_WORKER_OUT_OF_MEMORY') {
      return failed(objectName, 'FILE_SIZE_LIMIT_EXCEEDED', `validation exceeded the ${this.maxOldMb} MiB memory limit`);
    }
    const why = err ? `${err.name}: ${err.message}` : `exit code ${code}`;
    return failed(objectName, 'INCOMPATIBLE_FORMAT', `the validator crashed (${why})`);
  }

  private finish(slot: Slot, reports: FileReport[]): void {
    const job = slot.job;
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = undefined;
    slot.job = undefined;
    slot.worker?.unref(); // an idle pool must not keep the process alive
    job?.resolve(reports);
    this.pump();
  }

  private onTimeout(slot: Slot): void {
    const job = slot.job;
    const w = slot.worker;
    slot.worker = undefined; // replaced on the next job; its 'exit' is then ignored
    if (w) void w.terminate();
    this.counters.timedOut++;
    if (job) {
      slot.timer = undefined;
      this.finish(slot, [failed(job.objectName, 'FILE_SIZE_LIMIT_EXCEEDED', `validation did not finish within ${job.timeoutMs} ms`)]);
    }
  }

  private pump(): void {
    if (this.closed) return;
    for (const slot of this.slots) {
      if (slot.job || this.queue.length === 0) continue;
      const job = this.queue.shift()!;
      slot.job = job;
      try {
        slot.worker ??= this.spawn(slot);
        slot.worker.ref();
        try {
          slot.worker.postMessage({ id: job.id, objectName: job.objectName, bytes: job.bytes }, [job.bytes]);
        } catch {
          // e.g. an untransferable buffer: fall back to a copy
          const copy = job.bytes.slice(0);
          slot.worker.postMessage({ id: job.id, objectName: job.objectName, bytes: copy }, [copy]);
        }
      } catch (err) {
        this.finish(slot, [failed(job.objectName, 'INCOMPATIBLE_FORMAT', `the validator could not start: ${(err as Error).message}`)]);
        continue;
      }
      slot.timer = setTimeout(() => this.onTimeout(slot), job.timeoutMs);
    }
  }
}
