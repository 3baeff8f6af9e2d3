// End to end through @aws-sdk/client-iot: things, thing types, the indexing configuration, tags of thing types.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  CreateThingCommand,
  CreateThingTypeCommand,
  DeleteThingCommand,
  DeleteThingTypeCommand,
  DeprecateThingTypeCommand,
  DescribeThingCommand,
  DescribeThingTypeCommand,
  GetIndexingConfigurationCommand,
  ListTagsForResourceCommand,
  ListThingsCommand,
  ListThingTypesCommand,
  TagResourceCommand,
  UpdateIndexingConfigurationCommand,
  UpdateThingCommand,
  type IoTClient,
  type ListThingsCommandInput,
} from '@aws-sdk/client-iot';
import { startTestServer, type TestServer, expectError } from './support/server.ts';

let server: TestServer;
let iot: IoTClient;
before(async () => {
  server = await startTestServer();
  iot = server.iot();
});
after(() => server.stop());

let counter = 0;
const uniq = (label: string) => `${label}-${++counter}`;
let accounts = 0;
const freshAccount = () => server.iot({ accessKeyId: String(320000000000 + ++accounts) });

async function listAll(client: IoTClient, input: ListThingsCommandInput = {}): Promise<{ names: string[]; pages: number }> {
  const names: string[] = [];
  let pages = 0;
  let nextToken: string | undefined;
  do {
    const page = await client.send(new ListThingsCommand({ ...input, nextToken }));
    pages++;
    names.push(...page.things!.map((t) => t.thingName!));
    nextToken = page.nextToken;
  } while (nextToken);
  return { names, pages };
}

test('CreateThing then DescribeThing returns the thing with its ARN, id, default client id and version 1', async () => {
  const name = uniq('thing');
  const created = await iot.send(new CreateThingCommand({ thingName: name, attributePayload: { attributes: { serial: 'A-1', model: 'x' } } }));
  assert.equal(created.thingName, name);
  assert.equal(created.thingArn, `arn:aws:iot:us-east-1:000000000000:thing/${name}`);
  assert.match(created.thingId!, /^[0-9a-f-]{36}$/);
  const got = await iot.send(new DescribeThingCommand({ thingName: name }));
  assert.equal(got.thingName, name);
  assert.equal(got.defaultClientId, name);
  assert.equal(got.thingId, created.thingId);
  assert.equal(got.thingArn, created.thingArn);
  assert.equal(got.thingTypeName, undefined);
  assert.deepEqual(got.attributes, { model: 'x', serial: 'A-1' });
  assert.equal(got.version, 1);
});

test('thing names may contain colons (percent-encoded labels)', async () => {
  const name = `urn:dev:${++counter}`;
  await iot.send(new CreateThingCommand({ thingName: name }));
  assert.equal((await iot.send(new DescribeThingCommand({ thingName: name }))).thingName, name);
});

test('CreateThing with the same configuration is idempotent; a different one is ResourceAlreadyExists with resourceId and resourceArn', async () => {
  const name = uniq('dup');
  const first = await iot.send(new CreateThingCommand({ thingName: name, attributePayload: { attributes: { a: '1' } } }));
  const again = await iot.send(new CreateThingCommand({ thingName: name, attributePayload: { attributes: { a: '1' } } }));
  assert.equal(again.thingId, first.thingId);
  assert.equal(again.thingArn, first.thingArn);
  const err = await expectError(
    () => iot.send(new CreateThingCommand({ thingName: name, attributePayload: { attributes: { a: '2' } } })),
    'ResourceAlreadyExistsException',
    409,
  );
  assert.equal(err.body.resourceId, first.thingId);
  assert.equal(err.body.resourceArn, first.thingArn);
  assert.equal((await iot.send(new DescribeThingCommand({ thingName: name }))).version, 1);
});

test('DescribeThing of a missing thing is ResourceNotFound', async () => {
  await expectError(() => iot.send(new DescribeThingCommand({ thingName: 'no-such-thing' })), 'ResourceNotFoundException', 404);
});

test('a thing without a type holds at most 3 attributes; a typed thing up to 50', async () => {
  const four = { a: '1', b: '2', c: '3', d: '4' };
  await expectError(
    () => iot.send(new CreateThingCommand({ thingName: uniq('untyped'), attributePayload: { attributes: four } })),
    'InvalidRequestException',
    400,
    /at most 3/,
  );
  const type = uniq('type');
  await iot.send(new CreateThingTypeCommand({ thingTypeName: type }));
  const typed = uniq('typed');
  await iot.send(new CreateThingCommand({ thingName: typed, thingTypeName: type, attributePayload: { attributes: four } }));
  // Removing the type would leave 4 attributes on an untyped thing.
  await expectError(() => iot.send(new UpdateThingCommand({ thingName: typed, removeThingType: true })), 'InvalidRequestException', 400, /at most 3/);
  const fifty = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v']));
  await expectError(
    () => iot.send(new CreateThingCommand({ thingName: uniq('typed'), thingTypeName: type, attributePayload: { attributes: fifty } })),
    'InvalidRequestException',
    400,
    /at most 50/,
  );
});

test('CreateThing with a missing thing type is ResourceNotFound; with a deprecated one InvalidRequest', async () => {
  await expectError(() => iot.send(new CreateThingCommand({ thingName: uniq('t'), thingTypeName: 'no-such-type' })), 'ResourceNotFoundException', 404);
  const type = uniq('old');
  await iot.send(new CreateThingTypeCommand({ thingTypeName: type }));
  await iot.send(new DeprecateThingTypeCommand({ thingTypeName: type }));
  await expectError(() => iot.send(new CreateThingCommand({ thingName: uniq('t'), thingTypeName: type })), 'InvalidRequestException', 400, /deprecated/);
  await iot.send(new DeprecateThingTypeCommand({ thingTypeName: type, undoDeprecate: true }));
  await iot.send(new CreateThingCommand({ thingName: uniq('t'), thingTypeName: type }));
});

test('UpdateThing merges attributes (an empty value removes one), replaces them without merge, and bumps the version', async () => {
  const name = uniq('upd');
  await iot.send(new CreateThingCommand({ thingName: name, attributePayload: { attributes: { a: '1', b: '2' } } }));
  await iot.send(new UpdateThingCommand({ thingName: name, attributePayload: { attributes: { b: '', c: '3' }, merge: true } }));
  let got = await iot.send(new DescribeThingCommand({ thingName: name }));
  assert.deepEqual(got.attributes, { a: '1', c: '3' });
  assert.equal(got.version, 2);
  await iot.send(new UpdateThingCommand({ thingName: name, attributePayload: { attributes: { z: '9' } } }));
  got = await iot.send(new DescribeThingCommand({ thingName: name }));
  assert.deepEqual(got.attributes, { z: '9' });
  assert.equal(got.version, 3);
  // No attributePayload keeps the attributes.
  await iot.send(new UpdateThingCommand({ thingName: name, expectedVersion: 3 }));
  got = await iot.send(new DescribeThingCommand({ thingName: name }));
  assert.deepEqual(got.attributes, { z: '9' });
  assert.equal(got.version, 4);
});

test('UpdateThing with a stale expectedVersion is VersionConflict and changes nothing', async () => {
  const name = uniq('ver');
  await iot.send(new CreateThingCommand({ thingName: name, attributePayload: { attributes: { a: '1' } } }));
  await expectError(
    () => iot.send(new UpdateThingCommand({ thingName: name, expectedVersion: 7, attributePayload: { attributes: { a: '2' } } })),
    'VersionConflictException',
    409,
  );
  const got = await iot.send(new DescribeThingCommand({ thingName: name }));
  assert.deepEqual(got.attributes, { a: '1' });
  assert.equal(got.version, 1);
});

test('UpdateThing sets and removes the thing type; errors for a missing thing or type', async () => {
  const name = uniq('typing');
  const type = uniq('type');
  await iot.send(new CreateThingTypeCommand({ thingTypeName: type }));
  await iot.send(new CreateThingCommand({ thingName: name }));
  await iot.send(new UpdateThingCommand({ thingName: name, thingTypeName: type }));
  assert.equal((await iot.send(new DescribeThingCommand({ thingName: name }))).thingTypeName, type);
  await iot.send(new UpdateThingCommand({ thingName: name, removeThingType: true }));
  assert.equal((await iot.send(new DescribeThingCommand({ thingName: name }))).thingTypeName, undefined);
  await expectError(() => iot.send(new UpdateThingCommand({ thingName: name, thingTypeName: type, removeThingType: true })), 'InvalidRequestException', 400);
  await expectError(() => iot.send(new UpdateThingCommand({ thingName: name, thingTypeName: 'nope' })), 'ResourceNotFoundException', 404);
  await expectError(() => iot.send(new UpdateThingCommand({ thingName: 'no-such-thing' })), 'ResourceNotFoundException', 404);
});

test('DeleteThing removes the thing; deleting a missing thing succeeds; a stale expectedVersion is VersionConflict', async () => {
  const name = uniq('del');
  await iot.send(new CreateThingCommand({ thingName: name }));
  await expectError(() => iot.send(new DeleteThingCommand({ thingName: name, expectedVersion: 5 })), 'VersionConflictException', 409);
  await iot.send(new DeleteThingCommand({ thingName: name, expectedVersion: 1 }));
  await expectError(() => iot.send(new DescribeThingCommand({ thingName: name })), 'ResourceNotFoundException', 404);
  await iot.send(new DeleteThingCommand({ thingName: name }));
  // The name is free again, with a new id.
  await iot.send(new CreateThingCommand({ thingName: name }));
});

test('ListThings pages in name order with maxResults and nextToken', async () => {
  const client = freshAccount();
  const names = Array.from({ length: 7 }, (_, i) => `dev-${String.fromCharCode(103 - i)}`);
  for (const thingName of names) await client.send(new CreateThingCommand({ thingName }));
  const { names: listed, pages } = await listAll(client, { maxResults: 3 });
  assert.deepEqual(listed, [...names].sort());
  assert.equal(pages, 3);
  assert.deepEqual((await listAll(client)).names, [...names].sort());
  await expectError(() => client.send(new ListThingsCommand({ nextToken: 'garbage' })), 'InvalidRequestException', 400);
  await expectError(() => client.send(new ListThingsCommand({ maxResults: 251 })), 'InvalidRequestException', 400);
  const first = await client.send(new ListThingsCommand({ maxResults: 2 }));
  // A token of one listing is refused by another (different filter).
  await expectError(() => client.send(new ListThingsCommand({ nextToken: first.nextToken, thingTypeName: 'x' })), 'InvalidRequestException', 400);
});

test('ListThings filters by thing type and by attribute (exact and prefix)', async () => {
  const client = freshAccount();
  await client.send(new CreateThingTypeCommand({ thingTypeName: 'sensor' }));
  await client.send(new CreateThingCommand({ thingName: 's1', thingTypeName: 'sensor', attributePayload: { attributes: { fw: '1.2.0', site: 'north' } } }));
  await client.send(new CreateThingCommand({ thingName: 's2', thingTypeName: 'sensor', attributePayload: { attributes: { fw: '1.3.0' } } }));
  await client.send(new CreateThingCommand({ thingName: 'g1', attributePayload: { attributes: { fw: '2.0.0', site: 'North' } } }));
  const listed = await client.send(new ListThingsCommand({ thingTypeName: 'sensor' }));
  assert.deepEqual(
    listed.things!.map((t) => t.thingName),
    ['s1', 's2'],
  );
  assert.match(listed.things![0].thingArn!, /^arn:aws:iot:us-east-1:\d{12}:thing\/s1$/);
  assert.deepEqual(listed.things![0], {
    thingName: 's1',
    thingTypeName: 'sensor',
    thingArn: listed.things![0].thingArn,
    attributes: { fw: '1.2.0', site: 'north' },
    version: 1,
  });
  assert.deepEqual((await listAll(client, { attributeName: 'site' })).names, ['g1', 's1']);
  assert.deepEqual((await listAll(client, { attributeName: 'site', attributeValue: 'north' })).names, ['s1']);
  assert.deepEqual((await listAll(client, { attributeName: 'fw', attributeValue: '1.', usePrefixAttributeValue: true })).names, ['s1', 's2']);
  assert.deepEqual((await listAll(client, { attributeName: 'fw', attributeValue: '1.', usePrefixAttributeValue: false })).names, []);
  assert.deepEqual((await listAll(client, { attributeName: 'fw', attributeValue: '1.3', usePrefixAttributeValue: true, thingTypeName: 'sensor' })).names, [
    's2',
  ]);
  await expectError(() => client.send(new ListThingsCommand({ attributeValue: 'x' })), 'InvalidRequestException', 400);
  // Attribute filters follow updates.
  await client.send(new UpdateThingCommand({ thingName: 's2', attributePayload: { attributes: { fw: '' }, merge: true } }));
  assert.deepEqual((await listAll(client, { attributeName: 'fw', attributeValue: '1.', usePrefixAttributeValue: true })).names, ['s1']);
});

test('things are isolated by account and region', async () => {
  const a = freshAccount();
  const b = freshAccount();
  await a.send(new CreateThingCommand({ thingName: 'shared-name', attributePayload: { attributes: { owner: 'a' } } }));
  await expectError(() => b.send(new DescribeThingCommand({ thingName: 'shared-name' })), 'ResourceNotFoundException', 404);
  await b.send(new CreateThingCommand({ thingName: 'shared-name', attributePayload: { attributes: { owner: 'b' } } }));
  assert.deepEqual((await a.send(new DescribeThingCommand({ thingName: 'shared-name' }))).attributes, { owner: 'a' });
  assert.deepEqual((await b.send(new DescribeThingCommand({ thingName: 'shared-name' }))).attributes, { owner: 'b' });
  const west = server.iot({ accessKeyId: '320000000099', region: 'us-west-2' });
  assert.deepEqual((await listAll(west)).names, []);
});

test('thing types: create, describe, list, deprecate, undo, delete', async () => {
  const client = freshAccount();
  const created = await client.send(
    new CreateThingTypeCommand({
      thingTypeName: 'lamp',
      thingTypeProperties: { thingTypeDescription: 'A lamp', searchableAttributes: ['room', 'floor'] },
      tags: [{ Key: 'team', Value: 'ops' }],
    }),
  );
  assert.match(created.thingTypeArn!, /^arn:aws:iot:us-east-1:\d{12}:thingtype\/lamp$/);
  assert.ok(created.thingTypeId);
  const again = await client.send(
    new CreateThingTypeCommand({ thingTypeName: 'lamp', thingTypeProperties: { thingTypeDescription: 'A lamp', searchableAttributes: ['room', 'floor'] } }),
  );
  assert.equal(again.thingTypeId, created.thingTypeId);
  const err = await expectError(
    () => client.send(new CreateThingTypeCommand({ thingTypeName: 'lamp', thingTypeProperties: { thingTypeDescription: 'other' } })),
    'ResourceAlreadyExistsException',
    409,
  );
  assert.equal(err.body.resourceArn, created.thingTypeArn);
  const described = await client.send(new DescribeThingTypeCommand({ thingTypeName: 'lamp' }));
  assert.equal(described.thingTypeId, created.thingTypeId);
  assert.deepEqual(described.thingTypeProperties, { thingTypeDescription: 'A lamp', searchableAttributes: ['room', 'floor'] });
  assert.equal(described.thingTypeMetadata!.deprecated, false);
  assert.ok(described.thingTypeMetadata!.creationDate instanceof Date);
  assert.deepEqual((await client.send(new ListTagsForResourceCommand({ resourceArn: created.thingTypeArn }))).tags, [{ Key: 'team', Value: 'ops' }]);
  await client.send(new TagResourceCommand({ resourceArn: created.thingTypeArn, tags: [{ Key: 'env', Value: 'dev' }] }));

  await client.send(new CreateThingTypeCommand({ thingTypeName: 'fan' }));
  const listed = await client.send(new ListThingTypesCommand({ maxResults: 1 }));
  assert.deepEqual(
    listed.thingTypes!.map((t) => t.thingTypeName),
    ['fan'],
  );
  const rest = await client.send(new ListThingTypesCommand({ maxResults: 1, nextToken: listed.nextToken }));
  assert.deepEqual(
    rest.thingTypes!.map((t) => t.thingTypeName),
    ['lamp'],
  );
  assert.equal(rest.nextToken, undefined);
  assert.deepEqual(
    (await client.send(new ListThingTypesCommand({ thingTypeName: 'lamp' }))).thingTypes!.map((t) => t.thingTypeArn),
    [created.thingTypeArn],
  );

  // Deleting needs deprecation first, then no things of the type.
  await client.send(new CreateThingCommand({ thingName: 'lamp-1', thingTypeName: 'lamp' }));
  await expectError(() => client.send(new DeleteThingTypeCommand({ thingTypeName: 'lamp' })), 'InvalidRequestException', 400, /deprecated/);
  await client.send(new DeprecateThingTypeCommand({ thingTypeName: 'lamp' }));
  const deprecated = await client.send(new DescribeThingTypeCommand({ thingTypeName: 'lamp' }));
  assert.equal(deprecated.thingTypeMetadata!.deprecated, true);
  assert.ok(deprecated.thingTypeMetadata!.deprecationDate instanceof Date);
  await expectError(() => client.send(new DeleteThingTypeCommand({ thingTypeName: 'lamp' })), 'InvalidRequestException', 400, /still used/);
  await client.send(new UpdateThingCommand({ thingName: 'lamp-1', removeThingType: true }));
  await client.send(new DeleteThingTypeCommand({ thingTypeName: 'lamp' }));
  await expectError(() => client.send(new DescribeThingTypeCommand({ thingTypeName: 'lamp' })), 'ResourceNotFoundException', 404);
  await expectError(() => client.send(new DeleteThingTypeCommand({ thingTypeName: 'lamp' })), 'ResourceNotFoundException', 404);
  await expectError(() => client.send(new DeprecateThingTypeCommand({ thingTypeName: 'lamp' })), 'ResourceNotFoundException', 404);
  // Its tags went with it: a new type of the same name starts untagged.
  await client.send(new CreateThingTypeCommand({ thingTypeName: 'lamp' }));
  assert.deepEqual((await client.send(new ListTagsForResourceCommand({ resourceArn: created.thingTypeArn }))).tags, []);
});

test('a thing type has at most 3 searchable attributes', async () => {
  await expectError(
    () => iot.send(new CreateThingTypeCommand({ thingTypeName: uniq('wide'), thingTypeProperties: { searchableAttributes: ['a', 'b', 'c', 'd'] } })),
    'InvalidRequestException',
    400,
    /at most 3/,
  );
});

test('things cannot be tagged', async () => {
  const name = uniq('untaggable');
  const { thingArn } = await iot.send(new CreateThingCommand({ thingName: name }));
  await expectError(() => iot.send(new TagResourceCommand({ resourceArn: thingArn, tags: [{ Key: 'k', Value: 'v' }] })), 'InvalidRequestException', 400);
});

test('the indexing configuration defaults to OFF, is stored per account, and refuses inconsistent modes', async () => {
  const client = freshAccount();
  const initial = await client.send(new GetIndexingConfigurationCommand({}));
  assert.deepEqual(initial.thingIndexingConfiguration, { thingIndexingMode: 'OFF' });
  assert.deepEqual(initial.thingGroupIndexingConfiguration, { thingGroupIndexingMode: 'OFF' });
  const thing = { thingIndexingMode: 'REGISTRY_AND_SHADOW' as const, namedShadowIndexingMode: 'ON' as const, filter: { namedShadowNames: ['$package'] } };
  await client.send(new UpdateIndexingConfigurationCommand({ thingIndexingConfiguration: thing }));
  let got = await client.send(new GetIndexingConfigurationCommand({}));
  assert.deepEqual(got.thingIndexingConfiguration, thing);
  assert.deepEqual(got.thingGroupIndexingConfiguration, { thingGroupIndexingMode: 'OFF' });
  // Updating only the group part keeps the thing part.
  await client.send(new UpdateIndexingConfigurationCommand({ thingGroupIndexingConfiguration: { thingGroupIndexingMode: 'ON' } }));
  got = await client.send(new GetIndexingConfigurationCommand({}));
  assert.deepEqual(got.thingIndexingConfiguration, thing);
  assert.deepEqual(got.thingGroupIndexingConfiguration, { thingGroupIndexingMode: 'ON' });
  await expectError(
    () => client.send(new UpdateIndexingConfigurationCommand({ thingIndexingConfiguration: { thingIndexingMode: 'REGISTRY', namedShadowIndexingMode: 'ON' } })),
    'InvalidRequestException',
    400,
    /REGISTRY_AND_SHADOW/,
  );
  await expectError(
    () =>
      client.send(
        new UpdateIndexingConfigurationCommand({ thingIndexingConfiguration: { thingIndexingMode: 'OFF', thingConnectivityIndexingMode: 'STATUS' } }),
      ),
    'InvalidRequestException',
    400,
  );
  // Another account still has the defaults.
  assert.deepEqual((await freshAccount().send(new GetIndexingConfigurationCommand({}))).thingIndexingConfiguration, { thingIndexingMode: 'OFF' });
});
