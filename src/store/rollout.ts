// Queries of the rollout engine (src/engine/): counters, releases within the rate window, executions whose end
// waits to be handled, overdue timers, and the expansion of targets into thing names page by page.
import { sql } from 'kysely';
import type { Scope } from '../domain/arn.ts';
import type { Dialect } from './migrations.ts';
import type { Db, JobExecutionRow } from './schema.ts';
import { latestExecutions } from './jobs.ts';
import { inScope } from './scope.ts';
import { thingGroups } from './things.ts';

export const rollout = {
  /** Things per status of their latest execution: the jobProcessDetails counters. */
  async counts(db: Db, scope: Scope, jobId: string): Promise<Map<string, number>> {
    const rows = await latestExecutions(db, scope, jobId)
      .select(['e.status', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('e.status')
      .execute();
    return new Map(rows.map((r) => [r.status, Number(r.n)]));
  },

  /**
   * Whether any execution of the job is still QUEUED or IN_PROGRESS. Only a thing's latest execution can be: a retry
   * is queued only once the one before it has ended.
   */
  async anyOpen(db: Db, scope: Scope, jobId: string): Promise<boolean> {
    const row = await db
      .selectFrom('job_executions')
      .select('thing_name')
      .$call(inScope(scope))
      .where('job_id', '=', jobId)
      .where('status', 'in', ['QUEUED', 'IN_PROGRESS'])
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  },

  /** Latest executions of the job in the given statuses, `limit` at a time. */
  latestIn(db: Db, scope: Scope, jobId: string, statuses: string[], limit: number): Promise<JobExecutionRow[]> {
    return latestExecutions(db, scope, jobId).selectAll('e').where('e.status', 'in', statuses).orderBy('e.thing_name').limit(limit).execute();
  },

  /** When the releases (first executions) of the rate window happened, oldest first; at most `limit`. */
  async releasedSince(db: Db, scope: Scope, jobId: string, since: number, limit: number): Promise<number[]> {
    const rows = await db
      .selectFrom('job_executions')
      .select('queued_at')
      .$call(inScope(scope))
      .where('job_id', '=', jobId)
      .where('queued_at', '>=', since)
      .where('retry_attempt', '=', 0)
      .orderBy('queued_at', 'desc')
      .limit(limit)
      .execute();
    return rows.map((r) => Number(r.queued_at)).reverse();
  },

  /** Terminal executions whose end the engine has not handled yet. */
  unsettled(db: Db, scope: Scope, jobId: string, limit: number): Promise<JobExecutionRow[]> {
    return db
      .selectFrom('job_executions')
      .selectAll()
      .$call(inScope(scope))
      .where('job_id', '=', jobId)
      .where('settled', '=', 0)
      .where('status', 'not in', ['QUEUED', 'IN_PROGRESS'])
      .orderBy('thing_name')
      .orderBy('execution_number')
      .limit(limit)
      .execute();
  },

  /** Marks an execution's end as handled. Not an execution change: nobody needs to hear of it. */
  async settle(db: Db, row: Pick<JobExecutionRow, 'account' | 'region' | 'job_id' | 'thing_name' | 'execution_number'>): Promise<void> {
    await db
      .updateTable('job_executions')
      .set({ settled: 1 })
      .$call(inScope(row))
      .where('job_id', '=', row.job_id)
      .where('thing_name', '=', row.thing_name)
      .where('execution_number', '=', row.execution_number)
      .execute();
  },

  /** Statuses of every attempt of the job on a thing, oldest first, and the highest execution number. */
  async attempts(db: Db, scope: Scope, jobId: string, thingName: string): Promise<{ statuses: string[]; highest: number }> {
    const rows = await db
      .selectFrom('job_executions')
      .select(['status', 'execution_number'])
      .$call(inScope(scope))
      .where('job_id', '=', jobId)
      .where('thing_name', '=', thingName)
      .orderBy('execution_number')
      .execute();
    return { statuses: rows.map((r) => r.status), highest: Number(rows[rows.length - 1]?.execution_number ?? 0) };
  },

  /**
   * IN_PROGRESS executions whose timer ran out at real time `now`. In rehearsal mode (`scale` > 1) the time left
   * before each deadline shrinks by the scale: the in-progress timer counts from the start, the step timer from the
   * execution's last update.
   */
  overdue(db: Db, scope: Scope, jobId: string, now: number, scale: number, limit: number): Promise<JobExecutionRow[]> {
    return db
      .selectFrom('job_executions')
      .selectAll()
      .$call(inScope(scope))
      .where('job_id', '=', jobId)
      .where('status', '=', 'IN_PROGRESS')
      .where((eb) =>
        eb.or([
          eb('in_progress_deadline_at', '<=', sql<number>`started_at + (${now} - started_at) * ${scale}`),
          eb('step_deadline_at', '<=', sql<number>`last_updated_at + (${now} - last_updated_at) * ${scale}`),
        ]),
      )
      .orderBy('thing_name')
      .limit(limit)
      .execute();
  },

  /** The real time the job's next execution timer runs out, if any runs. */
  async nextDeadline(db: Db, scope: Scope, jobId: string, scale: number): Promise<number | undefined> {
    const row = await db
      .selectFrom('job_executions')
      .select([
        sql<number | null>`min(started_at + (in_progress_deadline_at - started_at) / ${scale})`.as('a'),
        sql<number | null>`min(last_updated_at + (step_deadline_at - last_updated_at) / ${scale})`.as('b'),
      ])
      .$call(inScope(scope))
      .where('job_id', '=', jobId)
      .where('status', '=', 'IN_PROGRESS')
      .executeTakeFirst();
    const times = [row?.a, row?.b].filter((t): t is number => t !== null && t !== undefined).map(Number);
    return times.length ? Math.ceil(Math.min(...times)) : undefined;
  },

  /** The job's thing names among `names` that have no execution of the job yet. */
  async withoutExecution(db: Db, scope: Scope, jobId: string, names: string[]): Promise<string[]> {
    if (names.length === 0) return [];
    const rows = await db
      .selectFrom('job_executions')
      .select('thing_name')
      .distinct()
      .$call(inScope(scope))
      .where('job_id', '=', jobId)
      .where('thing_name', 'in', names)
      .execute();
    const have = new Set(rows.map((r) => r.thing_name));
    return names.filter((n) => !have.has(n));
  },

  /**
   * The things among `names` that exist, locked against deletion until the transaction ends (PostgreSQL FOR SHARE):
   * a DeleteThing that commits first hides the thing from this read; one that comes later waits for this
   * transaction and then deletes the executions it wrote.
   */
  async existingThings(db: Db, dialect: Dialect, scope: Scope, names: string[]): Promise<string[]> {
    if (names.length === 0) return [];
    let query = db.selectFrom('things').select('name').$call(inScope(scope)).where('name', 'in', names).orderBy('name');
    if (dialect === 'postgres') query = query.forShare();
    return (await query.execute()).map((r) => r.name);
  },

  /** A group and every group below it; none when the group no longer exists. */
  async groupTree(db: Db, scope: Scope, name: string): Promise<string[]> {
    if (!(await thingGroups.get(db, scope, name))) return [];
    return [name, ...(await thingGroups.descendants(db, scope, name))];
  },
};
