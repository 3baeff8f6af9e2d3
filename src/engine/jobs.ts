// The rollout engine: everything that happens to a job after the request that created it. One step runs in one
// short transaction under the job's row lock and reads current state, so a step may be repeated or run on any
// replica. Steps are triggered by effect rows: `job.progress` (an execution changed) and `job.rollout` (the job's
// durable timer: next batch, rate window, schedule change, execution deadline). Each step:
//   1. times out IN_PROGRESS executions whose timer ran out;
//   2. handles executions that ended: retry, `$package` update, execution events;
//   3. a CANCELED job cancels what its cancel left (in batches);
//   4. an active job checks its abort criteria, follows its schedule, releases the next batch of executions within
//      its rollout rate, and completes when nothing is left to do;
//   5. arms the job's timer for the next moment anything is due.
import type * as IoT from '@aws-sdk/client-iot';
import type { Logger } from 'pino';
import { parseArn, thingArn, type Scope } from '../domain/arn.ts';
import { evaluateAbort, type AbortConfig } from '../domain/jobs/abort.ts';
import { cancelForJob, newExecution, timeOut, type ExecutionStatus } from '../domain/jobs/execution-state.ts';
import { abortJob, closeWindow, completionDue, endTimeEffect, startScheduled, type JobStatus, type TargetSelection } from '../domain/jobs/job-state.ts';
import { decideRetry, type RetryConfig } from '../domain/jobs/retries.ts';
import { rolloutAllowance, WINDOW_MS, MAX_PER_MINUTE, type RolloutConfig } from '../domain/jobs/rollout.ts';
import { parseDateTime, schedulePhase, type SchedulingConfig } from '../domain/jobs/schedule.ts';
import { packageConfig } from '../store/catalog.ts';
import { effects } from '../store/effects.ts';
import { publishExecutionEvent, publishJobEvent } from '../store/event-config.ts';
import { patchOf as executionPatch, stateOf as executionState } from '../store/execution-rows.ts';
import { executions, jobs } from '../store/jobs.ts';
import { rollout } from '../store/rollout.ts';
import type { Db, JobExecutionRow, JobRow } from '../store/schema.ts';
import type { Store } from '../store/store.ts';
import { thingGroups } from '../store/things.ts';
import type { Clock } from './clock.ts';

export interface JobEngineOptions {
  store: Store;
  clock: Clock;
  log: Logger;
  /** Server-wide cap on the executions one job releases per minute (`--max-executions-per-minute`). */
  maxExecutionsPerMinute?: number;
  /** Executions written, settled or canceled per transaction. */
  batch?: number;
}

/** Steps one claim runs before the job yields to other work (it re-arms itself to go on at once). */
const STEPS_PER_TURN = 8;

interface Cursor {
  target: number;
  after?: string;
}

const parsed = <T>(text: string | null): T | undefined => (text === null ? undefined : (JSON.parse(text) as T));
const OPEN = ['QUEUED', 'IN_PROGRESS'];

export class JobEngine {
  private readonly batch: number;

  constructor(private readonly options: JobEngineOptions) {
    this.batch = options.batch ?? 500;
  }

  /** The handler of `job.progress` and `job.rollout`: steps until the job needs nothing more now. */
  readonly advance = async (scope: Scope, jobId: string): Promise<void> => {
    const { store, clock } = this.options;
    for (let i = 0; i < STEPS_PER_TURN; i++) {
      if (!(await store.transaction((tx) => this.step(tx, scope, jobId)))) return;
    }
    await store.transaction((tx) => effects.schedule(tx, scope, 'job.rollout', jobId, clock.now()));
  };

  /** One step in one transaction; true when more work is due right away. */
  private async step(tx: Db, scope: Scope, jobId: string): Promise<boolean> {
    const { store, clock } = this.options;
    const job = await jobs.lock(tx, scope, jobId, store.dialect);
    if (!job || job.status === 'DELETION_IN_PROGRESS') return false;
    const now = clock.now();
    let more = await this.timeOutOverdue(tx, job, now);
    more = (await this.settleEnded(tx, job, now)) || more;
    if (job.status === 'CANCELED') more = (await this.cancelLeftovers(tx, job, now)) || more;
    else if (job.status === 'IN_PROGRESS' || job.status === 'SCHEDULED') more = (await this.rollOut(tx, job, now)) || more;
    const deadline = await rollout.nextDeadline(tx, scope, jobId, clock.scale);
    if (deadline !== undefined) await effects.schedule(tx, scope, 'job.rollout', jobId, Math.max(deadline, now));
    return more;
  }

  /** IN_PROGRESS executions whose in-progress or step timer ran out become TIMED_OUT. */
  private async timeOutOverdue(tx: Db, job: JobRow, now: number): Promise<boolean> {
    const overdue = await rollout.overdue(tx, job, job.job_id, now, this.options.clock.scale, this.batch);
    for (const row of overdue) {
      const result = timeOut(executionState(row), now);
      if (result.ok) await executions.update(tx, row, executionPatch(result.state));
    }
    return overdue.length === this.batch;
  }

  /** Executions that ended since the last step: retry, `$package`, events; each handled once. */
  private async settleEnded(tx: Db, job: JobRow, now: number): Promise<boolean> {
    const ended = await rollout.unsettled(tx, job, job.job_id, this.batch);
    if (ended.length === 0) return false;
    const retryConfig = parsed<RetryConfig>(job.retry_config);
    const packages = await this.installedPackages(tx, job);
    for (const row of ended) {
      if (retryConfig && (row.status === 'FAILED' || row.status === 'TIMED_OUT')) await this.retry(tx, job, row, retryConfig, now);
      if (row.status === 'SUCCEEDED' && packages) {
        await effects.emit(tx, job, [{ kind: 'package.installed', subject: row.thing_name, payload: { jobId: job.job_id, packages } }]);
      }
      await publishExecutionEvent(tx, row, now);
      await rollout.settle(tx, row);
    }
    return ended.length === this.batch;
  }

  /**
   * The package versions a SUCCEEDED execution of this job records in the thing's `$package` shadow, or undefined
   * when there are none or the account has not enabled version updates by jobs. `$null` removes the package.
   */
  private async installedPackages(tx: Db, job: JobRow): Promise<Record<string, string | null> | undefined> {
    const destinations = parsed<string[]>(job.destinations);
    if (!destinations?.length) return undefined;
    if ((await packageConfig.get(tx, job))?.enabled !== 1) return undefined;
    const packages: Record<string, string | null> = {};
    for (const arn of destinations) {
      const ref = parseArn(arn)?.resource;
      if (ref?.type === 'packageVersion') packages[ref.packageName] = ref.versionName === '$null' ? null : ref.versionName;
    }
    return Object.keys(packages).length ? packages : undefined;
  }

  /** A FAILED or TIMED_OUT latest attempt with retries left is queued again with the next execution number. */
  private async retry(tx: Db, job: JobRow, row: JobExecutionRow, config: RetryConfig, now: number): Promise<void> {
    const { statuses, highest } = await rollout.attempts(tx, job, job.job_id, row.thing_name);
    if (highest !== row.execution_number) return;
    // Re-joining a CONTINUOUS job's group (after REMOVED) starts a fresh retry budget.
    const fresh = statuses.slice(statuses.lastIndexOf('REMOVED') + 1) as ExecutionStatus[];
    const decision = decideRetry(config, { attempts: fresh, highestExecutionNumber: highest, jobStatus: job.status as JobStatus });
    if (!decision.retry) return;
    const initial = newExecution(now);
    await executions.insert(tx, [
      {
        ...rowKey(job, row.thing_name),
        execution_number: decision.executionNumber,
        retry_attempt: decision.retryAttempt,
        queued_at: now,
        ...executionPatch(initial),
      },
    ]);
  }

  /** A canceled job's QUEUED executions (and IN_PROGRESS ones, when forced) are canceled a batch at a time. */
  private async cancelLeftovers(tx: Db, job: JobRow, now: number): Promise<boolean> {
    const scope = job.force_canceled === 1 ? 'QUEUED_AND_IN_PROGRESS' : 'QUEUED';
    const rows = await rollout.latestIn(tx, job, job.job_id, scope === 'QUEUED' ? ['QUEUED'] : OPEN, this.batch);
    for (const row of rows) {
      const next = cancelForJob(executionState(row), scope, now);
      if (next) await executions.update(tx, row, executionPatch(next));
    }
    return rows.length === this.batch;
  }

  /** Abort, schedule, release, completion of an active job. */
  private async rollOut(tx: Db, job: JobRow, now: number): Promise<boolean> {
    const { clock } = this.options;
    // The counters cost a pass over the job's executions: read them only when a rule needs them (abort, exponential rate).
    let counted: Map<string, number> | undefined;
    const counts = async () => (counted ??= await rollout.counts(tx, job, job.job_id));
    if (await this.abortIfDue(tx, job, counts, now)) return true;

    const time = clock.jobTime(job.created_at, now);
    const patch: Partial<JobRow> = {};
    let status = job.status as JobStatus;
    let releasing = status === 'IN_PROGRESS';
    const scheduling = parsed<SchedulingConfig>(job.scheduling_config);
    const endAt = scheduling?.endTime ? parseDateTime(scheduling.endTime) : undefined;
    if (scheduling) {
      const { phase, nextChangeAt } = schedulePhase(scheduling, time);
      if (nextChangeAt !== undefined) await effects.schedule(tx, job, 'job.rollout', job.job_id, clock.realTime(job.created_at, nextChangeAt));
      if (phase === 'BEFORE_START' || phase === 'BETWEEN_WINDOWS') {
        const closed = closeWindow(status);
        if (closed.ok) status = patch.status = closed.value;
        releasing = false;
      } else if (phase === 'ENDED') {
        const effect = endTimeEffect(status, scheduling.endBehavior);
        if (job.fanout_pending === 1) patch.fanout_pending = 0;
        releasing = false;
        if (effect?.status === 'CANCELED') {
          await this.cancel(tx, job, { status: 'CANCELED', force_canceled: effect.forceCanceled ? 1 : 0, ...patch }, now);
          return true;
        }
      } else if (status === 'SCHEDULED') {
        const started = startScheduled(status, false);
        if (started.ok) status = patch.status = started.value;
        releasing = true;
        // A CONTINUOUS job looks at its groups afresh whenever rollout resumes: members that joined meanwhile.
        if (job.target_selection === 'CONTINUOUS') Object.assign(patch, { fanout_pending: 1, fanout_cursor: null });
      }
    }

    let more = false;
    const pending = (patch.fanout_pending ?? job.fanout_pending) === 1;
    if (releasing && pending) {
      const released = await this.release(tx, { ...job, ...patch }, async () => (await counts()).get('SUCCEEDED') ?? 0, now);
      Object.assign(patch, released.patch);
      more = released.more;
    }

    const fanoutPending = (patch.fanout_pending ?? job.fanout_pending) === 1;
    const completion = {
      status,
      targetSelection: job.target_selection as TargetSelection,
      endTime: endAt?.ok ? endAt.at : undefined,
      rolloutFinished: !fanoutPending,
      // Looked at again (this step may have released or retried executions), and only when it can matter.
      openExecutions: more || (await rollout.anyOpen(tx, job, job.job_id)) ? 1 : 0,
    };
    if (!more && completionDue(completion, time)) {
      Object.assign(patch, { status: 'COMPLETED', completed_at: now });
    }
    if (Object.keys(patch).length) {
      const updated = { ...job, ...patch, updated_at: now };
      await jobs.update(tx, job, job.job_id, { ...patch, updated_at: now });
      if (patch.status === 'COMPLETED') await publishJobEvent(tx, updated, 'completed', now);
    }
    return more;
  }

  /** The first abort criterion met cancels the job; its queued executions follow in the next steps. */
  private async abortIfDue(tx: Db, job: JobRow, countsOf: () => Promise<Map<string, number>>, now: number): Promise<boolean> {
    const config = parsed<AbortConfig>(job.abort_config);
    if (!config) return false;
    const counts = await countsOf();
    const executed = [...counts.values()].reduce((a, b) => a + b, 0);
    const c = { executed, failed: counts.get('FAILED') ?? 0, rejected: counts.get('REJECTED') ?? 0, timedOut: counts.get('TIMED_OUT') ?? 0 };
    const criterion = evaluateAbort(config, c);
    if (!criterion) return false;
    const outcome = abortJob(job.status as JobStatus);
    if (!outcome.ok) return false;
    const comment =
      `Abort criterion met: ${criterion.failureType} executions reached ${criterion.thresholdPercentage}% ` +
      `of ${executed} executed things (minimum ${criterion.minNumberOfExecutedThings})`;
    await this.cancel(tx, job, { status: 'CANCELED', force_canceled: 0, reason_code: outcome.value.reasonCode ?? null, comment, fanout_pending: 0 }, now);
    return true;
  }

  private async cancel(tx: Db, job: JobRow, patch: Partial<JobRow>, now: number): Promise<void> {
    await jobs.update(tx, job, job.job_id, { ...patch, updated_at: now });
    await publishJobEvent(tx, { ...job, ...patch, updated_at: now }, 'canceled', now);
  }

  /** The rollout config in force: the job's own, capped by the server's `--max-executions-per-minute`. */
  private rolloutConfig(job: JobRow): RolloutConfig | undefined {
    const own = parsed<IoT.JobExecutionsRolloutConfig>(job.rollout_config) as RolloutConfig | undefined;
    const cap = this.options.maxExecutionsPerMinute;
    if (cap === undefined) return own?.maximumPerMinute !== undefined || own?.exponentialRate ? own : undefined;
    return { ...own, maximumPerMinute: Math.min(own?.maximumPerMinute ?? cap, cap) };
  }

  /**
   * Releases the next executions: as many as the rate allows (a batch at most), in target order, skipping things
   * that already have one or no longer exist. Returns the job columns to write and whether more is due at once.
   */
  private async release(tx: Db, job: JobRow, succeededOf: () => Promise<number>, now: number): Promise<{ patch: Partial<JobRow>; more: boolean }> {
    const { clock, store } = this.options;
    let allowed = this.batch;
    const config = this.rolloutConfig(job);
    if (config) {
      const windowStart = now - clock.realDuration(WINDOW_MS);
      const recent = await rollout.releasedSince(tx, job, job.job_id, windowStart, MAX_PER_MINUTE + 1);
      const toJob = (t: number) => clock.jobTime(job.created_at, t);
      const succeeded = config.exponentialRate ? await succeededOf() : 0;
      const allowance = rolloutAllowance(config, { notified: job.released, succeeded }, recent.map(toJob), toJob(now));
      if (allowance.allowed === 0) {
        await effects.schedule(tx, job, 'job.rollout', job.job_id, clock.realTime(job.created_at, allowance.nextAllowedAt ?? toJob(now) + WINDOW_MS));
        return { patch: {}, more: false };
      }
      allowed = Math.min(allowed, allowance.allowed);
    }
    const targets: string[] = JSON.parse(job.targets);
    let cursor: Cursor | undefined = parsed<Cursor>(job.fanout_cursor) ?? { target: 0 };
    let inserted = 0;
    let scanned = 0;
    while (cursor && inserted < allowed && scanned < this.batch * 4) {
      const page = await this.expand(tx, job, targets, cursor, allowed - inserted);
      cursor = page.next;
      scanned += page.names.length;
      const alive = await rollout.existingThings(tx, store.dialect, job, [...new Set(page.names)]);
      const fresh = await rollout.withoutExecution(tx, job, job.job_id, alive);
      if (fresh.length) {
        const initial = newExecution(now);
        await executions.insert(
          tx,
          fresh.map((name) => ({ ...rowKey(job, name), execution_number: 1, retry_attempt: 0, queued_at: now, ...executionPatch(initial) })),
        );
        inserted += fresh.length;
      }
    }
    const patch: Partial<JobRow> = { released: job.released + inserted, fanout_cursor: cursor ? JSON.stringify(cursor) : null };
    if (!cursor) patch.fanout_pending = 0;
    return { patch, more: cursor !== undefined };
  }

  /** Up to `limit` thing names from the cursor on, and the cursor after them (undefined once every target is done). */
  private async expand(tx: Db, job: JobRow, targets: string[], cursor: Cursor, limit: number): Promise<{ names: string[]; next?: Cursor }> {
    const arn = targets[cursor.target];
    if (arn === undefined) return { names: [] };
    const ref = parseArn(arn)?.resource;
    const nextTarget = cursor.target + 1 < targets.length ? { target: cursor.target + 1 } : undefined;
    if (ref?.type === 'thing') return { names: [ref.thingName], next: nextTarget };
    if (ref?.type !== 'thingGroup') return { names: [], next: nextTarget };
    const groups = await rollout.groupTree(tx, job, ref.thingGroupName);
    const names = await thingGroups.membersOf(tx, job, groups, cursor.after, limit);
    if (names.length < limit) return { names, next: nextTarget };
    return { names, next: { target: cursor.target, after: names[names.length - 1] } };
  }
}

function rowKey(job: JobRow, thingName: string) {
  return { account: job.account, region: job.region, job_id: job.job_id, thing_name: thingName, thing_arn: thingArn(job, thingName) };
}
