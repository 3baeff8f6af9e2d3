// Store side of the device jobs protocol: a thing's pending executions (what `get`, `start-next` and `$next` pick
// from) and what its devices were last notified of.
import type { Scope } from '../domain/arn.ts';
import { NOTHING_NOTIFIED, type NotifiedState } from '../domain/jobs/notifications.ts';
import type { Dialect } from './migrations.ts';
import type { Db, JobExecutionRow } from './schema.ts';
import { inScope } from './scope.ts';

export interface PendingExecutionRow extends JobExecutionRow {
  namespace_id: string | null;
}

/** Jobs whose executions devices do not see yet (a scheduled job waits for its start) or any more. */
const HIDDEN_JOB_STATUSES = ['SCHEDULED', 'DELETION_IN_PROGRESS'];

export const devicePending = {
  /**
   * The thing's QUEUED and IN_PROGRESS executions of visible jobs, unordered. With `lockFor` on PostgreSQL the rows
   * stay locked until the transaction ends: two devices racing `start-next` for one thing take turns, and the second
   * sees the execution the first started.
   */
  async list(db: Db, scope: Scope, thingName: string, lockFor?: Dialect): Promise<PendingExecutionRow[]> {
    // Two lookups by key rather than a join: a join lets the planner walk a big job's every execution to find this
    // thing's, where the thing index finds its few at once.
    let query = db
      .selectFrom('job_executions')
      .selectAll()
      .$call(inScope(scope))
      .where('thing_name', '=', thingName)
      .where('status', 'in', ['QUEUED', 'IN_PROGRESS']);
    if (lockFor === 'postgres') query = query.forUpdate();
    const rows = await query.execute();
    if (rows.length === 0) return [];
    const visible = await db
      .selectFrom('jobs')
      .select(['job_id', 'namespace_id'])
      .$call(inScope(scope))
      .where('job_id', 'in', [...new Set(rows.map((r) => r.job_id))])
      .where('status', 'not in', HIDDEN_JOB_STATUSES)
      .execute();
    const namespaces = new Map(visible.map((j) => [j.job_id, j.namespace_id]));
    return rows.filter((r) => namespaces.has(r.job_id)).map((r) => ({ ...r, namespace_id: namespaces.get(r.job_id) ?? null }));
  },

  /** One execution, locked until the transaction ends (PostgreSQL); the latest of the job when no number is given. */
  lockExecution(
    db: Db,
    scope: Scope,
    jobId: string,
    thingName: string,
    executionNumber: number | undefined,
    dialect: Dialect,
  ): Promise<JobExecutionRow | undefined> {
    let query = db.selectFrom('job_executions').selectAll().$call(inScope(scope)).where('job_id', '=', jobId).where('thing_name', '=', thingName);
    if (executionNumber !== undefined) query = query.where('execution_number', '=', executionNumber);
    query = query.orderBy('execution_number', 'desc').limit(1);
    if (dialect === 'postgres') query = query.forUpdate();
    return query.executeTakeFirst();
  },
};

export const notifyState = {
  async get(db: Db, scope: Scope, thingName: string, lockFor?: Dialect): Promise<NotifiedState> {
    let query = db.selectFrom('job_notify_state').selectAll().$call(inScope(scope)).where('thing_name', '=', thingName);
    if (lockFor === 'postgres') query = query.forUpdate();
    const row = await query.executeTakeFirst();
    if (!row) return NOTHING_NOTIFIED;
    return { list: JSON.parse(row.list), head: row.head, namespaced: JSON.parse(row.namespaced) };
  },

  async put(db: Db, scope: Scope, thingName: string, state: NotifiedState, at: number): Promise<void> {
    const values = { list: JSON.stringify(state.list), head: state.head, namespaced: JSON.stringify(state.namespaced), updated_at: at };
    await db
      .insertInto('job_notify_state')
      .values({ account: scope.account, region: scope.region, thing_name: thingName, ...values })
      .onConflict((oc) => oc.columns(['account', 'region', 'thing_name']).doUpdateSet(values))
      .execute();
  },
};
