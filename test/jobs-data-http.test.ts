// The HTTPS jobs data plane end to end through @aws-sdk/client-iot-jobs-data-plane: a device runs jobs to
// SUCCEEDED, FAILED and REJECTED, every refusal of the execution state machine, expectedVersion conflicts, and the
// control plane's counters afterwards.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  DescribeJobExecutionCommand,
  GetPendingJobExecutionsCommand,
  IoTJobsDataPlaneClient,
  StartNextPendingJobExecutionCommand,
  UpdateJobExecutionCommand,
  type UpdateJobExecutionCommandInput,
} from '@aws-sdk/client-iot-jobs-data-plane';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CancelJobExecutionCommand, GetJobDocumentCommand } from '@aws-sdk/client-iot';
import { expectError, jobsFixture, type JobsFixture } from './support/jobs.ts';

let f: JobsFixture;
let data: IoTJobsDataPlaneClient;
before(async () => {
  f = await jobsFixture();
  data = new IoTJobsDataPlaneClient({
    endpoint: f.server.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' },
    maxAttempts: 1,
  });
});
after(async () => {
  data.destroy();
  await f.stop();
});

const pending = (thingName: string) => data.send(new GetPendingJobExecutionsCommand({ thingName }));
const startNext = (thingName: string, input: { statusDetails?: Record<string, string>; stepTimeoutInMinutes?: number } = {}) =>
  data.send(new StartNextPendingJobExecutionCommand({ thingName, ...input }));
const describe = (thingName: string, jobId: string, input: { executionNumber?: number; includeJobDocument?: boolean } = {}) =>
  data.send(new DescribeJobExecutionCommand({ thingName, jobId, ...input }));
const update = (thingName: string, jobId: string, input: Omit<UpdateJobExecutionCommandInput, 'thingName' | 'jobId'>) =>
  data.send(new UpdateJobExecutionCommand({ thingName, jobId, ...input }));

const nowSec = () => Math.floor(Date.now() / 1000);

test('a device runs a job from the pending list to SUCCEEDED', async () => {
  const t = await f.thing();
  const doc = JSON.stringify({ operation: 'install', version: '2.0' });
  const jobId = await f.createJob({ targets: [t.arn], document: doc });

  const listed = await pending(t.name);
  assert.deepEqual(listed.inProgressJobs, []);
  assert.equal(listed.queuedJobs!.length, 1);
  const summary = listed.queuedJobs![0];
  assert.equal(summary.jobId, jobId);
  assert.equal(summary.executionNumber, 1);
  assert.equal(summary.versionNumber, 1);
  assert.ok(Math.abs(summary.queuedAt! - nowSec()) <= 5, `queuedAt is epoch seconds: ${summary.queuedAt}`);
  assert.equal(summary.startedAt, undefined);

  const next = await describe(t.name, '$next');
  assert.equal(next.execution!.jobId, jobId);
  assert.equal(next.execution!.status, 'QUEUED');
  assert.equal(next.execution!.jobDocument, doc, 'the document is a JSON string over HTTPS, included by default');
  assert.equal((await describe(t.name, jobId, { includeJobDocument: false })).execution!.jobDocument, undefined);

  const started = await startNext(t.name, { statusDetails: { step: 'download' }, stepTimeoutInMinutes: 5 });
  const e = started.execution!;
  assert.equal(e.jobId, jobId);
  assert.equal(e.thingName, t.name);
  assert.equal(e.status, 'IN_PROGRESS');
  assert.equal(e.versionNumber, 2);
  assert.deepEqual(e.statusDetails, { step: 'download' });
  assert.ok(e.startedAt! >= summary.queuedAt!);
  assert.equal(e.jobDocument, doc);
  assert.ok(e.approximateSecondsBeforeTimedOut! > 290 && e.approximateSecondsBeforeTimedOut! <= 300);

  // Asked again, start-next returns the running execution untouched.
  const again = await startNext(t.name, { statusDetails: { ignored: 'yes' } });
  assert.equal(again.execution!.versionNumber, 2);
  assert.deepEqual(again.execution!.statusDetails, { step: 'download' });
  assert.deepEqual(
    (await pending(t.name)).inProgressJobs!.map((s) => s.jobId),
    [jobId],
  );

  const progress = await update(t.name, jobId, {
    status: 'IN_PROGRESS',
    statusDetails: { step: 'install' },
    expectedVersion: 2,
    includeJobExecutionState: true,
  });
  assert.deepEqual(progress.executionState, { status: 'IN_PROGRESS', statusDetails: { step: 'install' }, versionNumber: 3 });
  assert.equal(progress.jobDocument, undefined);

  const done = await update(t.name, jobId, { status: 'SUCCEEDED', expectedVersion: 3, includeJobExecutionState: true, includeJobDocument: true });
  assert.deepEqual(done.executionState, { status: 'SUCCEEDED', statusDetails: { step: 'install' }, versionNumber: 4 });
  assert.equal(done.jobDocument, doc);

  const list = await pending(t.name);
  assert.deepEqual([list.inProgressJobs, list.queuedJobs], [[], []]);
  assert.equal((await startNext(t.name)).execution, undefined, 'nothing pending: no execution');
  assert.equal((await describe(t.name, '$next')).execution, undefined);

  const job = await f.describe(jobId);
  assert.equal(job.job!.jobProcessDetails!.numberOfSucceededThings, 1);
  assert.equal(job.job!.jobProcessDetails!.numberOfQueuedThings, 0);
  assert.equal(job.job!.jobProcessDetails!.numberOfInProgressThings, 0);
});

test('FAILED and REJECTED, straight from QUEUED too, and the counters of the job', async () => {
  const [a, b, c] = [await f.thing(), await f.thing(), await f.thing()];
  const jobId = await f.createJob({ targets: [a.arn, b.arn, c.arn] });
  await startNext(a.name);
  await update(a.name, jobId, { status: 'FAILED', statusDetails: { reason: 'disk-full' } });
  await update(b.name, jobId, { status: 'REJECTED' });
  await startNext(c.name);
  const details = (await f.describe(jobId)).job!.jobProcessDetails!;
  assert.equal(details.numberOfFailedThings, 1);
  assert.equal(details.numberOfRejectedThings, 1);
  assert.equal(details.numberOfInProgressThings, 1);
  assert.equal(details.numberOfQueuedThings, 0);
  assert.equal(details.numberOfSucceededThings, 0);
});

test('every refusal of the state machine, with AWS error names and statuses', async () => {
  const t = await f.thing();
  const jobId = await f.createJob({ targets: [t.arn] });
  // Statuses only the service sets.
  for (const status of ['CANCELED', 'TIMED_OUT', 'REMOVED'] as const) {
    await expectError(() => update(t.name, jobId, { status }), 'InvalidRequestException', 400, new RegExp(status));
  }
  await expectError(() => update(t.name, jobId, { status: 'QUEUED' }), 'InvalidStateTransitionException', 409, /QUEUED/);
  // statusDetails limits and step timeouts.
  const eleven = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, 'v']));
  await expectError(() => update(t.name, jobId, { status: 'IN_PROGRESS', statusDetails: eleven }), 'InvalidRequestException', 400, /at most 10/);
  await expectError(() => startNext(t.name, { statusDetails: eleven }), 'InvalidRequestException', 400, /at most 10/);
  await expectError(() => update(t.name, jobId, { status: 'IN_PROGRESS', stepTimeoutInMinutes: 0 }), 'InvalidRequestException', 400, /stepTimeoutInMinutes/);
  await expectError(() => update(t.name, jobId, { status: 'IN_PROGRESS', statusDetails: { 'bad key!': 'v' } }), 'InvalidRequestException', 400);
  // Stale expectedVersion: an invalid transition on this plane (409); nothing changed.
  await expectError(() => update(t.name, jobId, { status: 'IN_PROGRESS', expectedVersion: 7 }), 'InvalidStateTransitionException', 409, /version 7.*version 1/);
  assert.equal((await describe(t.name, jobId)).execution!.versionNumber, 1);
  // Unknown job, thing or execution number.
  await expectError(() => update(t.name, 'no-such-job', { status: 'IN_PROGRESS' }), 'ResourceNotFoundException', 404);
  await expectError(() => update(t.name, jobId, { status: 'IN_PROGRESS', executionNumber: 9 }), 'ResourceNotFoundException', 404);
  await expectError(() => describe('no-such-thing', jobId), 'ResourceNotFoundException', 404);
  await expectError(() => pending('no-such-thing'), 'ResourceNotFoundException', 404);
  await expectError(() => startNext('no-such-thing'), 'ResourceNotFoundException', 404);
  // Terminal: no further update, and describe answers TerminalStateException.
  await update(t.name, jobId, { status: 'SUCCEEDED' });
  for (const status of ['IN_PROGRESS', 'SUCCEEDED', 'FAILED', 'REJECTED'] as const) {
    await expectError(() => update(t.name, jobId, { status }), 'InvalidStateTransitionException', 409, /already SUCCEEDED/);
  }
  await expectError(() => describe(t.name, jobId), 'TerminalStateException', 410, /SUCCEEDED/);
  // A force-canceled execution: the device's later updates fail.
  const t2 = await f.thing();
  const job2 = await f.createJob({ targets: [t2.arn] });
  await startNext(t2.name);
  await f.iot.send(new CancelJobExecutionCommand({ jobId: job2, thingName: t2.name, force: true }));
  await expectError(() => update(t2.name, job2, { status: 'SUCCEEDED' }), 'InvalidStateTransitionException', 409, /CANCELED/);
  // The model's own constraints: a job id `$next` cannot be updated.
  await expectError(() => update(t2.name, '$next', { status: 'SUCCEEDED' }), 'InvalidRequestException', 400);
});

test('expectedVersion: the first of two devices holding the same version wins', async () => {
  const t = await f.thing();
  const jobId = await f.createJob({ targets: [t.arn] });
  const v = (await startNext(t.name)).execution!.versionNumber!;
  const results = await Promise.allSettled([
    update(t.name, jobId, { status: 'SUCCEEDED', expectedVersion: v }),
    update(t.name, jobId, { status: 'FAILED', expectedVersion: v }),
  ]);
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
  const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
  assert.equal(refused.reason.name, 'InvalidStateTransitionException');
  const job = (await f.describe(jobId)).job!.jobProcessDetails!;
  assert.equal(job.numberOfSucceededThings! + job.numberOfFailedThings!, 1);
});

test('two devices racing start-next for one thing start it once', async () => {
  for (let round = 0; round < 5; round++) {
    const t = await f.thing();
    const jobId = await f.createJob({ targets: [t.arn] });
    const [one, two] = await Promise.all([startNext(t.name, { statusDetails: { by: 'one' } }), startNext(t.name, { statusDetails: { by: 'two' } })]);
    assert.equal(one.execution!.jobId, jobId);
    assert.equal(two.execution!.jobId, jobId);
    // Whoever came second saw the execution the first started and left it as it was.
    assert.deepEqual(one.execution!.statusDetails, two.execution!.statusDetails);
    assert.equal(one.execution!.versionNumber, 2);
    assert.equal(two.execution!.versionNumber, 2);
    assert.equal((await describe(t.name, jobId)).execution!.versionNumber, 2);
  }
});

test('pending lists order IN_PROGRESS first, then by queue time; $next follows that order', async () => {
  const t = await f.thing();
  const first = await f.createJob({ targets: [t.arn] });
  await new Promise((r) => setTimeout(r, 5));
  const second = await f.createJob({ targets: [t.arn] });
  await update(t.name, second, { status: 'IN_PROGRESS' });
  const list = await pending(t.name);
  assert.deepEqual(
    list.inProgressJobs!.map((s) => s.jobId),
    [second],
  );
  assert.deepEqual(
    list.queuedJobs!.map((s) => s.jobId),
    [first],
  );
  assert.equal((await describe(t.name, '$next')).execution!.jobId, second);
  await update(t.name, second, { status: 'SUCCEEDED' });
  assert.equal((await describe(t.name, '$next')).execution!.jobId, first);
  assert.equal((await startNext(t.name)).execution!.jobId, first);
});

test('job documents carry presigned URLs signed per fetch, valid for expiresInSec', async () => {
  const s3 = new S3Client({
    endpoint: f.server.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' },
  });
  await s3.send(new CreateBucketCommand({ Bucket: 'firmware' }));
  await s3.send(new PutObjectCommand({ Bucket: 'firmware', Key: 'fw/v2.bin', Body: 'firmware-bytes' }));
  s3.destroy();
  const t = await f.thing();
  const document = JSON.stringify({ url: '${aws:iot:s3-presigned-url:https://s3.us-east-1.amazonaws.com/firmware/fw/v2.bin}' });
  const jobId = await f.createJob({ targets: [t.arn], document, presignedUrlConfig: { expiresInSec: 120, roleArn: 'arn:aws:iam::000000000000:role/jobs' } });
  const delivered = JSON.parse((await describe(t.name, jobId)).execution!.jobDocument!);
  assert.match(delivered.url, /X-Amz-Expires=120/);
  const res = await fetch(delivered.url);
  assert.equal(res.status, 200);
  assert.equal(await res.text(), 'firmware-bytes');
  // The control plane keeps the placeholder: it is signed per device fetch.
  assert.equal((await f.iot.send(new GetJobDocumentCommand({ jobId }))).document, document);
});
