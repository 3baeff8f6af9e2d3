// End to end through @aws-sdk/client-iot: CreateJob (targets, documents, configs), DescribeJob, GetJobDocument,
// UpdateJob, CancelJob, DeleteJob, ListJobs, AssociateTargetsWithJob and tags on jobs.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  AssociateTargetsWithJobCommand,
  CancelJobCommand,
  CreateJobCommand,
  DeleteJobCommand,
  GetJobDocumentCommand,
  ListJobExecutionsForJobCommand,
  ListJobsCommand,
  ListTagsForResourceCommand,
  TagResourceCommand,
  UpdateJobCommand,
  type ListJobsCommandInput,
} from '@aws-sdk/client-iot';
import { DOC, expectError, jobsFixture, type JobsFixture } from './support/jobs.ts';
import { eventually } from './support/server.ts';

let f: JobsFixture;
before(async () => {
  f = await jobsFixture();
});
after(() => f.stop());

const executionsOf = async (jobId: string) =>
  (await f.iot.send(new ListJobExecutionsForJobCommand({ jobId }))).executionSummaries!.map((s) => ({
    thing: s.thingArn!.split('/').pop(),
    ...s.jobExecutionSummary,
  }));

test('CreateJob expands nested groups into one QUEUED execution per distinct thing; DescribeJob counts them', async () => {
  const [a, b, c, d] = [await f.thing(), await f.thing(), await f.thing(), await f.thing()];
  const parent = await f.group();
  const child = await f.group(undefined, parent.name);
  const grandchild = await f.group(undefined, child.name);
  await f.addToGroup(parent.name, a.name);
  await f.addToGroup(child.name, b.name);
  await f.addToGroup(grandchild.name, c.name);
  const other = await f.group();
  await f.addToGroup(other.name, a.name); // a three times: two groups and by itself
  const jobId = f.uniq('expand');
  const created = await f.iot.send(new CreateJobCommand({ jobId, targets: [parent.arn, d.arn, a.arn, other.arn], document: DOC, description: 'nested' }));
  assert.equal(created.jobId, jobId);
  assert.match(created.jobArn!, new RegExp(`^arn:aws:iot:us-east-1:\\d{12}:job/${jobId}$`));
  assert.equal(created.description, 'nested');

  await f.rolledOut(jobId);
  const rows = await executionsOf(jobId);
  assert.deepEqual(rows.map((r) => r.thing).sort(), [a.name, b.name, c.name, d.name].sort());
  for (const r of rows) {
    assert.equal(r.status, 'QUEUED');
    assert.equal(r.executionNumber, 1);
    assert.equal(r.retryAttempt, 0);
    assert.ok(r.queuedAt instanceof Date);
  }
  const { job, documentSource } = await f.describe(jobId);
  assert.equal(documentSource, undefined);
  assert.equal(job!.status, 'IN_PROGRESS');
  assert.equal(job!.targetSelection, 'SNAPSHOT');
  assert.deepEqual(job!.targets, [parent.arn, d.arn, a.arn, other.arn]);
  assert.equal(job!.isConcurrent, false);
  assert.equal(job!.jobProcessDetails!.numberOfQueuedThings, 4);
  assert.equal(job!.jobProcessDetails!.numberOfCanceledThings, 0);
  assert.ok(job!.createdAt instanceof Date && job!.lastUpdatedAt instanceof Date);
  assert.equal(job!.completedAt, undefined);
  assert.equal((await f.iot.send(new GetJobDocumentCommand({ jobId }))).document, DOC);
});

test('CreateJob refusals: duplicate id, missing or malformed targets, documents, configs', async () => {
  const t = await f.thing();
  const jobId = await f.createJob({ targets: [t.arn] });
  const dup = await expectError(() => f.createJob({ jobId, targets: [t.arn] }), 'ResourceAlreadyExistsException', 409, /already exists/);
  assert.equal(dup.body.resourceId, jobId);
  const prefix = t.arn.slice(0, t.arn.indexOf('thing/'));
  await expectError(() => f.createJob({ targets: [`${prefix}thing/nope`] }), 'ResourceNotFoundException', 404, /nope/);
  await expectError(() => f.createJob({ targets: [`${prefix}thinggroup/nope`] }), 'ResourceNotFoundException', 404, /nope/);
  await expectError(
    () => f.createJob({ targets: ['arn:aws:iot:us-east-1:123456789012:policy/x'] }),
    'InvalidRequestException',
    400,
    /not a thing or thing group ARN/,
  );
  const many = Array.from({ length: 101 }, (_, i) => `${prefix}thing/t${i}`);
  await expectError(() => f.createJob({ targets: many }), 'LimitExceededException', 410, /at most 100 targets/);
  await expectError(() => f.createJob({ targets: [t.arn], document: 'not json' }), 'InvalidRequestException', 400, /not valid JSON/);
  await expectError(() => f.createJob({ targets: [t.arn], document: '[1]' }), 'InvalidRequestException', 400, /JSON object/);
  await expectError(
    () => f.createJob({ targets: [t.arn], document: DOC, documentSource: 'https://s3.amazonaws.com/b/k' }),
    'InvalidRequestException',
    400,
    /either document or documentSource/,
  );
  await expectError(() => f.iot.send(new CreateJobCommand({ jobId: f.uniq('nodoc'), targets: [t.arn] })), 'InvalidRequestException', 400, /needs a document/);
  await expectError(() => f.createJob({ targets: [t.arn], documentParameters: { a: 'b' } }), 'InvalidRequestException', 400, /managed job template/);
  const retries = {
    criteriaList: [
      { failureType: 'FAILED' as const, numberOfRetries: 6 },
      { failureType: 'TIMED_OUT' as const, numberOfRetries: 5 },
    ],
  };
  await expectError(
    () => f.createJob({ targets: [t.arn], jobExecutionsRetryConfig: retries, timeoutConfig: { inProgressTimeoutInMinutes: 10 } }),
    'InvalidRequestException',
    400,
    /must not exceed 10/,
  );
  await expectError(
    () => f.createJob({ targets: [t.arn], jobExecutionsRetryConfig: { criteriaList: [{ failureType: 'TIMED_OUT', numberOfRetries: 1 }] } }),
    'InvalidRequestException',
    400,
    /needs a timeoutConfig/,
  );
  await expectError(
    () => f.createJob({ targets: [t.arn], timeoutConfig: { inProgressTimeoutInMinutes: 20000 } }),
    'InvalidRequestException',
    400,
    /inProgressTimeoutInMinutes/,
  );
  await expectError(
    () =>
      f.createJob({
        targets: [t.arn],
        abortConfig: { criteriaList: [{ failureType: 'FAILED', action: 'CANCEL', thresholdPercentage: 10.555, minNumberOfExecutedThings: 1 }] },
      }),
    'InvalidRequestException',
    400,
    /thresholdPercentage/,
  );
  await expectError(
    () =>
      f.createJob({
        targets: [t.arn],
        jobExecutionsRolloutConfig: { exponentialRate: { baseRatePerMinute: 10, incrementFactor: 1.55, rateIncreaseCriteria: { numberOfNotifiedThings: 5 } } },
      }),
    'InvalidRequestException',
    400,
    /incrementFactor/,
  );
  await expectError(
    () => f.createJob({ targets: [t.arn], schedulingConfig: { startTime: new Date(Date.now() + 60_000).toISOString().slice(0, 16) } }),
    'InvalidRequestException',
    400,
    /at least 30 minutes/,
  );
});

test('every config is stored and described as given', async () => {
  const t = await f.thing();
  const config = {
    presignedUrlConfig: { roleArn: 'arn:aws:iam::123456789012:role/presign', expiresInSec: 600 },
    jobExecutionsRolloutConfig: {
      maximumPerMinute: 50,
      exponentialRate: { baseRatePerMinute: 5, incrementFactor: 2, rateIncreaseCriteria: { numberOfSucceededThings: 3 } },
    },
    abortConfig: { criteriaList: [{ failureType: 'ALL' as const, action: 'CANCEL' as const, thresholdPercentage: 33.33, minNumberOfExecutedThings: 3 }] },
    timeoutConfig: { inProgressTimeoutInMinutes: 30 },
    jobExecutionsRetryConfig: {
      criteriaList: [
        { failureType: 'FAILED' as const, numberOfRetries: 4 },
        { failureType: 'TIMED_OUT' as const, numberOfRetries: 6 },
      ],
    },
  };
  const jobId = await f.createJob({ targets: [t.arn], ...config, namespaceId: 'ns1', targetSelection: 'CONTINUOUS', tags: [{ Key: 'team', Value: 'ota' }] });
  const { job } = await f.describe(jobId);
  for (const [key, value] of Object.entries(config)) assert.deepEqual((job as any)[key], value, key);
  assert.equal(job!.namespaceId, 'ns1');
  assert.equal(job!.targetSelection, 'CONTINUOUS');
  const tags = await f.iot.send(new ListTagsForResourceCommand({ resourceArn: job!.jobArn }));
  assert.deepEqual(tags.tags, [{ Key: 'team', Value: 'ota' }]);
  await f.iot.send(new TagResourceCommand({ resourceArn: job!.jobArn, tags: [{ Key: 'stage', Value: 'beta' }] }));
  assert.equal((await f.iot.send(new ListTagsForResourceCommand({ resourceArn: job!.jobArn }))).tags!.length, 2);
});

test('a scheduled job starts SCHEDULED without executions and shows its next seven windows', async () => {
  const t = await f.thing();
  const start = new Date(Date.now() + 2 * 3600_000);
  const end = new Date(Date.now() + 30 * 24 * 3600_000);
  const schedulingConfig = {
    startTime: start.toISOString().slice(0, 16),
    endTime: end.toISOString().slice(0, 16),
    endBehavior: 'CANCEL' as const,
    maintenanceWindows: [{ startTime: 'cron(0 3 * * ? *)', durationInMinutes: 60 }],
  };
  const jobId = await f.createJob({ targets: [t.arn], schedulingConfig });
  const { job } = await f.describe(jobId);
  assert.equal(job!.status, 'SCHEDULED');
  assert.deepEqual(job!.schedulingConfig, schedulingConfig);
  assert.equal(job!.scheduledJobRollouts!.length, 7);
  for (const r of job!.scheduledJobRollouts!) assert.match(r.startTime!, /^\d{4}-\d{2}-\d{2}T03:00$/);
  assert.equal(job!.jobProcessDetails!.numberOfQueuedThings, 0);
  assert.deepEqual(await executionsOf(jobId), []);
});

test('UpdateJob changes only the allowed fields; timeoutConfig only until an execution starts', async () => {
  const [t1, t2] = [await f.thing(), await f.thing()];
  const jobId = await f.createJob({ targets: [t1.arn, t2.arn], description: 'before' });
  const before = (await f.describe(jobId)).job!;
  await new Promise((r) => setTimeout(r, 5));
  await f.iot.send(
    new UpdateJobCommand({
      jobId,
      description: 'after',
      presignedUrlConfig: { expiresInSec: 120 },
      jobExecutionsRolloutConfig: { maximumPerMinute: 9 },
      abortConfig: { criteriaList: [{ failureType: 'FAILED', action: 'CANCEL', thresholdPercentage: 50, minNumberOfExecutedThings: 2 }] },
      timeoutConfig: { inProgressTimeoutInMinutes: 5 },
      jobExecutionsRetryConfig: { criteriaList: [{ failureType: 'ALL', numberOfRetries: 2 }] },
    }),
  );
  const job = (await f.describe(jobId)).job!;
  assert.equal(job.description, 'after');
  assert.deepEqual(job.presignedUrlConfig, { expiresInSec: 120 });
  assert.deepEqual(job.jobExecutionsRolloutConfig, { maximumPerMinute: 9 });
  assert.deepEqual(job.timeoutConfig, { inProgressTimeoutInMinutes: 5 });
  assert.deepEqual(job.jobExecutionsRetryConfig, { criteriaList: [{ failureType: 'ALL', numberOfRetries: 2 }] });
  assert.ok(job.lastUpdatedAt! > before.lastUpdatedAt!);
  await expectError(() => f.iot.send(new UpdateJobCommand({ jobId: 'missing-job' })), 'ResourceNotFoundException', 404);
  await expectError(() => f.iot.send(new UpdateJobCommand({ jobId, namespaceId: 'other' })), 'ResourceNotFoundException', 404);
  await expectError(() => f.iot.send(new UpdateJobCommand({ jobId, jobExecutionsRolloutConfig: { maximumPerMinute: 5000 } })), 'InvalidRequestException', 400);

  await f.setExecution(jobId, t1.name, { status: 'IN_PROGRESS', started_at: Date.now() });
  await expectError(
    () => f.iot.send(new UpdateJobCommand({ jobId, timeoutConfig: { inProgressTimeoutInMinutes: 9 } })),
    'InvalidRequestException',
    400,
    /already started/,
  );
  await f.iot.send(new UpdateJobCommand({ jobId, description: 'still editable' }));
});

test('CancelJob cancels QUEUED executions; IN_PROGRESS ones only with force', async () => {
  const [t1, t2, t3] = [await f.thing(), await f.thing(), await f.thing()];
  const jobId = await f.createJob({ targets: [t1.arn, t2.arn, t3.arn] });
  await f.setExecution(jobId, t3.name, { status: 'IN_PROGRESS', started_at: Date.now(), version_number: 2 });
  await expectError(() => f.iot.send(new CancelJobCommand({ jobId, reasonCode: 'lower case' })), 'InvalidRequestException', 400);
  const out = await f.iot.send(new CancelJobCommand({ jobId, reasonCode: 'BAD_BUILD', comment: 'oops' }));
  assert.equal(out.jobId, jobId);
  // The engine cancels the executions after the request: the counters follow.
  let job = await eventually(async () => {
    const j = (await f.describe(jobId)).job!;
    assert.equal(j.jobProcessDetails!.numberOfCanceledThings, 2);
    return j;
  });
  assert.equal(job.status, 'CANCELED');
  assert.equal(job.forceCanceled, false);
  assert.equal(job.reasonCode, 'BAD_BUILD');
  assert.equal(job.comment, 'oops');
  assert.equal(job.jobProcessDetails!.numberOfInProgressThings, 1);
  const rows = await executionsOf(jobId);
  assert.deepEqual(
    rows.map((r) => r.status),
    ['CANCELED', 'CANCELED', 'IN_PROGRESS'],
  );

  // Again with force: the IN_PROGRESS one goes too; the reason stays unless given.
  await f.iot.send(new CancelJobCommand({ jobId, force: true }));
  job = await eventually(async () => {
    const j = (await f.describe(jobId)).job!;
    assert.equal(j.jobProcessDetails!.numberOfCanceledThings, 3);
    return j;
  });
  assert.equal(job.forceCanceled, true);
  assert.equal(job.reasonCode, 'BAD_BUILD');
  assert.equal(job.jobProcessDetails!.numberOfInProgressThings, 0);
  await expectError(() => f.iot.send(new CancelJobCommand({ jobId: 'missing-job' })), 'ResourceNotFoundException', 404);
});

test('a SNAPSHOT job completes once every execution is terminal, and then cannot be canceled', async () => {
  const empty = await f.group();
  const jobId = await f.createJob({ targets: [empty.arn] });
  const job = (await f.describe(jobId)).job!;
  assert.equal(job.status, 'COMPLETED');
  assert.ok(job.completedAt instanceof Date);
  await expectError(() => f.iot.send(new CancelJobCommand({ jobId })), 'InvalidRequestException', 400, /COMPLETED/);
  // A CONTINUOUS job without endTime keeps waiting for new members.
  const continuous = await f.createJob({ targets: [empty.arn], targetSelection: 'CONTINUOUS' });
  assert.equal((await f.describe(continuous)).job!.status, 'IN_PROGRESS');
});

test('DeleteJob: force for active jobs, then gone and the id reusable', async () => {
  const t = await f.thing();
  const jobId = await f.createJob({ targets: [t.arn], tags: [{ Key: 'k', Value: 'v' }] });
  const arn = (await f.describe(jobId)).job!.jobArn!;
  await expectError(() => f.iot.send(new DeleteJobCommand({ jobId })), 'InvalidStateTransitionException', 409, /force/);
  await expectError(() => f.iot.send(new DeleteJobCommand({ jobId, force: true, namespaceId: 'elsewhere' })), 'ResourceNotFoundException', 404);
  await f.iot.send(new DeleteJobCommand({ jobId, force: true }));
  await expectError(() => f.describe(jobId), 'ResourceNotFoundException', 404);
  await expectError(() => f.iot.send(new ListJobExecutionsForJobCommand({ jobId })), 'ResourceNotFoundException', 404);
  await expectError(() => f.iot.send(new ListTagsForResourceCommand({ resourceArn: arn })), 'ResourceNotFoundException', 404);
  await expectError(() => f.iot.send(new DeleteJobCommand({ jobId })), 'ResourceNotFoundException', 404);
  await f.createJob({ jobId, targets: [t.arn] });
  assert.deepEqual((await f.iot.send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags, []);
  await f.iot.send(new CancelJobCommand({ jobId }));
  await f.iot.send(new DeleteJobCommand({ jobId })); // CANCELED: no force needed
});

test('ListJobs filters by status, targetSelection, thing group and namespace, and pages', async () => {
  const t = await f.thing();
  const g = await f.group();
  await f.addToGroup(g.name, t.name);
  const ns = f.uniq('ns');
  const ids = [];
  for (let i = 0; i < 5; i++)
    ids.push(
      await f.createJob({ jobId: `${ns}-${i}`, targets: i % 2 ? [g.arn] : [t.arn], namespaceId: ns, targetSelection: i === 4 ? 'CONTINUOUS' : 'SNAPSHOT' }),
    );
  await f.iot.send(new CancelJobCommand({ jobId: ids[0] }));
  const list = async (input: ListJobsCommandInput) => {
    const out: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await f.iot.send(new ListJobsCommand({ ...input, nextToken }));
      assert.ok(page.jobs!.length <= (input.maxResults ?? 250));
      out.push(...page.jobs!.map((j) => j.jobId!));
      nextToken = page.nextToken;
    } while (nextToken);
    return out;
  };
  assert.deepEqual(await list({ namespaceId: ns, maxResults: 2 }), ids);
  assert.deepEqual(await list({ namespaceId: ns, status: 'CANCELED' }), [ids[0]]);
  assert.deepEqual(await list({ namespaceId: ns, targetSelection: 'CONTINUOUS' }), [ids[4]]);
  assert.deepEqual(await list({ thingGroupName: g.name }), [ids[1], ids[3]]);
  const page = await f.iot.send(new ListJobsCommand({ thingGroupName: g.name }));
  const groupId = page.jobs![0].thingGroupId!;
  assert.ok(groupId);
  assert.deepEqual(await list({ thingGroupId: groupId }), [ids[1], ids[3]]);
  const summary = page.jobs![0];
  assert.equal(summary.status, 'IN_PROGRESS');
  assert.equal(summary.isConcurrent, false);
  assert.ok(summary.createdAt instanceof Date && summary.jobArn!.endsWith(`job/${ids[1]}`));
  await expectError(() => f.iot.send(new ListJobsCommand({ nextToken: 'garbage' })), 'InvalidRequestException', 400);
  await expectError(() => f.iot.send(new ListJobsCommand({ maxResults: 251 })), 'InvalidRequestException', 400);
});

test('AssociateTargetsWithJob adds targets to CONTINUOUS jobs and queues the new things only', async () => {
  const [a, b, c] = [await f.thing(), await f.thing(), await f.thing()];
  const g = await f.group();
  await f.addToGroup(g.name, b.name);
  await f.addToGroup(g.name, a.name);
  const snapshot = await f.createJob({ targets: [a.arn] });
  await expectError(() => f.iot.send(new AssociateTargetsWithJobCommand({ jobId: snapshot, targets: [g.arn] })), 'InvalidRequestException', 400, /CONTINUOUS/);
  const jobId = await f.createJob({ targets: [a.arn], targetSelection: 'CONTINUOUS', description: 'd' });
  const out = await f.iot.send(new AssociateTargetsWithJobCommand({ jobId, targets: [g.arn, c.arn], comment: 'more' }));
  assert.deepEqual([out.jobId, out.description], [jobId, 'd']);
  await f.rolledOut(jobId);
  assert.deepEqual((await executionsOf(jobId)).map((r) => r.thing).sort(), [a.name, b.name, c.name].sort());
  assert.deepEqual((await f.describe(jobId)).job!.targets, [a.arn, g.arn, c.arn]);
  const prefix = a.arn.slice(0, a.arn.indexOf('thing/'));
  await expectError(() => f.iot.send(new AssociateTargetsWithJobCommand({ jobId, targets: [`${prefix}thinggroup/none`] })), 'ResourceNotFoundException', 404);
  const many = Array.from({ length: 98 }, (_, i) => `${prefix}thing/x${i}`);
  await expectError(() => f.iot.send(new AssociateTargetsWithJobCommand({ jobId, targets: many })), 'LimitExceededException', 410);
  await f.iot.send(new CancelJobCommand({ jobId }));
  await expectError(() => f.iot.send(new AssociateTargetsWithJobCommand({ jobId, targets: [c.arn] })), 'InvalidRequestException', 400, /CANCELED/);
});
