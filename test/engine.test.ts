// The rollout engine end to end, in rehearsal mode (--time-scale 60: a minute lasts a second): rates, exponential
// steps, abort, both timeouts, retries, events configuration.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CreateJobCommand, DescribeEventConfigurationsCommand, ListJobExecutionsForThingCommand, UpdateEventConfigurationsCommand } from '@aws-sdk/client-iot';
import { DOC, expectError, jobsFixture, type JobsFixture } from './support/jobs.ts';
import { executionRows, report } from './support/device.ts';
import { eventually } from './support/server.ts';

const SCALE = 60;
/** One rollout minute in real ms at this scale. */
const MINUTE = 60_000 / SCALE;

let f: JobsFixture;
before(async () => {
  f = await jobsFixture({ timeScale: SCALE });
});
after(() => f.stop());

async function groupOf(n: number) {
  const g = await f.group();
  const names: string[] = [];
  for (let i = 0; i < n; i++) {
    const t = await f.thing();
    await f.addToGroup(g.name, t.name);
    names.push(t.name);
  }
  return { ...g, names };
}

const status = async (jobId: string) => (await f.describe(jobId)).job!;

test('health says rehearsal mode is on', async () => {
  const health = (await (await fetch(`${f.server.endpoint}/_flotilla/health`)).json()) as { rehearsal?: unknown };
  assert.deepEqual(health.rehearsal, { timeScale: SCALE });
});

test('maximumPerMinute: no more than N executions are created in any minute; DescribeJob shows the rollout going on', async () => {
  const g = await groupOf(12);
  const jobId = f.uniq('rate');
  await f.iot.send(new CreateJobCommand({ jobId, targets: [g.arn], document: DOC, jobExecutionsRolloutConfig: { maximumPerMinute: 5 } }));
  const during = await status(jobId);
  assert.equal(during.isConcurrent, true);
  assert.deepEqual(during.jobProcessDetails!.processingTargets, [g.arn]);
  await f.rolledOut(jobId).catch(() => {});
  const rows = await eventually(async () => {
    const r = await executionRows(f.server.flotilla, jobId);
    assert.equal(r.length, 12);
    return r;
  }, 15_000);
  const times = rows.map((r) => Number(r.queued_at)).sort((a, b) => a - b);
  // Any 6 consecutive creations span at least one (scaled) minute: at most 5 per minute.
  for (let i = 0; i + 5 < times.length; i++) assert.ok(times[i + 5] - times[i] >= MINUTE, `6 executions within ${times[i + 5] - times[i]} ms`);
  // And the rate is used: 12 things take two more minutes, not much longer.
  assert.ok(times[11] - times[0] < 4 * MINUTE, `rollout took ${times[11] - times[0]} ms`);
  const done = await status(jobId);
  assert.equal(done.jobProcessDetails!.numberOfQueuedThings, 12);
  assert.equal(done.jobProcessDetails!.processingTargets, undefined);
  assert.equal(done.isConcurrent, false);
});

test('exponentialRate: the rate grows by the factor once numberOfSucceededThings have succeeded', async () => {
  const g = await groupOf(10);
  const jobId = f.uniq('exp');
  const exponentialRate = { baseRatePerMinute: 2, incrementFactor: 3, rateIncreaseCriteria: { numberOfSucceededThings: 2 } };
  await f.iot.send(new CreateJobCommand({ jobId, targets: [g.arn], document: DOC, jobExecutionsRolloutConfig: { exponentialRate } }));
  const first = await eventually(async () => {
    const r = await executionRows(f.server.flotilla, jobId);
    assert.equal(r.length, 2);
    return r;
  });
  // Base rate: nothing more within this minute.
  await new Promise((resolve) => setTimeout(resolve, MINUTE / 4));
  assert.equal((await executionRows(f.server.flotilla, jobId)).length, 2);
  for (const r of first) {
    await report(f.server.flotilla, jobId, r.thing_name, 'IN_PROGRESS');
    await report(f.server.flotilla, jobId, r.thing_name, 'SUCCEEDED');
  }
  // Two succeeded: the rate is 2 × 3 = 6 per minute, so four more go out within the first minute (a base-rate
  // rollout would have allowed none), and never more than six in it.
  const start = Number(first[0].queued_at);
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, start + MINUTE - Date.now())));
  const rows = await executionRows(f.server.flotilla, jobId);
  assert.equal(rows.filter((r) => Number(r.queued_at) - start < MINUTE).length, 6);
});

test('abortConfig: FAILED reaching the threshold cancels the job and its queued executions', async () => {
  const g = await groupOf(5);
  const abortConfig = { criteriaList: [{ failureType: 'FAILED' as const, action: 'CANCEL' as const, thresholdPercentage: 40, minNumberOfExecutedThings: 5 }] };
  const jobId = await f.createJob({ targets: [g.arn], abortConfig });
  const [a, b, c] = g.names;
  await report(f.server.flotilla, jobId, a, 'IN_PROGRESS');
  await report(f.server.flotilla, jobId, a, 'FAILED');
  await report(f.server.flotilla, jobId, c, 'IN_PROGRESS');
  // 1 of 5 failed: 20 %, under the threshold.
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal((await status(jobId)).status, 'IN_PROGRESS');
  await report(f.server.flotilla, jobId, b, 'FAILED');
  const job = await eventually(async () => {
    const j = await status(jobId);
    assert.equal(j.jobProcessDetails!.numberOfCanceledThings, 2);
    return j;
  });
  assert.equal(job.status, 'CANCELED');
  assert.equal(job.reasonCode, 'ABORT_CRITERIA_MET');
  assert.match(job.comment!, /FAILED/);
  assert.equal(job.forceCanceled, false);
  // The IN_PROGRESS execution runs on.
  assert.equal(job.jobProcessDetails!.numberOfInProgressThings, 1);
  assert.equal(job.jobProcessDetails!.numberOfFailedThings, 2);
});

test('inProgressTimeoutInMinutes and step timeouts turn IN_PROGRESS executions TIMED_OUT', async () => {
  const [a, b, c] = [await f.thing(), await f.thing(), await f.thing()];
  const jobId = await f.createJob({ targets: [a.arn, b.arn, c.arn], timeoutConfig: { inProgressTimeoutInMinutes: 2 } });
  const started = Date.now();
  await report(f.server.flotilla, jobId, a.name, 'IN_PROGRESS');
  await report(f.server.flotilla, jobId, b.name, 'IN_PROGRESS', 1);
  // b's step timer (1 minute) runs out first, then a's in-progress timer (2 minutes); c never started.
  await eventually(async () => assert.equal((await status(jobId)).jobProcessDetails!.numberOfTimedOutThings, 1), 3 * MINUTE);
  assert.ok(Date.now() - started >= MINUTE * 0.9, 'the step timer fired early');
  const [stepped] = (await executionRows(f.server.flotilla, jobId)).filter((r) => r.thing_name === b.name);
  assert.equal(stepped.status, 'TIMED_OUT');
  await eventually(async () => assert.equal((await status(jobId)).jobProcessDetails!.numberOfTimedOutThings, 2), 4 * MINUTE);
  assert.ok(Date.now() - started >= 2 * MINUTE * 0.9, 'the in-progress timer fired early');
  const job = await status(jobId);
  assert.equal(job.jobProcessDetails!.numberOfQueuedThings, 1);
  assert.equal(job.status, 'IN_PROGRESS');
});

test('retries: a FAILED execution is queued again with the next executionNumber until the retries are used', async () => {
  const t = await f.thing();
  const jobId = await f.createJob({ targets: [t.arn], jobExecutionsRetryConfig: { criteriaList: [{ failureType: 'FAILED', numberOfRetries: 2 }] } });
  for (let attempt = 1; attempt <= 3; attempt++) {
    await eventually(async () => {
      const latest = (await executionRows(f.server.flotilla, jobId)).at(-1)!;
      assert.deepEqual([Number(latest.execution_number), latest.retry_attempt, latest.status], [attempt, attempt - 1, 'QUEUED']);
    });
    await report(f.server.flotilla, jobId, t.name, 'IN_PROGRESS');
    await report(f.server.flotilla, jobId, t.name, 'FAILED');
  }
  const job = await eventually(async () => {
    const j = await status(jobId);
    assert.equal(j.status, 'COMPLETED');
    return j;
  });
  assert.equal(job.jobProcessDetails!.numberOfFailedThings, 1);
  const summaries = (await f.iot.send(new ListJobExecutionsForThingCommand({ thingName: t.name, jobId }))).executionSummaries!;
  assert.deepEqual(
    summaries.map((s) => [s.jobExecutionSummary!.executionNumber, s.jobExecutionSummary!.retryAttempt, s.jobExecutionSummary!.status]),
    [
      [1, 0, 'FAILED'],
      [2, 1, 'FAILED'],
      [3, 2, 'FAILED'],
    ],
  );
});

test('UpdateEventConfigurations stores the account setting; DescribeEventConfigurations lists every type', async () => {
  const before = await f.iot.send(new DescribeEventConfigurationsCommand({}));
  assert.equal(before.eventConfigurations!.JOB!.Enabled, false);
  await f.iot.send(new UpdateEventConfigurationsCommand({ eventConfigurations: { JOB: { Enabled: true }, JOB_EXECUTION: { Enabled: true } } }));
  await f.iot.send(new UpdateEventConfigurationsCommand({ eventConfigurations: { THING: { Enabled: true } } }));
  const now = await f.iot.send(new DescribeEventConfigurationsCommand({}));
  assert.deepEqual(
    [
      now.eventConfigurations!.JOB!.Enabled,
      now.eventConfigurations!.JOB_EXECUTION!.Enabled,
      now.eventConfigurations!.THING!.Enabled,
      now.eventConfigurations!.POLICY!.Enabled,
    ],
    [true, true, true, false],
  );
  assert.ok(now.lastModifiedDate instanceof Date);
  await expectError(
    () => f.iot.send(new UpdateEventConfigurationsCommand({ eventConfigurations: { NOPE: { Enabled: true } } as never })),
    'InvalidRequestException',
    400,
    /NOPE/,
  );
});
