// End to end through @aws-sdk/client-iot: billing groups, their members, and billingGroupName on things.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import {
  AddThingToBillingGroupCommand,
  CreateBillingGroupCommand,
  CreateThingCommand,
  DeleteBillingGroupCommand,
  DeleteThingCommand,
  DescribeBillingGroupCommand,
  DescribeThingCommand,
  ListBillingGroupsCommand,
  ListTagsForResourceCommand,
  ListThingsInBillingGroupCommand,
  RemoveThingFromBillingGroupCommand,
  UpdateBillingGroupCommand,
  type IoTClient,
} from '@aws-sdk/client-iot';
import { startTestServer, expectError } from './support/server.ts';

const server = await startTestServer();
after(() => server.stop());

const members = async (client: IoTClient, billingGroupName: string) => (await client.send(new ListThingsInBillingGroupCommand({ billingGroupName }))).things;
const groupOf = async (client: IoTClient, thingName: string) => (await client.send(new DescribeThingCommand({ thingName }))).billingGroupName;

test('CreateBillingGroup, DescribeBillingGroup, tags, and idempotent re-create', async () => {
  const { client, account } = server.freshAccount();
  const created = await client.send(
    new CreateBillingGroupCommand({
      billingGroupName: 'lab',
      billingGroupProperties: { billingGroupDescription: 'Lab devices' },
      tags: [{ Key: 'cost', Value: 'r&d' }],
    }),
  );
  assert.equal(created.billingGroupName, 'lab');
  assert.equal(created.billingGroupArn, `arn:aws:iot:us-east-1:${account}:billinggroup/lab`);
  assert.ok(created.billingGroupId);
  const got = await client.send(new DescribeBillingGroupCommand({ billingGroupName: 'lab' }));
  assert.equal(got.billingGroupId, created.billingGroupId);
  assert.equal(got.billingGroupArn, created.billingGroupArn);
  assert.equal(got.version, 1);
  assert.deepEqual(got.billingGroupProperties, { billingGroupDescription: 'Lab devices' });
  assert.ok(got.billingGroupMetadata!.creationDate instanceof Date);
  assert.deepEqual((await client.send(new ListTagsForResourceCommand({ resourceArn: created.billingGroupArn }))).tags, [{ Key: 'cost', Value: 'r&d' }]);

  const again = await client.send(
    new CreateBillingGroupCommand({ billingGroupName: 'lab', billingGroupProperties: { billingGroupDescription: 'Lab devices' } }),
  );
  assert.equal(again.billingGroupId, created.billingGroupId);
  const err = await expectError(
    () => client.send(new CreateBillingGroupCommand({ billingGroupName: 'lab', billingGroupProperties: { billingGroupDescription: 'other' } })),
    'ResourceAlreadyExistsException',
    409,
    /^Billing Group lab already exists in current account with different properties$/,
  );
  assert.equal(err.body.resourceId, created.billingGroupId);
  assert.equal(err.body.resourceArn, created.billingGroupArn);
  // An explicit empty description is the same as none.
  const plain = await client.send(new CreateBillingGroupCommand({ billingGroupName: 'plain' }));
  assert.equal(
    (await client.send(new CreateBillingGroupCommand({ billingGroupName: 'plain', billingGroupProperties: { billingGroupDescription: '' } }))).billingGroupId,
    plain.billingGroupId,
  );
  assert.equal(
    (await client.send(new CreateBillingGroupCommand({ billingGroupName: 'plain', billingGroupProperties: {} }))).billingGroupId,
    plain.billingGroupId,
  );

  await expectError(() => client.send(new DescribeBillingGroupCommand({ billingGroupName: 'nope' })), 'ResourceNotFoundException', 404);
  await expectError(() => client.send(new CreateBillingGroupCommand({ billingGroupName: 'bad name' })), 'InvalidRequestException', 400);
  // Another account sees nothing of it.
  await expectError(() => server.freshAccount().client.send(new DescribeBillingGroupCommand({ billingGroupName: 'lab' })), 'ResourceNotFoundException', 404);
});

test('UpdateBillingGroup bumps the version and honours expectedVersion; DeleteBillingGroup too', async () => {
  const { client } = server.freshAccount();
  const { billingGroupArn } = await client.send(
    new CreateBillingGroupCommand({ billingGroupName: 'g', billingGroupProperties: { billingGroupDescription: 'one' }, tags: [{ Key: 'k', Value: 'v' }] }),
  );
  assert.equal(
    (await client.send(new UpdateBillingGroupCommand({ billingGroupName: 'g', billingGroupProperties: { billingGroupDescription: 'two' } }))).version,
    2,
  );
  assert.equal((await client.send(new UpdateBillingGroupCommand({ billingGroupName: 'g', billingGroupProperties: {}, expectedVersion: 2 }))).version, 3);
  let got = await client.send(new DescribeBillingGroupCommand({ billingGroupName: 'g' }));
  assert.deepEqual([got.version, got.billingGroupProperties?.billingGroupDescription], [3, 'two']);
  await expectError(
    () => client.send(new UpdateBillingGroupCommand({ billingGroupName: 'g', billingGroupProperties: { billingGroupDescription: 'x' }, expectedVersion: 1 })),
    'VersionConflictException',
    409,
    /version 3/,
  );
  await client.send(new UpdateBillingGroupCommand({ billingGroupName: 'g', billingGroupProperties: { billingGroupDescription: '' } }));
  got = await client.send(new DescribeBillingGroupCommand({ billingGroupName: 'g' }));
  assert.deepEqual([got.version, got.billingGroupProperties?.billingGroupDescription], [4, undefined]);
  await expectError(
    () => client.send(new UpdateBillingGroupCommand({ billingGroupName: 'nope', billingGroupProperties: {} })),
    'ResourceNotFoundException',
    404,
  );

  await expectError(() => client.send(new DeleteBillingGroupCommand({ billingGroupName: 'g', expectedVersion: 2 })), 'VersionConflictException', 409);
  await client.send(new DeleteBillingGroupCommand({ billingGroupName: 'g', expectedVersion: 4 }));
  await expectError(() => client.send(new DescribeBillingGroupCommand({ billingGroupName: 'g' })), 'ResourceNotFoundException', 404);
  await expectError(() => client.send(new ListTagsForResourceCommand({ resourceArn: billingGroupArn })), 'ResourceNotFoundException', 404);
  await client.send(new DeleteBillingGroupCommand({ billingGroupName: 'g' })); // gone already: still succeeds
  // The name is free again, with a new id and a fresh version.
  const reborn = await client.send(new CreateBillingGroupCommand({ billingGroupName: 'g' }));
  assert.equal((await client.send(new DescribeBillingGroupCommand({ billingGroupName: 'g' }))).version, 1);
  assert.notEqual(reborn.billingGroupId, got.billingGroupId);
});

test('ListBillingGroups: name order, namePrefixFilter, pages', async () => {
  const { client, account } = server.freshAccount();
  for (const name of ['beta', 'alpha-2', 'alpha-1', 'gamma', 'Alpha']) await client.send(new CreateBillingGroupCommand({ billingGroupName: name }));
  const names: string[] = [];
  let nextToken: string | undefined;
  let pages = 0;
  do {
    const page = await client.send(new ListBillingGroupsCommand({ maxResults: 2, nextToken }));
    pages++;
    names.push(...page.billingGroups!.map((g) => g.groupName!));
    nextToken = page.nextToken;
  } while (nextToken);
  assert.deepEqual(names, ['Alpha', 'alpha-1', 'alpha-2', 'beta', 'gamma']);
  assert.equal(pages, 3);
  const filtered = await client.send(new ListBillingGroupsCommand({ namePrefixFilter: 'alpha' }));
  assert.deepEqual(filtered.billingGroups, [
    { groupName: 'alpha-1', groupArn: `arn:aws:iot:us-east-1:${account}:billinggroup/alpha-1` },
    { groupName: 'alpha-2', groupArn: `arn:aws:iot:us-east-1:${account}:billinggroup/alpha-2` },
  ]);
  assert.equal(filtered.nextToken, undefined);
  const first = await client.send(new ListBillingGroupsCommand({ maxResults: 1 }));
  await expectError(() => client.send(new ListBillingGroupsCommand({ namePrefixFilter: 'alpha', nextToken: first.nextToken })), 'InvalidRequestException', 400);
});

test('members: add by name or ARN, a thing is in one billing group (adding moves it), remove, list with pages', async () => {
  const { client, account } = server.freshAccount();
  const a = await client.send(new CreateBillingGroupCommand({ billingGroupName: 'a' }));
  await client.send(new CreateBillingGroupCommand({ billingGroupName: 'b' }));
  const names = ['t3', 't1', 't2'];
  const arns: Record<string, string> = {};
  for (const thingName of names) arns[thingName] = (await client.send(new CreateThingCommand({ thingName }))).thingArn!;
  await client.send(new AddThingToBillingGroupCommand({ billingGroupName: 'a', thingName: 't1' }));
  await client.send(new AddThingToBillingGroupCommand({ billingGroupArn: a.billingGroupArn, thingArn: arns.t2 }));
  await client.send(new AddThingToBillingGroupCommand({ billingGroupName: 'a', thingName: 't3' }));
  await client.send(new AddThingToBillingGroupCommand({ billingGroupName: 'a', thingName: 't3' })); // again: no change
  assert.deepEqual(await members(client, 'a'), ['t1', 't2', 't3']);
  assert.equal(await groupOf(client, 't2'), 'a');

  const page1 = await client.send(new ListThingsInBillingGroupCommand({ billingGroupName: 'a', maxResults: 2 }));
  assert.deepEqual(page1.things, ['t1', 't2']);
  const page2 = await client.send(new ListThingsInBillingGroupCommand({ billingGroupName: 'a', maxResults: 2, nextToken: page1.nextToken }));
  assert.deepEqual([page2.things, page2.nextToken], [['t3'], undefined]);

  // Adding to another billing group moves the thing.
  await client.send(new AddThingToBillingGroupCommand({ billingGroupName: 'b', thingName: 't3' }));
  assert.deepEqual(await members(client, 'a'), ['t1', 't2']);
  assert.deepEqual(await members(client, 'b'), ['t3']);
  assert.equal(await groupOf(client, 't3'), 'b');

  await client.send(new RemoveThingFromBillingGroupCommand({ billingGroupName: 'a', thingName: 't1' }));
  await client.send(new RemoveThingFromBillingGroupCommand({ billingGroupArn: a.billingGroupArn, thingArn: arns.t2 }));
  await client.send(new RemoveThingFromBillingGroupCommand({ billingGroupName: 'a', thingName: 't3' })); // not a member of a: nothing happens
  assert.deepEqual(await members(client, 'a'), []);
  assert.deepEqual(await members(client, 'b'), ['t3']);
  assert.equal(await groupOf(client, 't1'), undefined);

  await expectError(() => client.send(new AddThingToBillingGroupCommand({ billingGroupName: 'nope', thingName: 't1' })), 'ResourceNotFoundException', 404);
  await expectError(() => client.send(new AddThingToBillingGroupCommand({ billingGroupName: 'a', thingName: 'nope' })), 'ResourceNotFoundException', 404);
  await expectError(() => client.send(new AddThingToBillingGroupCommand({ thingName: 't1' })), 'InvalidRequestException', 400, /billing group/);
  await expectError(
    () => client.send(new AddThingToBillingGroupCommand({ billingGroupArn: arns.t1, thingName: 't1' })),
    'InvalidRequestException',
    400,
    /not a billing group ARN/,
  );
  await expectError(
    () =>
      client.send(
        new AddThingToBillingGroupCommand({ billingGroupArn: `arn:aws:iot:us-east-1:${account}:billinggroup/a`, billingGroupName: 'b', thingName: 't1' }),
      ),
    'InvalidRequestException',
    400,
  );
  await expectError(
    () => client.send(new AddThingToBillingGroupCommand({ billingGroupArn: 'arn:aws:iot:us-east-1:999999999999:billinggroup/a', thingName: 't1' })),
    'ResourceNotFoundException',
    404,
  );
  await expectError(() => client.send(new RemoveThingFromBillingGroupCommand({ billingGroupName: 'nope', thingName: 't1' })), 'ResourceNotFoundException', 404);
  await expectError(() => client.send(new ListThingsInBillingGroupCommand({ billingGroupName: 'nope' })), 'ResourceNotFoundException', 404);
});

test('billingGroupName on CreateThing and DescribeThing; deletes of things and groups drop memberships', async () => {
  const { client } = server.freshAccount();
  await client.send(new CreateBillingGroupCommand({ billingGroupName: 'fleet' }));
  const t = await client.send(new CreateThingCommand({ thingName: 'dev', billingGroupName: 'fleet' }));
  assert.equal(await groupOf(client, 'dev'), 'fleet');
  assert.deepEqual(await members(client, 'fleet'), ['dev']);
  // Same configuration: the same thing; another billing group: a different configuration.
  assert.equal((await client.send(new CreateThingCommand({ thingName: 'dev', billingGroupName: 'fleet' }))).thingId, t.thingId);
  await expectError(
    () => client.send(new CreateThingCommand({ thingName: 'dev' })),
    'ResourceAlreadyExistsException',
    409,
    /^Thing dev already exists in account with different attributes$/,
  );
  await expectError(() => client.send(new CreateThingCommand({ thingName: 'other', billingGroupName: 'nope' })), 'ResourceNotFoundException', 404, /nope/);
  await expectError(() => client.send(new DescribeThingCommand({ thingName: 'other' })), 'ResourceNotFoundException', 404);
  assert.equal(await groupOf(client, (await client.send(new CreateThingCommand({ thingName: 'loose' }))).thingName!), undefined);

  // Deleting the thing takes it out of the group; a thing created again under that name is in no group.
  await client.send(new DeleteThingCommand({ thingName: 'dev' }));
  assert.deepEqual(await members(client, 'fleet'), []);
  await client.send(new CreateThingCommand({ thingName: 'dev' }));
  assert.equal(await groupOf(client, 'dev'), undefined);

  // A billing group with things can be deleted; its things stay, in no billing group.
  await client.send(new AddThingToBillingGroupCommand({ billingGroupName: 'fleet', thingName: 'dev' }));
  await client.send(new DeleteBillingGroupCommand({ billingGroupName: 'fleet' }));
  assert.equal(await groupOf(client, 'dev'), undefined);
  await client.send(new CreateBillingGroupCommand({ billingGroupName: 'fleet' }));
  assert.deepEqual(await members(client, 'fleet'), []);
});
