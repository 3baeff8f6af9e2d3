// The effects table: what must happen after a commit is written in the same transaction as the change, then
// claimed and carried out by the effect runner (src/engine/effects.ts). See docs/architecture.md.
import { sql, type Selectable } from 'kysely';
import type { Scope } from '../domain/arn.ts';
import type { Dialect } from './migrations.ts';
import type { Db, EffectRow } from './schema.ts';

/**
 * Every kind of effect and its payload. A kind listed in COALESCING keeps at most one waiting row per subject: its
 * handler reads the current state, so ten changes before it runs need one run, not ten.
 */
export interface EffectPayloads {
  /** A thing's group memberships changed: CONTINUOUS jobs follow (subject: the thing). */
  'registry.membership': Record<string, never>;
  /** An SBOM waits for validation (subject: ''). */
  'sbom.validate': Record<string, never>;
  /** A thing's pending job executions changed: devices hear `notify` / `notify-next` (subject: the thing). */
  'device.jobs-changed': Record<string, never>;
  /** Executions of a job changed: the engine re-evaluates completion, aborts, retries and rates (subject: the job id). */
  'job.progress': Record<string, never>;
  /** The rollout engine's work item and durable timer of one job: fan-out, rates, schedule, timeouts (subject: the job id). */
  'job.rollout': Record<string, never>;
  /** An execution SUCCEEDED with package versions to record in the thing's `$package` shadow; null removes (subject: the thing). */
  'package.installed': { jobId: string; packages: Record<string, string | null> };
  /**
   * One MQTT message to publish, in order per topic (subject: the topic). `base64`: the payload is bytes, base64
   * encoded; `asRequest`: published through iot-data Publish, so a request topic is answered as a device's would be.
   */
  'mqtt.publish': { topic: string; payload: string; qos?: 0 | 1; retain?: boolean; base64?: boolean; asRequest?: boolean };
}

export type EffectKind = keyof EffectPayloads;

const COALESCING: ReadonlySet<EffectKind> = new Set(['registry.membership', 'sbom.validate', 'device.jobs-changed', 'job.progress', 'job.rollout']);

export interface Effect<K extends EffectKind = EffectKind> {
  kind: K;
  subject: string;
  payload: EffectPayloads[K];
  /** Epoch ms; now when omitted. */
  dueAt?: number;
}

/** A claimed row, as its handler receives it. */
export interface ClaimedEffect<K extends EffectKind = EffectKind> {
  id: number;
  scope: Scope;
  kind: K;
  subject: string;
  payload: EffectPayloads[K];
  attempts: number;
}

export const effects = {
  /** Records effects in the caller's transaction; they run only if it commits. */
  async emit(db: Db, scope: Scope, list: Effect[]): Promise<void> {
    if (list.length === 0) return;
    const now = Date.now();
    const rows = list.map((e) => ({
      account: scope.account,
      region: scope.region,
      kind: e.kind,
      subject: e.subject,
      payload: JSON.stringify(e.payload),
      coalescing: COALESCING.has(e.kind) ? 1 : 0,
      due_at: e.dueAt ?? now,
      attempts: 0,
      claimed_until: null,
      dead: 0,
      last_error: null,
      created_at: now,
    }));
    for (let i = 0; i < rows.length; i += 200) {
      await db
        .insertInto('effects')
        .values(rows.slice(i, i + 200))
        // A waiting row of the same coalescing kind and subject already covers this change.
        // The predicate is written as literal SQL: SQLite matches it to the partial index only when it is the same text.
        .onConflict((oc) => oc.columns(['account', 'region', 'kind', 'subject']).where(sql<boolean>`coalescing = 1 and claimed_until is null`).doNothing())
        .execute();
    }
  },

  /**
   * A timer of a coalescing kind: its waiting row falls due at `dueAt`, or earlier if it already waits for an earlier
   * time. Emitting the same kind again therefore never postpones work that is already due.
   */
  async schedule(db: Db, scope: Scope, kind: EffectKind, subject: string, dueAt: number): Promise<void> {
    if (!COALESCING.has(kind)) throw new Error(`effects.schedule needs a coalescing kind, not ${kind}`);
    const now = Date.now();
    await db
      .insertInto('effects')
      .values({
        account: scope.account,
        region: scope.region,
        kind,
        subject,
        payload: '{}',
        coalescing: 1,
        due_at: dueAt,
        attempts: 0,
        claimed_until: null,
        dead: 0,
        last_error: null,
        created_at: now,
      })
      .onConflict((oc) =>
        oc
          .columns(['account', 'region', 'kind', 'subject'])
          .where(sql<boolean>`coalescing = 1 and claimed_until is null`)
          .doUpdateSet({ due_at: sql`case when excluded.due_at < effects.due_at then excluded.due_at else effects.due_at end` }),
      )
      .execute();
  },

  /** Shorthand: one MQTT message published after commit. */
  publish(db: Db, scope: Scope, topic: string, payload: unknown, qos: 0 | 1 = 1): Promise<void> {
    return effects.emit(db, scope, [
      { kind: 'mqtt.publish', subject: topic, payload: { topic, payload: typeof payload === 'string' ? payload : JSON.stringify(payload), qos } },
    ]);
  },

  /**
   * Claims up to `limit` due rows, at most one per (kind, subject) and only the earliest live one of each, for
   * `leaseMs`. One statement: atomic on SQLite; on PostgreSQL SKIP LOCKED lets replicas claim side by side.
   */
  async claim(db: Db, dialect: Dialect, now: number, limit: number, leaseMs: number): Promise<ClaimedEffect[]> {
    let candidates = db
      .selectFrom('effects as e')
      .select('e.id')
      .where('e.dead', '=', 0)
      .where('e.due_at', '<=', now)
      .where((eb) => eb.or([eb('e.claimed_until', 'is', null), eb('e.claimed_until', '<', now)]))
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('effects as p')
              .select('p.id')
              .whereRef('p.account', '=', 'e.account')
              .whereRef('p.region', '=', 'e.region')
              .whereRef('p.kind', '=', 'e.kind')
              .whereRef('p.subject', '=', 'e.subject')
              .whereRef('p.id', '<', 'e.id')
              .where('p.dead', '=', 0),
          ),
        ),
      )
      .orderBy('e.id')
      .limit(limit);
    if (dialect === 'postgres') candidates = candidates.forUpdate().skipLocked();
    const rows = await db
      .updateTable('effects')
      .set({ claimed_until: now + leaseMs, attempts: sql`attempts + 1` })
      .where('id', 'in', candidates)
      .returningAll()
      .execute();
    return rows.sort((a, b) => a.id - b.id).map(toClaimed);
  },

  /** Extends the lease of rows still being worked on. */
  async extend(db: Db, ids: number[], until: number): Promise<void> {
    for (let i = 0; i < ids.length; i += 500)
      await db
        .updateTable('effects')
        .set({ claimed_until: until })
        .where('id', 'in', ids.slice(i, i + 500))
        .where('dead', '=', 0)
        .execute();
  },

  /**
   * Ends every claim at once. Only for a store one process owns (the embedded SQLite file): claims left by a killed
   * predecessor are then taken up at start instead of when their lease runs out.
   */
  async expireClaims(db: Db, now: number): Promise<void> {
    await db.updateTable('effects').set({ claimed_until: now }).where('claimed_until', '>', now).where('dead', '=', 0).execute();
  },

  /** Rows whose effect was carried out. */
  async done(db: Db, ids: number[]): Promise<void> {
    for (let i = 0; i < ids.length; i += 500)
      await db
        .deleteFrom('effects')
        .where('id', 'in', ids.slice(i, i + 500))
        .execute();
  },

  /** A failed attempt: try again at `retryAt`, or give up (kept, `dead`, with the reason) when `dead` is set. */
  async failed(db: Db, id: number, error: string, retryAt: number, dead: boolean): Promise<void> {
    await db
      .updateTable('effects')
      .set({ last_error: error.slice(0, 2000), due_at: retryAt, claimed_until: retryAt, dead: dead ? 1 : 0 })
      .where('id', '=', id)
      .execute();
  },

  /** When the next live row falls due, if any. */
  async nextDue(db: Db): Promise<number | undefined> {
    const row = await db
      .selectFrom('effects')
      .select((eb) => eb.fn.min(eb.fn.coalesce('claimed_until', 'due_at')).as('at'))
      .where('dead', '=', 0)
      .executeTakeFirst();
    return row?.at == null ? undefined : Number(row.at);
  },

  /** Counts for the health endpoint: waiting (live) rows and dead ones. */
  async counts(db: Db): Promise<{ pending: number; dead: number }> {
    const rows = await db
      .selectFrom('effects')
      .select(['dead', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('dead')
      .execute();
    const of = (dead: number) => Number(rows.find((r) => Number(r.dead) === dead)?.n ?? 0);
    return { pending: of(0), dead: of(1) };
  },
};

function toClaimed(row: Selectable<EffectRow>): ClaimedEffect {
  return {
    id: Number(row.id),
    scope: { account: row.account, region: row.region },
    kind: row.kind as EffectKind,
    subject: row.subject,
    payload: JSON.parse(row.payload),
    attempts: row.attempts,
  };
}
