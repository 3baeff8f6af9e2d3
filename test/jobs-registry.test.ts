// Jobs following the thing registry: CONTINUOUS jobs queue things that join a targeted group (nested included),
// mark those that leave REMOVED, and a deleted thing's executions disappear (a SNAPSHOT job may then complete).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DeleteThingCommand, DescribeJobExecutionCommand, ListJobExecutionsForJobCommand, RemoveThingFromThingGroupCommand } from '@aws-sdk/client-iot';
import { expectError, jobsFixture, type JobsFixture } from './support/jobs.ts';
import { eventually } from './support/server.ts';

let f: JobsFixture;
before(async () => {
  f = await jobsFixture();
});
after(() => f.stop());

const statuses = async (jobId: string) =>
  Object.fromEntries(
    (await f.iot.send(new ListJobExecutionsForJobCommand({ jobId }))).executionSummaries!.map((s) => [
      `${s.thingArn!.split('/').pop()}#${s.jobExecutionSummary!.executionNumber}`,
      s.jobExecutionSummary!.status,
    ]),
  );

test('CONTINUOUS jobs queue things joining a targeted group or its subgroups; leavers are REMOVED and may come back', async () => {
  const root = await f.group();
  const sub = await f.group(undefined, root.name);
  const [a, b] = [await f.thing(), await f.thing()];
  const continuous = await f.createJob({ targets: [root.arn], targetSelection: 'CONTINUOUS' });
  const snapshot = await f.createJob({ targets: [root.arn] });
  assert.deepEqual(await statuses(continuous), {});

  await f.addToGroup(sub.name, a.name);
  await f.addToGroup(root.name, b.name);
  // CONTINUOUS jobs follow the registry after the membership change commits (an effect).
  await eventually(async () => assert.deepEqual(await statuses(continuous), { [`${a.name}#1`]: 'QUEUED', [`${b.name}#1`]: 'QUEUED' }));
  assert.deepEqual(await statuses(snapshot), {}); // a SNAPSHOT job keeps the things it had
  assert.equal((await f.describe(continuous)).job!.jobProcessDetails!.numberOfQueuedThings, 2);

  await f.iot.send(new RemoveThingFromThingGroupCommand({ thingGroupName: sub.name, thingName: a.name }));
  await eventually(async () => assert.equal((await statuses(continuous))[`${a.name}#1`], 'REMOVED'));
  assert.equal((await f.describe(continuous)).job!.jobProcessDetails!.numberOfRemovedThings, 1);
  await f.addToGroup(sub.name, a.name);
  await eventually(async () =>
    assert.deepEqual(await statuses(continuous), { [`${a.name}#1`]: 'REMOVED', [`${a.name}#2`]: 'QUEUED', [`${b.name}#1`]: 'QUEUED' }),
  );

  // A thing that is also a direct target stays queued when it leaves the group.
  const direct = await f.createJob({ targets: [root.arn, b.arn], targetSelection: 'CONTINUOUS' });
  await f.addToGroup(root.name, (await f.thing()).name);
  await f.iot.send(new RemoveThingFromThingGroupCommand({ thingGroupName: root.name, thingName: b.name }));
  await eventually(async () => assert.equal((await statuses(continuous))[`${b.name}#1`], 'REMOVED'));
  assert.equal((await statuses(direct))[`${b.name}#1`], 'QUEUED');
});

test('deleting a thing deletes its executions; a SNAPSHOT job left with only terminal ones completes', async () => {
  const [a, b] = [await f.thing(), await f.thing()];
  const jobId = await f.createJob({ targets: [a.arn, b.arn] });
  await f.iot.send(new DeleteThingCommand({ thingName: a.name }));
  await expectError(() => f.iot.send(new DescribeJobExecutionCommand({ jobId, thingName: a.name })), 'ResourceNotFoundException', 404);
  assert.equal((await f.describe(jobId)).job!.status, 'IN_PROGRESS');
  await f.iot.send(new DeleteThingCommand({ thingName: b.name }));
  const job = await eventually(async () => {
    const j = (await f.describe(jobId)).job!;
    assert.equal(j.status, 'COMPLETED');
    return j;
  });
  assert.equal(job.jobProcessDetails!.numberOfQueuedThings, 0);
});
