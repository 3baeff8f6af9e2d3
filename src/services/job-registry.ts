// Jobs follow the thing registry (jobs-semantics §2.3). A membership change records a `registry.membership` effect
// in its own transaction; after commit, `followMembership` compares the thing's current groups with every active
// CONTINUOUS job: a thing that is now a target and has no live execution is queued (again, after a REMOVED one,
// with a fresh retry budget), and one that no longer is has its unfinished execution REMOVED. It reads current
// state, so a replayed or coalesced effect gives the same result. A deleted thing's executions go with it
// (`forgetThing`, called inside DeleteThing's transaction). Joiners are queued at once: rollout rates apply only to
// the things present when the job was created (jobs-semantics §2.3). Completion is the engine's (job.progress).
import { thingArn, type Scope } from '../domain/arn.ts';
import { isTerminal, newExecution, removeExecution, type ExecutionStatus } from '../domain/jobs/execution-state.ts';
import { executions, jobs } from '../store/jobs.ts';
import type { Db, JobRow } from '../store/schema.ts';
import type { Store } from '../store/store.ts';
import { inScope } from '../store/scope.ts';
import { thingGroups } from '../store/things.ts';
import { rollout } from '../store/rollout.ts';
import { patchOf, stateOf } from './job-views.ts';

/** Active CONTINUOUS jobs of the scope. */
function continuousJobs(db: Db, scope: Scope): Promise<JobRow[]> {
  return db
    .selectFrom('jobs')
    .selectAll()
    .$call(inScope(scope))
    .where('target_selection', '=', 'CONTINUOUS')
    .where('status', 'in', ['IN_PROGRESS', 'SCHEDULED'])
    .orderBy('job_id')
    .execute();
}

/** Every group that makes the thing a member: its groups and all their ancestors. */
async function effectiveGroups(db: Db, scope: Scope, thingName: string): Promise<Set<string>> {
  const names = new Set<string>();
  for (const name of await thingGroups.groupsOfThing(db, scope, thingName)) {
    names.add(name);
    const row = await thingGroups.get(db, scope, name);
    if (row) for (const ancestor of await thingGroups.ancestors(db, scope, row)) names.add(ancestor.name);
  }
  return names;
}

function targets(job: JobRow, scope: Scope, thingName: string, groups: Set<string>): boolean {
  const arns: string[] = JSON.parse(job.targets);
  if (arns.includes(thingArn(scope, thingName))) return true;
  return arns.some((arn) => arn.includes(':thinggroup/') && groups.has(arn.slice(arn.lastIndexOf('/') + 1)));
}

/** The effect handler of `registry.membership`: one short transaction per job that needs a change. */
export async function followMembership(store: Store, scope: Scope, thingName: string): Promise<void> {
  const active = await continuousJobs(store.db, scope);
  if (active.length === 0) return;
  for (const candidate of active) {
    await store.transaction(async (tx) => {
      // The job row lock serializes this with CancelJob, AssociateTargetsWithJob and the job's other writers.
      const job = await jobs.lock(tx, scope, candidate.job_id, store.dialect);
      if (!job || (job.status !== 'IN_PROGRESS' && job.status !== 'SCHEDULED')) return;
      // FOR SHARE on PostgreSQL: a concurrent DeleteThing either committed first (no thing) or waits for this one.
      const exists = (await rollout.existingThings(tx, store.dialect, scope, [thingName])).length > 0;
      const isTarget = exists && targets(job, scope, thingName, await effectiveGroups(tx, scope, thingName));
      const latest = await executions.get(tx, scope, job.job_id, thingName);
      const now = Date.now();
      if (isTarget) {
        if (job.status !== 'IN_PROGRESS') return; // a SCHEDULED job fans out when it starts
        if (latest && latest.status !== 'REMOVED') return;
        const initial = newExecution(now);
        await executions.insert(tx, [
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
      } else if (latest && !isTerminal(latest.status as ExecutionStatus)) {
        const result = removeExecution(stateOf(latest), now);
        if (result.ok) await executions.update(tx, latest, patchOf(result.state));
      }
    });
  }
}

/** DeleteThing: the thing's executions are deleted with it; the engine completes jobs left with only finished work. */
export async function forgetThing(db: Db, scope: Scope, thingName: string): Promise<void> {
  await executions.deleteOfThing(db, scope, thingName);
}
