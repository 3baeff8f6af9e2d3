// The effect runner: one loop per process that claims due rows of the effects table and hands each to the handler
// of its kind. It wakes after every commit (Store.afterCommit), at the earliest due time, and on a slow poll that
// picks up rows written by other replicas. Handlers run after the commit that wrote the row, outside any
// transaction; a handler that throws is retried with backoff and, after MAX_ATTEMPTS, the row is kept as dead with
// its reason. Delivery is at least once: a handler must be safe to run again (they read current state).
import type { Logger } from 'pino';
import { effects, type ClaimedEffect, type EffectKind } from '../store/effects.ts';
import type { Store } from '../store/store.ts';

export type EffectHandlers = { [K in EffectKind]?: (effect: ClaimedEffect<K>) => Promise<void> };

export interface EffectRunnerOptions {
  store: Store;
  handlers: EffectHandlers;
  log: Logger;
  /** Rows claimed per round. */
  batch?: number;
  /** Handlers running at once within a round. */
  concurrency?: number;
  /**
   * How long a claim holds before another runner may take the row over (a crashed runner's rows come back); the
   * runner renews the claims of rows it is still working on every third of it.
   */
  leaseMs?: number;
  /** Longest sleep between rounds: how soon rows written by another replica are seen. */
  pollMs?: number;
}

export const MAX_ATTEMPTS = 8;

/** Backoff before attempt n+1: 1 s, 2 s, 4 s … capped at 5 minutes. */
export const retryDelay = (attempts: number) => Math.min(1000 * 2 ** (attempts - 1), 5 * 60 * 1000);

export class EffectRunner {
  private readonly batch: number;
  private readonly concurrency: number;
  private readonly leaseMs: number;
  private readonly pollMs: number;
  private running?: Promise<void>;
  private stopped = false;
  private wakeRequested = false;
  private timer?: NodeJS.Timeout;
  private sleeper?: () => void;

  constructor(private readonly options: EffectRunnerOptions) {
    this.batch = options.batch ?? 256;
    this.concurrency = options.concurrency ?? 64;
    this.leaseMs = options.leaseMs ?? 15_000;
    this.pollMs = options.pollMs ?? (options.store.dialect === 'postgres' ? 500 : 5000);
  }

  /** Starts the loop. On SQLite the process owns the store, so claims a killed predecessor left are ended first. */
  async start(): Promise<void> {
    if (this.options.store.dialect === 'sqlite') await effects.expireClaims(this.options.store.db, Date.now());
    this.running ??= this.loop();
  }

  /** Asks for a round now (after a commit). Cheap: wakes a sleeping loop, or marks a running one to go again. */
  readonly wake = (): void => {
    this.wakeRequested = true;
    this.sleeper?.();
  };

  /** Finishes the round in flight, then stops. Unfinished rows stay claimed until their lease ends. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.sleeper?.();
    await this.running;
  }

  /** Runs rounds until nothing is due; for tests and for a drain before shutdown. */
  async drain(): Promise<void> {
    while ((await this.round()) > 0);
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      this.wakeRequested = false;
      let claimed = 0;
      try {
        claimed = await this.round();
      } catch (err) {
        this.options.log.error({ err }, 'effect runner round failed');
        await this.sleep(1000);
        continue;
      }
      if (claimed > 0 || this.wakeRequested) continue;
      await this.sleep(await this.untilNextDue());
    }
  }

  private async untilNextDue(): Promise<number> {
    try {
      const at = await effects.nextDue(this.options.store.db);
      return at === undefined ? this.pollMs : Math.max(0, Math.min(this.pollMs, at - Date.now()));
    } catch {
      return this.pollMs;
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped || this.wakeRequested) return Promise.resolve();
    return new Promise((resolve) => {
      this.sleeper = () => {
        clearTimeout(this.timer);
        this.sleeper = undefined;
        resolve();
      };
      this.timer = setTimeout(this.sleeper, ms);
    });
  }

  /** One round: claim, run, record. Returns how many rows it claimed. */
  private async round(): Promise<number> {
    const { store, log } = this.options;
    const claimed = await effects.claim(store.db, store.dialect, Date.now(), this.batch, this.leaseMs);
    if (claimed.length === 0) return 0;
    const done: number[] = [];
    let next = 0;
    // Keep the claims of this round's rows while their handlers run (a long fan-out step, a slow broker).
    const inFlight = new Set(claimed.map((e) => e.id));
    const renew = setInterval(() => {
      effects.extend(store.db, [...inFlight], Date.now() + this.leaseMs).catch((err) => log.warn({ err }, 'renewing effect claims failed'));
    }, this.leaseMs / 3);
    const worker = async () => {
      while (next < claimed.length) {
        const effect = claimed[next++]!;
        try {
          await this.run(effect);
          done.push(effect.id);
          inFlight.delete(effect.id);
        } catch (err) {
          inFlight.delete(effect.id);
          const dead = effect.attempts >= MAX_ATTEMPTS;
          const reason = err instanceof Error ? err.message : String(err);
          if (dead) log.error({ err, kind: effect.kind, subject: effect.subject, attempts: effect.attempts }, 'effect failed for good; kept as dead');
          else log.warn({ err, kind: effect.kind, subject: effect.subject, attempts: effect.attempts }, 'effect failed; will retry');
          await effects
            .failed(store.db, effect.id, reason, Date.now() + retryDelay(effect.attempts), dead)
            .catch((e) => log.error({ err: e }, 'recording an effect failure failed'));
        }
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.min(this.concurrency, claimed.length) }, worker));
    } finally {
      clearInterval(renew);
    }
    await effects.done(store.db, done);
    return claimed.length;
  }

  private async run(effect: ClaimedEffect): Promise<void> {
    const handler = this.options.handlers[effect.kind] as ((e: ClaimedEffect) => Promise<void>) | undefined;
    // A kind this process has no use for (say, MQTT messages while no broker runs) is done by doing nothing.
    if (handler) await handler(effect);
  }
}
