// End to end through @aws-sdk/client-iot: registry behaviour third-party suites check against AWS — ListThingGroups'
// `recursive` default, idempotent re-creates with explicitly empty properties, and AWS's wording of conflicts.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import {
  CreateThingCommand,
  CreateThingGroupCommand,
  CreateThingTypeCommand,
  DeleteThingGroupCommand,
  DescribeThingTypeCommand,
  ListThingGroupsCommand,
  type IoTClient,
  type ListThingGroupsCommandInput,
} from '@aws-sdk/client-iot';
import { thingGroupNames } from './support/registry.ts';
import { startTestServer, expectError } from './support/server.ts';

const server = await startTestServer();
after(() => server.stop());

/** Two names a page, so that every listing below crosses pages. */
const groupsListed = (client: IoTClient, input: ListThingGroupsCommandInput = {}) => thingGroupNames(client, { ...input, maxResults: 2 });

test('ListThingGroups: recursive defaults to true, with or without parentGroup; namePrefixFilter narrows either', async () => {
  const client = server.freshAccount().client;
  // a ─ a1 ─ a11 ─ a111, a ─ a2, b
  for (const [name, parent] of [['a'], ['a1', 'a'], ['a11', 'a1'], ['a111', 'a11'], ['a2', 'a'], ['b']]) {
    await client.send(new CreateThingGroupCommand({ thingGroupName: name, parentGroupName: parent }));
  }
  assert.deepEqual(await groupsListed(client), ['a', 'a1', 'a11', 'a111', 'a2', 'b']);
  assert.deepEqual(await groupsListed(client, { recursive: true }), ['a', 'a1', 'a11', 'a111', 'a2', 'b']);
  assert.deepEqual(await groupsListed(client, { recursive: false }), ['a', 'b']);
  // Children at every depth unless recursive=false.
  assert.deepEqual(await groupsListed(client, { parentGroup: 'a' }), ['a1', 'a11', 'a111', 'a2']);
  assert.deepEqual(await groupsListed(client, { parentGroup: 'a', recursive: true }), ['a1', 'a11', 'a111', 'a2']);
  assert.deepEqual(await groupsListed(client, { parentGroup: 'a', recursive: false }), ['a1', 'a2']);
  assert.deepEqual(await groupsListed(client, { parentGroup: 'a1' }), ['a11', 'a111']);
  assert.deepEqual(await groupsListed(client, { parentGroup: 'a111' }), []);
  // The prefix filters whatever the other two select.
  assert.deepEqual(await groupsListed(client, { namePrefixFilter: 'a1' }), ['a1', 'a11', 'a111']);
  assert.deepEqual(await groupsListed(client, { namePrefixFilter: 'a1', recursive: false }), []);
  assert.deepEqual(await groupsListed(client, { namePrefixFilter: 'a11', parentGroup: 'a' }), ['a11', 'a111']);
  assert.deepEqual(await groupsListed(client, { namePrefixFilter: 'a1', parentGroup: 'a', recursive: false }), ['a1']);
  await expectError(() => client.send(new ListThingGroupsCommand({ parentGroup: 'none', recursive: false })), 'ResourceNotFoundException', 404);
  // A token of one listing is refused by another.
  const first = await client.send(new ListThingGroupsCommand({ parentGroup: 'a', maxResults: 1 }));
  await expectError(
    () => client.send(new ListThingGroupsCommand({ parentGroup: 'a', recursive: false, nextToken: first.nextToken })),
    'InvalidRequestException',
    400,
  );
});

test('idempotent re-creates: explicitly empty properties equal absent ones', async () => {
  const client = server.freshAccount().client;
  const type = await client.send(new CreateThingTypeCommand({ thingTypeName: 'sensor' }));
  for (const thingTypeProperties of [{}, { searchableAttributes: [] }, { thingTypeDescription: '' }, { mqtt5Configuration: { propagatingAttributes: [] } }]) {
    const again = await client.send(new CreateThingTypeCommand({ thingTypeName: 'sensor', thingTypeProperties }));
    assert.deepEqual([again.thingTypeId, again.thingTypeArn], [type.thingTypeId, type.thingTypeArn], JSON.stringify(thingTypeProperties));
  }
  // The other way round too, and with keys in another order.
  const typed = await client.send(
    new CreateThingTypeCommand({ thingTypeName: 'lamp', thingTypeProperties: { searchableAttributes: [], thingTypeDescription: 'Lamp' } }),
  );
  const typedAgain = await client.send(new CreateThingTypeCommand({ thingTypeName: 'lamp', thingTypeProperties: { thingTypeDescription: 'Lamp' } }));
  assert.equal(typedAgain.thingTypeId, typed.thingTypeId);
  assert.deepEqual((await client.send(new DescribeThingTypeCommand({ thingTypeName: 'lamp' }))).thingTypeProperties?.thingTypeDescription, 'Lamp');
  await expectError(
    () =>
      client.send(
        new CreateThingTypeCommand({ thingTypeName: 'lamp', thingTypeProperties: { thingTypeDescription: 'Lamp', searchableAttributes: ['serial'] } }),
      ),
    'ResourceAlreadyExistsException',
    409,
  );

  const group = await client.send(new CreateThingGroupCommand({ thingGroupName: 'g' }));
  for (const thingGroupProperties of [{}, { thingGroupDescription: '' }, { attributePayload: {} }, { attributePayload: { attributes: {} } }]) {
    const again = await client.send(new CreateThingGroupCommand({ thingGroupName: 'g', thingGroupProperties }));
    assert.equal(again.thingGroupId, group.thingGroupId, JSON.stringify(thingGroupProperties));
  }

  const thing = await client.send(new CreateThingCommand({ thingName: 't' }));
  for (const attributePayload of [{}, { attributes: {} }, { merge: true }, { attributes: {}, merge: false }]) {
    const again = await client.send(new CreateThingCommand({ thingName: 't', attributePayload }));
    assert.equal(again.thingId, thing.thingId, JSON.stringify(attributePayload));
  }
});

test('conflicts are worded as AWS words them', async () => {
  const client = server.freshAccount().client;
  await client.send(new CreateThingGroupCommand({ thingGroupName: 'g', thingGroupProperties: { thingGroupDescription: 'd' } }));
  await expectError(
    () => client.send(new CreateThingGroupCommand({ thingGroupName: 'g' })),
    'ResourceAlreadyExistsException',
    409,
    /^Thing Group g already exists in current account with different properties$/,
  );
  await client.send(new CreateThingCommand({ thingName: 't', attributePayload: { attributes: { a: '1' } } }));
  await expectError(
    () => client.send(new CreateThingCommand({ thingName: 't', attributePayload: { attributes: { b: '1' } } })),
    'ResourceAlreadyExistsException',
    409,
    /^Thing t already exists in account with different attributes$/,
  );
  await client.send(new CreateThingTypeCommand({ thingTypeName: 'ty', thingTypeProperties: { thingTypeDescription: 'one' } }));
  await expectError(
    () => client.send(new CreateThingTypeCommand({ thingTypeName: 'ty', thingTypeProperties: { thingTypeDescription: 'two' } })),
    'ResourceAlreadyExistsException',
    409,
    /^Thing Type ty already exists in current account with different properties$/,
  );
  await client.send(new CreateThingGroupCommand({ thingGroupName: 'child', parentGroupName: 'g' }));
  await expectError(
    () => client.send(new DeleteThingGroupCommand({ thingGroupName: 'g' })),
    'InvalidRequestException',
    400,
    /^Cannot delete thing group : g when there are still child groups attached to it$/,
  );
});
