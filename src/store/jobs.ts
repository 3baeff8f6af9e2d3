// Repositories of IoT Jobs: jobs, their targets, job executions and custom job templates.
import type { Scope } from '../domain/arn.ts';
import type { Db, JobExecutionRow, JobRow, JobTargetRow, JobTemplateRow } from './schema.ts';
import { effects } from './effects.ts';
import { inScope } from './scope.ts';

type Patch<T> = Partial<Omit<T, 'account' | 'region'>>;

export interface JobFilter {
  status?: string;
  targetSelection?: string;
  namespaceId?: string;
  /** Jobs that target this thing group (by name). */
  groupName?: string;
  /** Jobs that target the thing group with this id. */
  groupId?: string;
}

export const jobs = {
  get(db: Db, scope: Scope, jobId: string): Promise<JobRow | undefined> {
    return db.selectFrom('jobs').selectAll().$call(inScope(scope)).where('job_id', '=', jobId).executeTakeFirst();
  },

  /** Locks the job row for the rest of the transaction (PostgreSQL), serializing changes to the job and its executions. */
  lock(db: Db, scope: Scope, jobId: string, dialect: 'sqlite' | 'postgres'): Promise<JobRow | undefined> {
    let query = db.selectFrom('jobs').selectAll().$call(inScope(scope)).where('job_id', '=', jobId);
    if (dialect === 'postgres') query = query.forUpdate();
    return query.executeTakeFirst();
  },

  async insert(db: Db, row: JobRow): Promise<void> {
    await db.insertInto('jobs').values(row).execute();
  },

  async update(db: Db, scope: Scope, jobId: string, patch: Patch<JobRow>): Promise<void> {
    await db.updateTable('jobs').set(patch).$call(inScope(scope)).where('job_id', '=', jobId).execute();
  },

  /** Removes the job with its targets and executions. */
  async delete(db: Db, scope: Scope, jobId: string): Promise<void> {
    const pending = await db
      .selectFrom('job_executions')
      .select('thing_name')
      .distinct()
      .$call(inScope(scope))
      .where('job_id', '=', jobId)
      .where('status', 'in', ['QUEUED', 'IN_PROGRESS'])
      .execute();
    await executionsChanged(
      db,
      scope,
      [],
      pending.map((r) => r.thing_name),
    );
    await db.deleteFrom('job_executions').$call(inScope(scope)).where('job_id', '=', jobId).execute();
    await db.deleteFrom('job_targets').$call(inScope(scope)).where('job_id', '=', jobId).execute();
    await db.deleteFrom('jobs').$call(inScope(scope)).where('job_id', '=', jobId).execute();
  },

  async countInStatus(db: Db, scope: Scope, status: string): Promise<number> {
    const row = await db
      .selectFrom('jobs')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .$call(inScope(scope))
      .where('status', '=', status)
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  },

  list(db: Db, scope: Scope, filter: JobFilter, after: string | undefined, limit: number): Promise<JobRow[]> {
    let query = db.selectFrom('jobs').selectAll('jobs').$call(inScope(scope));
    if (filter.status !== undefined) query = query.where('status', '=', filter.status);
    if (filter.targetSelection !== undefined) query = query.where('target_selection', '=', filter.targetSelection);
    if (filter.namespaceId !== undefined) query = query.where('namespace_id', '=', filter.namespaceId);
    for (const [column, value] of [
      ['name', filter.groupName],
      ['group_id', filter.groupId],
    ] as const) {
      if (value === undefined) continue;
      query = query.where(({ exists, selectFrom }) =>
        exists(
          selectFrom('job_targets as t')
            .select('t.job_id')
            .whereRef('t.account', '=', 'jobs.account')
            .whereRef('t.region', '=', 'jobs.region')
            .whereRef('t.job_id', '=', 'jobs.job_id')
            .where('t.kind', '=', 'thinggroup')
            .where(`t.${column}`, '=', value),
        ),
      );
    }
    if (after !== undefined) query = query.where('job_id', '>', after);
    return query.orderBy('job_id').limit(limit).execute();
  },
};

export const jobTargets = {
  async insert(db: Db, rows: JobTargetRow[]): Promise<void> {
    if (rows.length) await db.insertInto('job_targets').values(rows).execute();
  },

  list(db: Db, scope: Scope, jobId: string): Promise<JobTargetRow[]> {
    return db.selectFrom('job_targets').selectAll().$call(inScope(scope)).where('job_id', '=', jobId).orderBy('target_arn').execute();
  },
};

export interface ExecutionFilter {
  status?: string;
  jobId?: string;
  namespaceId?: string;
}

/**
 * Every change of executions records, in the same transaction, `device.jobs-changed` per thing (the device hears
 * about it after commit: notify / notify-next) and `job.progress` per job (the engine re-evaluates the job); no
 * caller can forget them.
 */
function executionsChanged(db: Db, scope: Scope, jobIds: Iterable<string>, thingNames: Iterable<string>): Promise<void> {
  return effects.emit(db, scope, [
    ...[...new Set(thingNames)].map((thing) => ({ kind: 'device.jobs-changed' as const, subject: thing, payload: {} })),
    ...[...new Set(jobIds)].map((job) => ({ kind: 'job.progress' as const, subject: job, payload: {} })),
  ]);
}

export const executions = {
  async insert(db: Db, rows: JobExecutionRow[]): Promise<void> {
    // Chunked: one statement per 100 rows stays under every driver's parameter limit.
    // Every new execution waits for the engine to handle its end (settled = 0).
    for (let i = 0; i < rows.length; i += 100)
      await db
        .insertInto('job_executions')
        .values(rows.slice(i, i + 100).map((r) => ({ ...r, settled: 0 })))
        .execute();
    if (rows.length)
      await executionsChanged(
        db,
        rows[0]!,
        rows.map((r) => r.job_id),
        rows.map((r) => r.thing_name),
      );
  },

  /** One execution, or the thing's latest for the job when `executionNumber` is undefined. */
  get(db: Db, scope: Scope, jobId: string, thingName: string, executionNumber?: number): Promise<JobExecutionRow | undefined> {
    let query = db.selectFrom('job_executions').selectAll().$call(inScope(scope)).where('job_id', '=', jobId).where('thing_name', '=', thingName);
    if (executionNumber !== undefined) query = query.where('execution_number', '=', executionNumber);
    return query.orderBy('execution_number', 'desc').limit(1).executeTakeFirst();
  },

  async update(
    db: Db,
    row: Pick<JobExecutionRow, 'account' | 'region' | 'job_id' | 'thing_name' | 'execution_number'>,
    patch: Patch<JobExecutionRow>,
  ): Promise<void> {
    await db
      .updateTable('job_executions')
      .set(patch)
      .$call(inScope(row))
      .where('job_id', '=', row.job_id)
      .where('thing_name', '=', row.thing_name)
      .where('execution_number', '=', row.execution_number)
      .execute();
    await executionsChanged(db, row, [row.job_id], [row.thing_name]);
  },

  async delete(db: Db, row: Pick<JobExecutionRow, 'account' | 'region' | 'job_id' | 'thing_name' | 'execution_number'>): Promise<void> {
    await db
      .deleteFrom('job_executions')
      .$call(inScope(row))
      .where('job_id', '=', row.job_id)
      .where('thing_name', '=', row.thing_name)
      .where('execution_number', '=', row.execution_number)
      .execute();
    await executionsChanged(db, row, [row.job_id], [row.thing_name]);
  },

  /** Every execution of a deleted thing. */
  async deleteOfThing(db: Db, scope: Scope, thingName: string): Promise<void> {
    const jobIds = await db.selectFrom('job_executions').select('job_id').distinct().$call(inScope(scope)).where('thing_name', '=', thingName).execute();
    await db.deleteFrom('job_executions').$call(inScope(scope)).where('thing_name', '=', thingName).execute();
    await executionsChanged(
      db,
      scope,
      jobIds.map((r) => r.job_id),
      [thingName],
    );
  },

  async anyStarted(db: Db, scope: Scope, jobId: string): Promise<boolean> {
    const row = await db
      .selectFrom('job_executions')
      .select('thing_name')
      .$call(inScope(scope))
      .where('job_id', '=', jobId)
      .where('started_at', 'is not', null)
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  },

  /** Every execution of a job, ordered by thing then execution number; `after` is [thingName, executionNumber]. */
  listForJob(db: Db, scope: Scope, jobId: string, status: string | undefined, after: [string, number] | undefined, limit: number): Promise<JobExecutionRow[]> {
    let query = db.selectFrom('job_executions').selectAll().$call(inScope(scope)).where('job_id', '=', jobId);
    if (status !== undefined) query = query.where('status', '=', status);
    if (after) {
      const [thing, n] = after;
      query = query.where((eb) => eb.or([eb('thing_name', '>', thing), eb.and([eb('thing_name', '=', thing), eb('execution_number', '>', n)])]));
    }
    return query.orderBy('thing_name').orderBy('execution_number').limit(limit).execute();
  },

  /** Every execution on a thing, ordered by job then execution number; `after` is [jobId, executionNumber]. */
  listForThing(
    db: Db,
    scope: Scope,
    thingName: string,
    filter: ExecutionFilter,
    after: [string, number] | undefined,
    limit: number,
  ): Promise<JobExecutionRow[]> {
    let query = db
      .selectFrom('job_executions as e')
      .innerJoin('jobs as j', (join) => join.onRef('j.account', '=', 'e.account').onRef('j.region', '=', 'e.region').onRef('j.job_id', '=', 'e.job_id'))
      .selectAll('e')
      .where('e.account', '=', scope.account)
      .where('e.region', '=', scope.region)
      .where('e.thing_name', '=', thingName);
    if (filter.status !== undefined) query = query.where('e.status', '=', filter.status);
    if (filter.jobId !== undefined) query = query.where('e.job_id', '=', filter.jobId);
    if (filter.namespaceId !== undefined) query = query.where('j.namespace_id', '=', filter.namespaceId);
    if (after) {
      const [jobId, n] = after;
      query = query.where((eb) => eb.or([eb('e.job_id', '>', jobId), eb.and([eb('e.job_id', '=', jobId), eb('e.execution_number', '>', n)])]));
    }
    return query.orderBy('e.job_id').orderBy('e.execution_number').limit(limit).execute();
  },
};

/** Executions of the job that are their thing's latest (highest execution number): a retried thing counts once. */
export function latestExecutions(db: Db, scope: Scope, jobId: string) {
  return db
    .selectFrom('job_executions as e')
    .$call(inScope(scope))
    .where('e.job_id', '=', jobId)
    .where('e.execution_number', '=', (eb) =>
      eb
        .selectFrom('job_executions as e2')
        .select((eb2) => eb2.fn.max('e2.execution_number').as('m'))
        .whereRef('e2.account', '=', 'e.account')
        .whereRef('e2.region', '=', 'e.region')
        .whereRef('e2.job_id', '=', 'e.job_id')
        .whereRef('e2.thing_name', '=', 'e.thing_name'),
    );
}

export const jobTemplates = {
  get(db: Db, scope: Scope, templateId: string): Promise<JobTemplateRow | undefined> {
    return db.selectFrom('job_templates').selectAll().$call(inScope(scope)).where('template_id', '=', templateId).executeTakeFirst();
  },

  async insert(db: Db, row: JobTemplateRow): Promise<void> {
    await db.insertInto('job_templates').values(row).execute();
  },

  async delete(db: Db, scope: Scope, templateId: string): Promise<void> {
    await db.deleteFrom('job_templates').$call(inScope(scope)).where('template_id', '=', templateId).execute();
  },

  list(db: Db, scope: Scope, after: string | undefined, limit: number): Promise<JobTemplateRow[]> {
    let query = db.selectFrom('job_templates').selectAll().$call(inScope(scope));
    if (after !== undefined) query = query.where('template_id', '>', after);
    return query.orderBy('template_id').limit(limit).execute();
  },
};
