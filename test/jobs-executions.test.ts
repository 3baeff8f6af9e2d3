// End to end through @aws-sdk/client-iot: DescribeJobExecution, ListJobExecutionsForJob, ListJobExecutionsForThing,
// CancelJobExecution and DeleteJobExecution, with their effect on the job's counters and status.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  CancelJobCommand,
  CancelJobExecutionCommand,
  DeleteJobExecutionCommand,
  DescribeJobExecutionCommand,
  ListJobExecutionsForJobCommand,
  ListJobExecutionsForThingCommand,
  type ListJobExecutionsForThingCommandInput,
} from '@aws-sdk/client-iot';
import { expectError, jobsFixture, type JobsFixture } from './support/jobs.ts';
import { eventually } from './support/server.ts';

let f: JobsFixture;
before(async () => {
  f = await jobsFixture();
});
after(() => f.stop());

const describeExecution = (jobId: string, thingName: string, executionNumber?: number) =>
  f.iot.send(new DescribeJobExecutionCommand({ jobId, thingName, executionNumber })).then((o) => o.execution!);

test('DescribeJobExecution shows the latest execution or the one asked for', async () => {
  const t = await f.thing();
  const jobId = await f.createJob({ targets: [t.arn], timeoutConfig: { inProgressTimeoutInMinutes: 10 } });
  const e = await describeExecution(jobId, t.name);
  assert.equal(e.jobId, jobId);
  assert.equal(e.thingArn, t.arn);
  assert.equal(e.status, 'QUEUED');
  assert.equal(e.executionNumber, 1);
  assert.equal(e.versionNumber, 1);
  assert.ok(e.queuedAt instanceof Date && e.lastUpdatedAt instanceof Date);
  assert.equal(e.startedAt, undefined);
  assert.equal(e.statusDetails, undefined);
  assert.equal(e.forceCanceled, undefined);
  assert.equal(e.approximateSecondsBeforeTimedOut, undefined);
  assert.equal((await describeExecution(jobId, t.name, 1)).executionNumber, 1);
  await expectError(() => describeExecution(jobId, t.name, 2), 'ResourceNotFoundException', 404);
  await expectError(() => describeExecution(jobId, 'other-thing'), 'ResourceNotFoundException', 404);
  await expectError(() => describeExecution('no-job', t.name), 'ResourceNotFoundException', 404);

  // As a device would leave it: started, with a running timer and a retry queued as execution 2.
  const now = Date.now();
  await f.setExecution(jobId, t.name, {
    status: 'IN_PROGRESS',
    started_at: now,
    version_number: 2,
    in_progress_deadline_at: now + 600_000,
    status_details: '{"step":"download"}',
  });
  const running = await describeExecution(jobId, t.name);
  assert.equal(running.status, 'IN_PROGRESS');
  assert.ok(running.startedAt instanceof Date);
  assert.deepEqual(running.statusDetails, { detailsMap: { step: 'download' } });
  assert.ok(running.approximateSecondsBeforeTimedOut! > 590 && running.approximateSecondsBeforeTimedOut! <= 600);
  await f.store.db
    .insertInto('job_executions')
    .values({
      account: running.thingArn!.split(':')[4],
      region: 'us-east-1',
      job_id: jobId,
      thing_name: t.name,
      execution_number: 2,
      thing_arn: t.arn,
      status: 'QUEUED',
      version_number: 1,
      retry_attempt: 1,
      status_details: null,
      force_canceled: null,
      queued_at: now,
      started_at: null,
      last_updated_at: now,
      in_progress_deadline_at: null,
      step_deadline_at: null,
    })
    .execute();
  await f.setExecution(jobId, t.name, { status: 'FAILED' });
  await f.store.db.updateTable('job_executions').set({ status: 'QUEUED' }).where('job_id', '=', jobId).where('execution_number', '=', 2).execute();
  assert.equal((await describeExecution(jobId, t.name)).executionNumber, 2);
  assert.equal((await describeExecution(jobId, t.name, 1)).status, 'FAILED');
  const summaries = (await f.iot.send(new ListJobExecutionsForJobCommand({ jobId }))).executionSummaries!;
  assert.deepEqual(
    summaries.map((s) => [s.jobExecutionSummary!.executionNumber, s.jobExecutionSummary!.retryAttempt, s.jobExecutionSummary!.status]),
    [
      [1, 0, 'FAILED'],
      [2, 1, 'QUEUED'],
    ],
  );
  // Counters look at each thing's latest execution only.
  const details = (await f.describe(jobId)).job!.jobProcessDetails!;
  assert.equal(details.numberOfQueuedThings, 1);
  assert.equal(details.numberOfFailedThings, 0);
});

test('ListJobExecutionsForJob filters by status and pages', async () => {
  const things = [await f.thing(), await f.thing(), await f.thing(), await f.thing(), await f.thing()];
  const jobId = await f.createJob({ targets: things.map((t) => t.arn) });
  await f.iot.send(new CancelJobExecutionCommand({ jobId, thingName: things[1].name }));
  const seen: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await f.iot.send(new ListJobExecutionsForJobCommand({ jobId, maxResults: 2, nextToken }));
    assert.ok(page.executionSummaries!.length <= 2);
    seen.push(...page.executionSummaries!.map((s) => s.thingArn!));
    nextToken = page.nextToken;
  } while (nextToken);
  assert.deepEqual(seen, things.map((t) => t.arn).sort());
  const canceled = await f.iot.send(new ListJobExecutionsForJobCommand({ jobId, status: 'CANCELED' }));
  assert.deepEqual(
    canceled.executionSummaries!.map((s) => s.thingArn),
    [things[1].arn],
  );
  await expectError(() => f.iot.send(new ListJobExecutionsForJobCommand({ jobId: 'no-such-job' })), 'ResourceNotFoundException', 404);
});

test('ListJobExecutionsForThing filters by status, jobId and namespaceId', async () => {
  const t = await f.thing();
  const j1 = await f.createJob({ targets: [t.arn] });
  const j2 = await f.createJob({ targets: [t.arn], namespaceId: 'greengrass' });
  const j3 = await f.createJob({ targets: [t.arn] });
  await f.iot.send(new CancelJobExecutionCommand({ jobId: j3, thingName: t.name }));
  const list = async (input: Partial<ListJobExecutionsForThingCommandInput>) => {
    const out: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await f.iot.send(new ListJobExecutionsForThingCommand({ thingName: t.name, maxResults: 1, ...input, nextToken }));
      out.push(...page.executionSummaries!.map((s) => `${s.jobId}:${s.jobExecutionSummary!.status}`));
      nextToken = page.nextToken;
    } while (nextToken);
    return out;
  };
  assert.deepEqual(await list({}), [`${j1}:QUEUED`, `${j2}:QUEUED`, `${j3}:CANCELED`]);
  assert.deepEqual(await list({ status: 'QUEUED' }), [`${j1}:QUEUED`, `${j2}:QUEUED`]);
  assert.deepEqual(await list({ jobId: j2 }), [`${j2}:QUEUED`]);
  assert.deepEqual(await list({ namespaceId: 'greengrass' }), [`${j2}:QUEUED`]);
  assert.deepEqual(await list({ thingName: 'unknown-thing' }), []);
});

test('CancelJobExecution: QUEUED always, IN_PROGRESS with force, expectedVersion and statusDetails', async () => {
  const [a, b, c] = [await f.thing(), await f.thing(), await f.thing()];
  const jobId = await f.createJob({ targets: [a.arn, b.arn, c.arn] });
  await expectError(
    () => f.iot.send(new CancelJobExecutionCommand({ jobId, thingName: a.name, expectedVersion: 7 })),
    'VersionConflictException',
    409,
    /version 1/,
  );
  await f.iot.send(new CancelJobExecutionCommand({ jobId, thingName: a.name, expectedVersion: 1, statusDetails: { why: 'not needed' } }));
  const e = await describeExecution(jobId, a.name);
  assert.equal(e.status, 'CANCELED');
  assert.equal(e.versionNumber, 2);
  assert.equal(e.forceCanceled, false);
  assert.deepEqual(e.statusDetails, { detailsMap: { why: 'not needed' } });
  await expectError(() => f.iot.send(new CancelJobExecutionCommand({ jobId, thingName: a.name })), 'InvalidStateTransitionException', 409, /already CANCELED/);
  await expectError(
    () => f.iot.send(new CancelJobExecutionCommand({ jobId, thingName: b.name, statusDetails: { 'bad key!': 'x' } })),
    'InvalidRequestException',
    400,
  );
  await expectError(() => f.iot.send(new CancelJobExecutionCommand({ jobId: 'nope', thingName: b.name })), 'ResourceNotFoundException', 404);

  await f.setExecution(jobId, b.name, { status: 'IN_PROGRESS', started_at: Date.now(), version_number: 3 });
  await expectError(() => f.iot.send(new CancelJobExecutionCommand({ jobId, thingName: b.name })), 'InvalidStateTransitionException', 409, /force/);
  await f.iot.send(new CancelJobExecutionCommand({ jobId, thingName: b.name, force: true }));
  const forced = await describeExecution(jobId, b.name);
  assert.deepEqual([forced.status, forced.forceCanceled, forced.versionNumber], ['CANCELED', true, 4]);

  let job = (await f.describe(jobId)).job!;
  assert.equal(job.status, 'IN_PROGRESS');
  assert.deepEqual([job.jobProcessDetails!.numberOfCanceledThings, job.jobProcessDetails!.numberOfQueuedThings], [2, 1]);
  // The last open execution ends: the SNAPSHOT job completes.
  await f.iot.send(new CancelJobExecutionCommand({ jobId, thingName: c.name }));
  job = await completed(jobId);
  assert.ok(job.completedAt instanceof Date);
  assert.equal(job.jobProcessDetails!.numberOfCanceledThings, 3);
});

/** The engine completes a job after the change that left nothing open. */
const completed = (jobId: string) =>
  eventually(async () => {
    const job = (await f.describe(jobId)).job!;
    assert.equal(job.status, 'COMPLETED');
    return job;
  });

test('DeleteJobExecution: terminal executions, or unfinished ones with force', async () => {
  const [a, b] = [await f.thing(), await f.thing()];
  const jobId = await f.createJob({ targets: [a.arn, b.arn] });
  await expectError(
    () => f.iot.send(new DeleteJobExecutionCommand({ jobId, thingName: a.name, executionNumber: 1 })),
    'InvalidStateTransitionException',
    409,
    /force/,
  );
  await expectError(() => f.iot.send(new DeleteJobExecutionCommand({ jobId, thingName: a.name, executionNumber: 9 })), 'ResourceNotFoundException', 404);
  await f.iot.send(new CancelJobExecutionCommand({ jobId, thingName: a.name }));
  await f.iot.send(new DeleteJobExecutionCommand({ jobId, thingName: a.name, executionNumber: 1 }));
  await expectError(() => describeExecution(jobId, a.name), 'ResourceNotFoundException', 404);
  let job = (await f.describe(jobId)).job!;
  assert.deepEqual([job.jobProcessDetails!.numberOfCanceledThings, job.jobProcessDetails!.numberOfQueuedThings, job.status], [0, 1, 'IN_PROGRESS']);
  await f.setExecution(jobId, b.name, { status: 'IN_PROGRESS', started_at: Date.now() });
  await f.iot.send(new DeleteJobExecutionCommand({ jobId, thingName: b.name, executionNumber: 1, force: true }));
  job = await completed(jobId);
  assert.equal(job.jobProcessDetails!.numberOfInProgressThings, 0);
});

test("DescribeJobExecution reports forceCanceled as AWS does: absent until canceled, then the cancel's force", async () => {
  const [queued, running, plain] = [await f.thing(), await f.thing(), await f.thing()];
  const jobId = await f.createJob({ targets: [queued.arn, running.arn, plain.arn] });
  assert.equal((await describeExecution(jobId, queued.name)).forceCanceled, undefined);
  await f.iot.send(new CancelJobExecutionCommand({ jobId, thingName: plain.name }));
  assert.equal((await describeExecution(jobId, plain.name)).forceCanceled, false);
  await f.setExecution(jobId, running.name, { status: 'IN_PROGRESS', started_at: Date.now(), version_number: 2 });
  // A forced CancelJob cancels the QUEUED and the IN_PROGRESS executions with force; the canceled one keeps its own.
  await f.iot.send(new CancelJobCommand({ jobId, force: true }));
  // CancelJob answers first; the engine cancels the executions right after (docs/decisions.md).
  await eventually(async () => {
    const forcedRunning = await describeExecution(jobId, running.name);
    assert.deepEqual([forcedRunning.status, forcedRunning.forceCanceled], ['CANCELED', true]);
    const forcedQueued = await describeExecution(jobId, queued.name);
    assert.deepEqual([forcedQueued.status, forcedQueued.forceCanceled], ['CANCELED', true]);
  });
  assert.equal((await describeExecution(jobId, plain.name)).forceCanceled, false);
});
