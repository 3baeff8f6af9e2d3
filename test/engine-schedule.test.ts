// Scheduling end to end in rehearsal mode (--time-scale 600: half an hour lasts three seconds): startTime,
// endTime with each endBehavior, and maintenance windows.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { JobEndBehavior } from '@aws-sdk/client-iot';
import { jobsFixture, type JobsFixture } from './support/jobs.ts';
import { executionRows, report } from './support/device.ts';
import { eventually } from './support/server.ts';

const SCALE = 600;
const MINUTE = 60_000 / SCALE;

let f: JobsFixture;
before(async () => {
  f = await jobsFixture({ timeScale: SCALE });
});
after(() => f.stop());

const at = (ms: number) => new Date(ms).toISOString().slice(0, 16);
const job = async (jobId: string) => (await f.describe(jobId)).job!;

async function things(n: number) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(await f.thing());
  return out;
}

/** startTime 60 rollout minutes ahead (to the minute), endTime 45 minutes after it. */
function window() {
  const start = Math.floor((Date.now() + 60 * 60_000) / 60_000) * 60_000;
  return { startTime: at(start), endTime: at(start + 45 * 60_000) };
}

test('startTime starts the job; endTime CANCEL / FORCE_CANCEL cancel it, STOP_ROLLOUT stops releasing', async () => {
  // The things exist before the schedule is taken, so a slow machine spends none of the lead time on them.
  const fleets = { cancel: await things(2), force: await things(2), stop: await things(60) };
  const schedule = window();
  const made = async (endBehavior: JobEndBehavior, ts: Array<{ arn: string; name: string }>, rate?: number) => {
    const jobId = await f.createJob({
      targets: ts.map((t) => t.arn),
      schedulingConfig: { ...schedule, endBehavior },
      jobExecutionsRolloutConfig: rate ? { maximumPerMinute: rate } : undefined,
    });
    return { jobId, names: ts.map((t) => t.name) };
  };
  const cancel = await made('CANCEL', fleets.cancel);
  const force = await made('FORCE_CANCEL', fleets.force);
  const stop = await made('STOP_ROLLOUT', fleets.stop, 1);
  for (const { jobId } of [cancel, force, stop]) {
    const j = await job(jobId);
    assert.equal(j.status, 'SCHEDULED');
    assert.equal(j.jobProcessDetails!.numberOfQueuedThings, 0);
  }
  // startTime: rollout begins.
  await eventually(async () => assert.equal((await job(cancel.jobId)).jobProcessDetails!.numberOfQueuedThings, 2), 100 * MINUTE);
  assert.equal((await job(cancel.jobId)).status, 'IN_PROGRESS');
  await eventually(async () => assert.equal((await job(force.jobId)).jobProcessDetails!.numberOfQueuedThings, 2), 100 * MINUTE);
  await report(f.server.flotilla, cancel.jobId, cancel.names[0], 'IN_PROGRESS');
  await report(f.server.flotilla, force.jobId, force.names[0], 'IN_PROGRESS');

  // endTime.
  const canceled = await eventually(async () => {
    const j = await job(cancel.jobId);
    assert.equal(j.jobProcessDetails!.numberOfCanceledThings, 1);
    return j;
  }, 100 * MINUTE);
  assert.deepEqual([canceled.status, canceled.forceCanceled, canceled.jobProcessDetails!.numberOfInProgressThings], ['CANCELED', false, 1]);
  const forced = await eventually(async () => {
    const j = await job(force.jobId);
    assert.equal(j.jobProcessDetails!.numberOfCanceledThings, 2);
    return j;
  }, 100 * MINUTE);
  assert.deepEqual([forced.status, forced.forceCanceled], ['CANCELED', true]);

  // STOP_ROLLOUT: 1 per minute for 45 minutes is fewer than 60 things; after endTime nothing more is released.
  const stopped = await eventually(async () => {
    const j = await job(stop.jobId);
    assert.equal(j.jobProcessDetails!.processingTargets, undefined);
    return j;
  }, 100 * MINUTE);
  assert.equal(stopped.status, 'IN_PROGRESS');
  const released = (await executionRows(f.server.flotilla, stop.jobId)).length;
  assert.ok(released > 0 && released < 60, `released ${released}`);
  await new Promise((resolve) => setTimeout(resolve, 3 * MINUTE));
  assert.equal((await executionRows(f.server.flotilla, stop.jobId)).length, released);
  // It completes once the released executions end.
  for (const r of await executionRows(f.server.flotilla, stop.jobId)) {
    await report(f.server.flotilla, stop.jobId, r.thing_name, 'IN_PROGRESS');
    await report(f.server.flotilla, stop.jobId, r.thing_name, 'SUCCEEDED');
  }
  await eventually(async () => assert.equal((await job(stop.jobId)).status, 'COMPLETED'), 100 * MINUTE);
});

test('maintenance windows: executions are released only inside a window; the job shows SCHEDULED between windows', async () => {
  const ts = await things(8);
  // Every 10 rollout minutes for 2 minutes, one release per minute: about two per window.
  const maintenanceWindows = [{ startTime: 'cron(0/10 * * * ? *)', durationInMinutes: 2 }];
  const jobId = await f.createJob({
    targets: ts.map((t) => t.arn),
    schedulingConfig: { maintenanceWindows },
    jobExecutionsRolloutConfig: { maximumPerMinute: 1 },
  });
  assert.equal((await job(jobId)).scheduledJobRollouts!.length, 7);
  const seen = new Set<string>();
  await eventually(
    async () => {
      const j = await job(jobId);
      seen.add(j.status!);
      assert.equal(j.jobProcessDetails!.numberOfQueuedThings, 8);
    },
    200 * MINUTE,
    10,
  );
  assert.ok(seen.has('SCHEDULED') && seen.has('IN_PROGRESS'), `statuses seen: ${[...seen]}`);
  const row = await f.server.flotilla.store.db.selectFrom('jobs').select('created_at').where('job_id', '=', jobId).executeTakeFirstOrThrow();
  const created = Number(row.created_at);
  for (const r of await executionRows(f.server.flotilla, jobId)) {
    const rolloutTime = created + (Number(r.queued_at) - created) * SCALE;
    const minute = Math.floor(rolloutTime / 60_000) % 10;
    assert.ok(minute < 2, `an execution was released at rollout minute ${minute} of 10, outside the window`);
  }
});
