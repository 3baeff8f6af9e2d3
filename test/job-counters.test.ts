// DescribeJob's counters come from one GROUP BY over the latest execution of each thing, not from every execution
// row loaded into memory: the store query on its own, and DescribeJob over a large seeded fleet.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { executions } from '../src/store/jobs.ts';
import { rollout } from '../src/store/rollout.ts';
import type { JobExecutionRow } from '../src/store/schema.ts';
import { jobsFixture, type JobsFixture } from './support/jobs.ts';

let f: JobsFixture;
before(async () => (f = await jobsFixture()));
after(() => f.stop());

const SCOPE = { account: '000000000000', region: 'us-east-1' };

/** Execution rows of `jobId` for things `from`…`from + count - 1`, in `status`, with execution number `n`. */
function rows(jobId: string, from: number, count: number, status: string, n = 1, scope = SCOPE): JobExecutionRow[] {
  return Array.from({ length: count }, (_, i) => ({
    ...scope,
    job_id: jobId,
    thing_name: `t${String(from + i).padStart(6, '0')}`,
    execution_number: n,
    thing_arn: `arn:aws:iot:${scope.region}:${scope.account}:thing/t${from + i}`,
    status,
    version_number: 1,
    retry_attempt: n - 1,
    status_details: null,
    force_canceled: null,
    queued_at: 1,
    started_at: null,
    last_updated_at: 1,
    in_progress_deadline_at: null,
    step_deadline_at: null,
  }));
}

test("rollout.counts counts each thing's latest execution once, in its job and scope only", async () => {
  const db = f.store.db;
  await executions.insert(db, [
    ...rows('counted', 0, 3, 'QUEUED'),
    // Things 3 and 4 failed once and were retried: only execution 2 counts.
    ...rows('counted', 3, 2, 'FAILED', 1),
    ...rows('counted', 3, 1, 'SUCCEEDED', 2),
    ...rows('counted', 4, 1, 'IN_PROGRESS', 2),
    ...rows('other-job', 0, 5, 'CANCELED'),
    ...rows('counted', 0, 4, 'REMOVED', 1, { account: '111111111111', region: 'us-east-1' }),
  ]);
  assert.deepEqual(Object.fromEntries(await rollout.counts(db, SCOPE, 'counted')), { QUEUED: 3, SUCCEEDED: 1, IN_PROGRESS: 1 });
  assert.deepEqual(Object.fromEntries(await rollout.counts(db, SCOPE, 'none')), {});
});

test('DescribeJob over 20,000 executions gives exact counters', { timeout: 120_000 }, async () => {
  const thing = await f.thing();
  const jobId = await f.createJob({ targets: [thing.arn] });
  const statuses = ['QUEUED', 'IN_PROGRESS', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'REJECTED', 'REMOVED', 'CANCELED'];
  await f.store.transaction(async (tx) => {
    for (const [i, status] of statuses.entries()) await executions.insert(tx, rows(jobId, 1 + i * 2500, 2500, status));
  });
  const details = (await f.describe(jobId)).job!.jobProcessDetails!;
  assert.deepEqual(details, {
    numberOfQueuedThings: 2501, // the real thing's execution too
    numberOfInProgressThings: 2500,
    numberOfSucceededThings: 2500,
    numberOfFailedThings: 2500,
    numberOfTimedOutThings: 2500,
    numberOfRejectedThings: 2500,
    numberOfRemovedThings: 2500,
    numberOfCanceledThings: 2500,
  });
});
