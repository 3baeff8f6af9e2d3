// End to end through @aws-sdk/client-iot: static thing groups, their hierarchy and members.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import {
  AddThingToThingGroupCommand,
  CreateThingCommand,
  CreateThingGroupCommand,
  DeleteThingCommand,
  DeleteThingGroupCommand,
  DescribeThingGroupCommand,
  ListTagsForResourceCommand,
  ListThingGroupsCommand,
  ListThingGroupsForThingCommand,
  ListThingsInThingGroupCommand,
  RemoveThingFromThingGroupCommand,
  TagResourceCommand,
  UpdateThingGroupCommand,
  UpdateThingGroupsForThingCommand,
  type IoTClient,
  type ListThingsInThingGroupCommandInput,
} from '@aws-sdk/client-iot';
import { Store } from '../src/store/store.ts';
import { thingGroups } from '../src/store/things.ts';
import { thingGroupNames as groupsListed } from './support/registry.ts';
import { startTestServer, expectError } from './support/server.ts';

const server = await startTestServer();
after(() => server.stop());

async function thingsListed(client: IoTClient, input: ListThingsInThingGroupCommandInput): Promise<{ names: string[]; pages: number }> {
  const names: string[] = [];
  let pages = 0;
  let nextToken: string | undefined;
  do {
    const page = await client.send(new ListThingsInThingGroupCommand({ ...input, nextToken }));
    pages++;
    names.push(...page.things!);
    nextToken = page.nextToken;
  } while (nextToken);
  return { names, pages };
}

/** root ─ mid ─ leaf, plus root2; things r1 (root), m1 m2 (mid), l1 l2 (leaf), o1 (root2). */
async function hierarchy(client: IoTClient) {
  await client.send(new CreateThingGroupCommand({ thingGroupName: 'root' }));
  await client.send(new CreateThingGroupCommand({ thingGroupName: 'mid', parentGroupName: 'root' }));
  await client.send(new CreateThingGroupCommand({ thingGroupName: 'leaf', parentGroupName: 'mid' }));
  await client.send(new CreateThingGroupCommand({ thingGroupName: 'root2' }));
  const members: Record<string, string[]> = { root: ['r1'], mid: ['m2', 'm1'], leaf: ['l2', 'l1'], root2: ['o1'] };
  for (const [group, names] of Object.entries(members)) {
    for (const thingName of names) {
      await client.send(new CreateThingCommand({ thingName }));
      await client.send(new AddThingToThingGroupCommand({ thingGroupName: group, thingName }));
    }
  }
}

test('CreateThingGroup then DescribeThingGroup, with properties, parent, root-to-parent chain and version', async () => {
  const { client, account } = server.freshAccount();
  const root = await client.send(new CreateThingGroupCommand({ thingGroupName: 'fleet', tags: [{ Key: 'team', Value: 'ops' }] }));
  assert.equal(root.thingGroupArn, `arn:aws:iot:us-east-1:${account}:thinggroup/fleet`);
  assert.ok(root.thingGroupId);
  await client.send(new CreateThingGroupCommand({ thingGroupName: 'eu', parentGroupName: 'fleet' }));
  await client.send(
    new CreateThingGroupCommand({
      thingGroupName: 'eu-west',
      parentGroupName: 'eu',
      thingGroupProperties: { thingGroupDescription: 'West Europe', attributePayload: { attributes: { dc: 'dub' } } },
    }),
  );
  const got = await client.send(new DescribeThingGroupCommand({ thingGroupName: 'eu-west' }));
  assert.equal(got.thingGroupName, 'eu-west');
  assert.equal(got.version, 1);
  assert.deepEqual(got.thingGroupProperties, { thingGroupDescription: 'West Europe', attributePayload: { attributes: { dc: 'dub' } } });
  assert.equal(got.thingGroupMetadata!.parentGroupName, 'eu');
  assert.deepEqual(got.thingGroupMetadata!.rootToParentThingGroups, [
    { groupName: 'fleet', groupArn: `arn:aws:iot:us-east-1:${account}:thinggroup/fleet` },
    { groupName: 'eu', groupArn: `arn:aws:iot:us-east-1:${account}:thinggroup/eu` },
  ]);
  assert.ok(got.thingGroupMetadata!.creationDate instanceof Date);
  const rootGot = await client.send(new DescribeThingGroupCommand({ thingGroupName: 'fleet' }));
  assert.equal(rootGot.thingGroupId, root.thingGroupId);
  assert.equal(rootGot.thingGroupMetadata!.parentGroupName, undefined);
  assert.deepEqual((await client.send(new ListTagsForResourceCommand({ resourceArn: root.thingGroupArn }))).tags, [{ Key: 'team', Value: 'ops' }]);
  await client.send(new TagResourceCommand({ resourceArn: root.thingGroupArn, tags: [{ Key: 'env', Value: 'prod' }] }));
  assert.equal((await client.send(new ListTagsForResourceCommand({ resourceArn: root.thingGroupArn }))).tags!.length, 2);
  await expectError(() => client.send(new DescribeThingGroupCommand({ thingGroupName: 'nope' })), 'ResourceNotFoundException', 404);
});

test('CreateThingGroup is idempotent for the same configuration; otherwise ResourceAlreadyExists with resourceId and resourceArn', async () => {
  const { client } = server.freshAccount();
  const first = await client.send(new CreateThingGroupCommand({ thingGroupName: 'g', thingGroupProperties: { thingGroupDescription: 'd' } }));
  const again = await client.send(new CreateThingGroupCommand({ thingGroupName: 'g', thingGroupProperties: { thingGroupDescription: 'd' } }));
  assert.equal(again.thingGroupId, first.thingGroupId);
  const err = await expectError(
    () => client.send(new CreateThingGroupCommand({ thingGroupName: 'g', thingGroupProperties: { thingGroupDescription: 'other' } })),
    'ResourceAlreadyExistsException',
    409,
  );
  assert.equal(err.body.resourceId, first.thingGroupId);
  assert.equal(err.body.resourceArn, first.thingGroupArn);
  await client.send(new CreateThingGroupCommand({ thingGroupName: 'p' }));
  await expectError(
    () => client.send(new CreateThingGroupCommand({ thingGroupName: 'g', parentGroupName: 'p', thingGroupProperties: { thingGroupDescription: 'd' } })),
    'ResourceAlreadyExistsException',
    409,
  );
});

test('CreateThingGroup with a missing parent is InvalidRequest; a hierarchy is at most 7 levels deep', async () => {
  const { client } = server.freshAccount();
  await expectError(() => client.send(new CreateThingGroupCommand({ thingGroupName: 'orphan', parentGroupName: 'none' })), 'InvalidRequestException', 400);
  await client.send(new CreateThingGroupCommand({ thingGroupName: 'l1' }));
  for (let i = 2; i <= 7; i++) await client.send(new CreateThingGroupCommand({ thingGroupName: `l${i}`, parentGroupName: `l${i - 1}` }));
  await expectError(
    () => client.send(new CreateThingGroupCommand({ thingGroupName: 'l8', parentGroupName: 'l7' })),
    'InvalidRequestException',
    400,
    /7 levels/,
  );
  assert.equal((await client.send(new DescribeThingGroupCommand({ thingGroupName: 'l7' }))).thingGroupMetadata!.rootToParentThingGroups!.length, 6);
});

test('UpdateThingGroup merges or replaces attributes, returns the new version, and refuses a stale expectedVersion', async () => {
  const { client } = server.freshAccount();
  await client.send(new CreateThingGroupCommand({ thingGroupName: 'g', thingGroupProperties: { attributePayload: { attributes: { a: '1', b: '2' } } } }));
  const v2 = await client.send(
    new UpdateThingGroupCommand({ thingGroupName: 'g', thingGroupProperties: { attributePayload: { attributes: { b: '', c: '3' }, merge: true } } }),
  );
  assert.equal(v2.version, 2);
  let got = await client.send(new DescribeThingGroupCommand({ thingGroupName: 'g' }));
  assert.deepEqual(got.thingGroupProperties!.attributePayload!.attributes, { a: '1', c: '3' });
  const v3 = await client.send(
    new UpdateThingGroupCommand({
      thingGroupName: 'g',
      expectedVersion: 2,
      thingGroupProperties: { thingGroupDescription: 'now', attributePayload: { attributes: { z: '0' } } },
    }),
  );
  assert.equal(v3.version, 3);
  got = await client.send(new DescribeThingGroupCommand({ thingGroupName: 'g' }));
  assert.deepEqual(got.thingGroupProperties, { thingGroupDescription: 'now', attributePayload: { attributes: { z: '0' } } });
  assert.equal(got.version, 3);
  await expectError(
    () => client.send(new UpdateThingGroupCommand({ thingGroupName: 'g', expectedVersion: 1, thingGroupProperties: {} })),
    'VersionConflictException',
    409,
  );
  await expectError(() => client.send(new UpdateThingGroupCommand({ thingGroupName: 'none', thingGroupProperties: {} })), 'ResourceNotFoundException', 404);
});

test('DeleteThingGroup: refused while it has child groups, VersionConflict on a stale version, missing succeeds', async () => {
  const { client } = server.freshAccount();
  await hierarchy(client);
  await expectError(() => client.send(new DeleteThingGroupCommand({ thingGroupName: 'root' })), 'InvalidRequestException', 400, /child groups/);
  await expectError(() => client.send(new DeleteThingGroupCommand({ thingGroupName: 'leaf', expectedVersion: 9 })), 'VersionConflictException', 409);
  await client.send(new DeleteThingGroupCommand({ thingGroupName: 'leaf', expectedVersion: 1 }));
  await expectError(() => client.send(new DescribeThingGroupCommand({ thingGroupName: 'leaf' })), 'ResourceNotFoundException', 404);
  // Its things stay, no longer in the group.
  assert.deepEqual((await client.send(new ListThingGroupsForThingCommand({ thingName: 'l1' }))).thingGroups, []);
  await client.send(new DeleteThingGroupCommand({ thingGroupName: 'leaf' }));
  await client.send(new DeleteThingGroupCommand({ thingGroupName: 'mid' }));
  await client.send(new DeleteThingGroupCommand({ thingGroupName: 'root' }));
  assert.deepEqual(await groupsListed(client), ['root2']);
});

test('ListThingGroups: all, roots only, children, descendants, name prefix, pagination', async () => {
  const { client } = server.freshAccount();
  await hierarchy(client);
  assert.deepEqual(await groupsListed(client), ['leaf', 'mid', 'root', 'root2']);
  assert.deepEqual(await groupsListed(client, { recursive: false }), ['root', 'root2']);
  assert.deepEqual(await groupsListed(client, { parentGroup: 'root', recursive: false }), ['mid']);
  assert.deepEqual(await groupsListed(client, { parentGroup: 'root', recursive: true }), ['leaf', 'mid']);
  assert.deepEqual(await groupsListed(client, { namePrefixFilter: 'root' }), ['root', 'root2']);
  assert.deepEqual(await groupsListed(client, { namePrefixFilter: 'ROOT' }), []);
  assert.deepEqual(await groupsListed(client, { maxResults: 1 }), ['leaf', 'mid', 'root', 'root2']);
  const page = await client.send(new ListThingGroupsCommand({ maxResults: 3 }));
  assert.equal(page.thingGroups!.length, 3);
  assert.ok(page.nextToken);
  assert.ok(page.thingGroups![0].groupArn!.endsWith(':thinggroup/leaf'));
  await expectError(() => client.send(new ListThingGroupsCommand({ parentGroup: 'none' })), 'ResourceNotFoundException', 404);
});

test('ListThingsInThingGroup lists direct members, or every member of a 3-level hierarchy when recursive, with pages', async () => {
  const { client, account } = server.freshAccount();
  await hierarchy(client);
  assert.deepEqual((await thingsListed(client, { thingGroupName: 'root' })).names, ['r1']);
  assert.deepEqual((await thingsListed(client, { thingGroupName: 'root', recursive: true })).names, ['l1', 'l2', 'm1', 'm2', 'r1']);
  assert.deepEqual((await thingsListed(client, { thingGroupName: 'mid', recursive: true })).names, ['l1', 'l2', 'm1', 'm2']);
  const paged = await thingsListed(client, { thingGroupName: 'root', recursive: true, maxResults: 2 });
  assert.deepEqual(paged.names, ['l1', 'l2', 'm1', 'm2', 'r1']);
  assert.equal(paged.pages, 3);
  await expectError(() => client.send(new ListThingsInThingGroupCommand({ thingGroupName: 'none' })), 'ResourceNotFoundException', 404);
  // The repository the jobs service uses agrees.
  const scope = { account, region: 'us-east-1' };
  const store = await Store.open(server.database);
  try {
    assert.deepEqual(await thingGroups.thingsInGroup(store.db, scope, 'root', true), ['l1', 'l2', 'm1', 'm2', 'r1']);
    assert.deepEqual(await thingGroups.thingsInGroup(store.db, scope, 'leaf', false), ['l1', 'l2']);
    assert.equal((await thingGroups.get(store.db, scope, 'mid'))?.parent_name, 'root');
  } finally {
    await store.close();
  }
});

test('AddThingToThingGroup / RemoveThingFromThingGroup by name or ARN, idempotent, with ResourceNotFound for missing ones', async () => {
  const { client, account } = server.freshAccount();
  await client.send(new CreateThingGroupCommand({ thingGroupName: 'a' }));
  const { thingArn } = await client.send(new CreateThingCommand({ thingName: 't' }));
  const groupArn = `arn:aws:iot:us-east-1:${account}:thinggroup/a`;
  await client.send(new AddThingToThingGroupCommand({ thingGroupArn: groupArn, thingArn }));
  await client.send(new AddThingToThingGroupCommand({ thingGroupName: 'a', thingName: 't' }));
  assert.deepEqual((await client.send(new ListThingGroupsForThingCommand({ thingName: 't' }))).thingGroups, [{ groupName: 'a', groupArn }]);
  await expectError(() => client.send(new AddThingToThingGroupCommand({ thingGroupName: 'none', thingName: 't' })), 'ResourceNotFoundException', 404);
  await expectError(() => client.send(new AddThingToThingGroupCommand({ thingGroupName: 'a', thingName: 'none' })), 'ResourceNotFoundException', 404);
  await expectError(() => client.send(new AddThingToThingGroupCommand({ thingGroupName: 'a' })), 'InvalidRequestException', 400);
  await expectError(
    () => client.send(new AddThingToThingGroupCommand({ thingGroupName: 'b', thingGroupArn: groupArn, thingName: 't' })),
    'InvalidRequestException',
    400,
  );
  await client.send(new RemoveThingFromThingGroupCommand({ thingGroupName: 'a', thingArn }));
  await client.send(new RemoveThingFromThingGroupCommand({ thingGroupName: 'a', thingName: 't' }));
  assert.deepEqual((await client.send(new ListThingsInThingGroupCommand({ thingGroupName: 'a' }))).things, []);
  await expectError(() => client.send(new RemoveThingFromThingGroupCommand({ thingGroupName: 'none', thingName: 't' })), 'ResourceNotFoundException', 404);
  await expectError(() => client.send(new RemoveThingFromThingGroupCommand({ thingGroupName: 'a', thingName: 'none' })), 'ResourceNotFoundException', 404);
});

test('a thing is in at most 10 groups and in at most one group of a hierarchy', async () => {
  const { client } = server.freshAccount();
  await client.send(new CreateThingCommand({ thingName: 't' }));
  for (let i = 0; i < 11; i++) await client.send(new CreateThingGroupCommand({ thingGroupName: `g${String(i).padStart(2, '0')}` }));
  for (let i = 0; i < 10; i++) await client.send(new AddThingToThingGroupCommand({ thingGroupName: `g${String(i).padStart(2, '0')}`, thingName: 't' }));
  await expectError(
    () => client.send(new AddThingToThingGroupCommand({ thingGroupName: 'g10', thingName: 't' })),
    'InvalidRequestException',
    400,
    /at most 10/,
  );
  const groups = await client.send(new ListThingGroupsForThingCommand({ thingName: 't', maxResults: 4 }));
  assert.deepEqual(
    groups.thingGroups!.map((g) => g.groupName),
    ['g00', 'g01', 'g02', 'g03'],
  );
  const more = await client.send(new ListThingGroupsForThingCommand({ thingName: 't', maxResults: 4, nextToken: groups.nextToken }));
  assert.deepEqual(
    more.thingGroups!.map((g) => g.groupName),
    ['g04', 'g05', 'g06', 'g07'],
  );

  await client.send(new CreateThingCommand({ thingName: 'u' }));
  await client.send(new CreateThingGroupCommand({ thingGroupName: 'child', parentGroupName: 'g00' }));
  await client.send(new AddThingToThingGroupCommand({ thingGroupName: 'child', thingName: 'u' }));
  await expectError(
    () => client.send(new AddThingToThingGroupCommand({ thingGroupName: 'g00', thingName: 'u' })),
    'InvalidRequestException',
    400,
    /same hierarchy/,
  );
  await expectError(() => client.send(new ListThingGroupsForThingCommand({ thingName: 'none' })), 'ResourceNotFoundException', 404);
});

test('UpdateThingGroupsForThing adds and removes groups in one call; a missing group changes nothing', async () => {
  const { client } = server.freshAccount();
  await client.send(new CreateThingCommand({ thingName: 't' }));
  for (const g of ['a', 'b', 'c']) await client.send(new CreateThingGroupCommand({ thingGroupName: g }));
  await client.send(new UpdateThingGroupsForThingCommand({ thingName: 't', thingGroupsToAdd: ['a', 'b'] }));
  await client.send(new UpdateThingGroupsForThingCommand({ thingName: 't', thingGroupsToAdd: ['c'], thingGroupsToRemove: ['a'] }));
  const names = async () => (await client.send(new ListThingGroupsForThingCommand({ thingName: 't' }))).thingGroups!.map((g) => g.groupName);
  assert.deepEqual(await names(), ['b', 'c']);
  await expectError(
    () => client.send(new UpdateThingGroupsForThingCommand({ thingName: 't', thingGroupsToAdd: ['none'], thingGroupsToRemove: ['b'] })),
    'ResourceNotFoundException',
    404,
  );
  assert.deepEqual(await names(), ['b', 'c']);
  await expectError(() => client.send(new UpdateThingGroupsForThingCommand({ thingName: 'none', thingGroupsToAdd: ['a'] })), 'ResourceNotFoundException', 404);
});

test('DeleteThing removes the thing from its groups', async () => {
  const { client } = server.freshAccount();
  await hierarchy(client);
  await client.send(new DeleteThingCommand({ thingName: 'm1' }));
  assert.deepEqual((await thingsListed(client, { thingGroupName: 'mid' })).names, ['m2']);
  await client.send(new CreateThingCommand({ thingName: 'm1' }));
  assert.deepEqual((await client.send(new ListThingGroupsForThingCommand({ thingName: 'm1' }))).thingGroups, []);
});

test('thing groups are isolated by account: neither names nor ARNs reach another account', async () => {
  const a = server.freshAccount();
  const b = server.freshAccount();
  await a.client.send(new CreateThingGroupCommand({ thingGroupName: 'g' }));
  await a.client.send(new CreateThingCommand({ thingName: 't' }));
  await expectError(() => b.client.send(new DescribeThingGroupCommand({ thingGroupName: 'g' })), 'ResourceNotFoundException', 404);
  assert.deepEqual(await groupsListed(b.client), []);
  await b.client.send(new CreateThingCommand({ thingName: 't' }));
  const foreignGroup = `arn:aws:iot:us-east-1:${a.account}:thinggroup/g`;
  await expectError(() => b.client.send(new AddThingToThingGroupCommand({ thingGroupArn: foreignGroup, thingName: 't' })), 'ResourceNotFoundException', 404);
  await expectError(
    () => b.client.send(new TagResourceCommand({ resourceArn: foreignGroup, tags: [{ Key: 'k', Value: 'v' }] })),
    'ResourceNotFoundException',
    404,
  );
  await b.client.send(new CreateThingGroupCommand({ thingGroupName: 'g', thingGroupProperties: { thingGroupDescription: 'b' } }));
  await b.client.send(new AddThingToThingGroupCommand({ thingGroupName: 'g', thingName: 't' }));
  assert.deepEqual((await a.client.send(new ListThingsInThingGroupCommand({ thingGroupName: 'g' }))).things, []);
  assert.deepEqual((await b.client.send(new ListThingsInThingGroupCommand({ thingGroupName: 'g' }))).things, ['t']);
});

test('concurrent additions cannot take a thing past 10 groups, nor into a group being deleted', async () => {
  const { client } = server.freshAccount();
  await client.send(new CreateThingCommand({ thingName: 't' }));
  const names = Array.from({ length: 12 }, (_, i) => `c${String(i).padStart(2, '0')}`);
  for (const thingGroupName of names) await client.send(new CreateThingGroupCommand({ thingGroupName }));
  const results = await Promise.allSettled(names.map((thingGroupName) => client.send(new AddThingToThingGroupCommand({ thingGroupName, thingName: 't' }))));
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 10);
  assert.equal((await client.send(new ListThingGroupsForThingCommand({ thingName: 't' }))).thingGroups!.length, 10);

  await client.send(new CreateThingCommand({ thingName: 'v' }));
  await client.send(new CreateThingGroupCommand({ thingGroupName: 'doomed' }));
  await Promise.allSettled([
    client.send(new AddThingToThingGroupCommand({ thingGroupName: 'doomed', thingName: 'v' })),
    client.send(new DeleteThingGroupCommand({ thingGroupName: 'doomed' })),
  ]);
  await expectError(() => client.send(new DescribeThingGroupCommand({ thingGroupName: 'doomed' })), 'ResourceNotFoundException', 404);
  assert.deepEqual((await client.send(new ListThingGroupsForThingCommand({ thingName: 'v' }))).thingGroups, []);
});
