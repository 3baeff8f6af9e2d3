// Jobs follow the thing registry: a thing joining a group that a CONTINUOUS job targets is queued; one that stops
// being a target of such a job has its unfinished execution REMOVED; a deleted thing's executions are deleted.
import { thingArn, type Scope } from '../domain/arn.ts';
import { isTerminal, newExecution, removeExecution, type ExecutionStatus } from '../domain/jobs/execution-state.ts';
import { executions, jobs } from '../store/jobs.ts';
import type { Db, JobRow } from '../store/schema.ts';
import { registryListeners, thingGroups } from '../store/things.ts';
import { patchOf, settleJob, stateOf } from './job-views.ts';
import { inScope } from '../store/scope.ts';

/** The group and its ancestors. */
async function lineage(db: Db, scope: Scope, groupName: string): Promise<string[]> {
  const row = await thingGroups.get(db, scope, groupName);
  if (!row) return [groupName];
  return [groupName, ...(await thingGroups.ancestors(db, scope, row)).map((g) => g.name)];
}

/** Active CONTINUOUS jobs that target any of these groups. */
async function continuousJobsTargeting(db: Db, scope: Scope, groups: string[]): Promise<JobRow[]> {
  if (groups.length === 0) return [];
  return db
    .selectFrom('jobs as j')
    .selectAll('j')
    .where('j.account', '=', scope.account)
    .where('j.region', '=', scope.region)
    .where('j.target_selection', '=', 'CONTINUOUS')
    .where('j.status', 'in', ['IN_PROGRESS', 'SCHEDULED'])
    .where(({ exists, selectFrom }) =>
      exists(
        selectFrom('job_targets as t')
          .select('t.job_id')
          .whereRef('t.account', '=', 'j.account')
          .whereRef('t.region', '=', 'j.region')
          .whereRef('t.job_id', '=', 'j.job_id')
          .where('t.kind', '=', 'thinggroup')
          .where('t.name', 'in', groups),
      ),
    )
    .orderBy('j.job_id')
    .execute();
}

async function onAdded(db: Db, scope: Scope, groupName: string, thingName: string): Promise<void> {
  const now = Date.now();
  for (const job of await continuousJobsTargeting(db, scope, await lineage(db, scope, groupName))) {
    if (job.status !== 'IN_PROGRESS') continue; // a SCHEDULED job fans out when it starts
    const latest = await executions.get(db, scope, job.job_id, thingName);
    // A thing that left (REMOVED) and comes back runs the job again, with a fresh retry budget.
    if (latest && latest.status !== 'REMOVED') continue;
    const initial = newExecution(now);
    await executions.insert(db, [
      {
        ...scope,
        job_id: job.job_id,
        thing_name: thingName,
        execution_number: (latest?.execution_number ?? 0) + 1,
        thing_arn: thingArn(scope, thingName),
        retry_attempt: 0,
        queued_at: now,
        ...patchOf(initial),
      },
    ]);
  }
}

async function onRemoved(db: Db, scope: Scope, groupName: string, thingName: string): Promise<void> {
  const jobsOfGroup = await continuousJobsTargeting(db, scope, await lineage(db, scope, groupName));
  if (jobsOfGroup.length === 0) return;
  // Whatever else still makes the thing a target: its other groups and their ancestors (this membership excluded).
  const still = new Set<string>();
  for (const other of await thingGroups.groupsOfThing(db, scope, thingName)) {
    if (other !== groupName) for (const name of await lineage(db, scope, other)) still.add(name);
  }
  const now = Date.now();
  for (const job of jobsOfGroup) {
    const targets: string[] = JSON.parse(job.targets);
    const direct = targets.includes(thingArn(scope, thingName));
    const viaGroup = targets.some((arn) => still.has(arn.slice(arn.lastIndexOf('/') + 1)) && arn.includes(':thinggroup/'));
    if (direct || viaGroup) continue;
    const latest = await executions.get(db, scope, job.job_id, thingName);
    if (!latest || isTerminal(latest.status as ExecutionStatus)) continue;
    const result = removeExecution(stateOf(latest), now);
    if (result.ok) await executions.update(db, latest, patchOf(result.state));
    await settleJob(db, job, now);
  }
}

async function onDeleted(db: Db, scope: Scope, thingName: string): Promise<void> {
  const rows = await db
    .selectFrom('job_executions')
    .select('job_id')
    .distinct()
    .$call(inScope(scope))
    .where('thing_name', '=', thingName)
    .execute();
  await db.deleteFrom('job_executions').$call(inScope(scope)).where('thing_name', '=', thingName).execute();
  const now = Date.now();
  for (const { job_id } of rows) {
    const job = await jobs.get(db, scope, job_id);
    if (job) await settleJob(db, job, now);
  }
}

let registered = false;

/** Hooks jobs into the registry's change events (once per process). */
export function registerJobListeners(): void {
  if (registered) return;
  registered = true;
  registryListeners.thingAddedToGroup.push(onAdded);
  registryListeners.thingRemovedFromGroup.push(onRemoved);
  registryListeners.thingDeleted.push(onDeleted);
}
