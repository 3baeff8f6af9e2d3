// End to end through @aws-sdk/client-iot: Get/UpdatePackageConfiguration, TagResource, UntagResource and
// ListTagsForResource on package and version ARNs, DescribeEndpoint, and isolation between accounts.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import {
  CreatePackageCommand,
  CreatePackageVersionCommand,
  DeletePackageCommand,
  DeletePackageVersionCommand,
  DescribeEndpointCommand,
  GetPackageCommand,
  GetPackageConfigurationCommand,
  GetPackageVersionCommand,
  ListPackagesCommand,
  ListPackageVersionsCommand,
  ListTagsForResourceCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdatePackageCommand,
  UpdatePackageConfigurationCommand,
  UpdatePackageVersionCommand,
  type IoTClient,
  type Tag,
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
/** A name no other test in this file uses. */
const uniq = (label: string) => `${label}-${++counter}`;
let accounts = 0;
/** An account of its own for a test; its id and a client signed as it. */
function freshAccount(): { account: string; client: IoTClient } {
  const account = String(720000000000 + ++accounts);
  return { account, client: server.iot({ accessKeyId: account }) };
}

/** A package and one version of it, with their ARNs. */
async function packageWithVersion(client = iot, tags?: { pkg?: Record<string, string>; version?: Record<string, string> }) {
  const packageName = uniq('pkg');
  const created = await client.send(new CreatePackageCommand({ packageName, tags: tags?.pkg }));
  const version = await client.send(new CreatePackageVersionCommand({ packageName, versionName: '1.0', tags: tags?.version }));
  return { packageName, packageArn: created.packageArn!, versionArn: version.packageVersionArn! };
}

const tagsOf = async (resourceArn: string, client = iot) => (await client.send(new ListTagsForResourceCommand({ resourceArn }))).tags;
const tag = (resourceArn: string, tags: Tag[], client = iot) => client.send(new TagResourceCommand({ resourceArn, tags }));
const manyTags = (n: number, prefix = 'k'): Tag[] => Array.from({ length: n }, (_, i) => ({ Key: `${prefix}${String(i).padStart(2, '0')}`, Value: `v${i}` }));

// ---------------------------------------------------------------- package configuration

test('GetPackageConfiguration defaults to disabled with no role', async () => {
  const { client } = freshAccount();
  const got = await client.send(new GetPackageConfigurationCommand({}));
  assert.deepEqual(got.versionUpdateByJobsConfig, { enabled: false });
});

test('enabling version updates by jobs needs a roleArn, given now or stored before', async () => {
  const { client } = freshAccount();
  const roleArn = 'arn:aws:iam::123456789012:role/flotilla-jobs';
  const update = (versionUpdateByJobsConfig: { enabled?: boolean; roleArn?: string }) =>
    client.send(new UpdatePackageConfigurationCommand({ versionUpdateByJobsConfig }));
  const config = async () => (await client.send(new GetPackageConfigurationCommand({}))).versionUpdateByJobsConfig;

  await expectError(() => update({ enabled: true }), 'ValidationException', 400, /roleArn/);
  assert.deepEqual(await config(), { enabled: false });
  await update({ enabled: false });
  assert.deepEqual(await config(), { enabled: false });
  await expectError(
    () => update({ enabled: true, roleArn: 'arn:too-short' }),
    'ValidationException',
    400,
    /at 'versionUpdateByJobsConfig\.roleArn'.*length greater than or equal to 20/,
  );

  await update({ enabled: true, roleArn });
  assert.deepEqual(await config(), { enabled: true, roleArn });
  await update({ enabled: false });
  assert.equal((await config())!.enabled, false);
  await update({ enabled: true }); // the stored role serves
  assert.deepEqual(await config(), { enabled: true, roleArn });
  await client.send(new UpdatePackageConfigurationCommand({}));
  assert.deepEqual(await config(), { enabled: true, roleArn }, 'an update without a config changes nothing');
  assert.deepEqual(
    (await freshAccount().client.send(new GetPackageConfigurationCommand({}))).versionUpdateByJobsConfig,
    { enabled: false },
    'configuration is per account',
  );
});

test('UpdatePackageConfiguration replays a repeated clientToken; a different request conflicts', async () => {
  const { client } = freshAccount();
  const clientToken = randomUUID();
  const request = { versionUpdateByJobsConfig: { enabled: true, roleArn: 'arn:aws:iam::123456789012:role/one' }, clientToken };
  await client.send(new UpdatePackageConfigurationCommand(request));
  await client.send(new UpdatePackageConfigurationCommand({ versionUpdateByJobsConfig: { enabled: false } }));
  await client.send(new UpdatePackageConfigurationCommand(request));
  assert.equal((await client.send(new GetPackageConfigurationCommand({}))).versionUpdateByJobsConfig!.enabled, false, 'the replay did not apply again');
  await expectError(
    () =>
      client.send(
        new UpdatePackageConfigurationCommand({ ...request, versionUpdateByJobsConfig: { enabled: true, roleArn: 'arn:aws:iam::123456789012:role/two' } }),
      ),
    'ConflictException',
    409,
  );
});

// ---------------------------------------------------------------- tags

test('tags given at CreatePackage and CreatePackageVersion are listed as Key/Value pairs', async () => {
  const { packageArn, versionArn } = await packageWithVersion(iot, { pkg: { team: 'fw', env: 'prod' }, version: { build: '42' } });
  assert.deepEqual(await tagsOf(packageArn), [
    { Key: 'env', Value: 'prod' },
    { Key: 'team', Value: 'fw' },
  ]);
  assert.deepEqual(await tagsOf(versionArn), [{ Key: 'build', Value: '42' }]);
  const { packageArn: bare, versionArn: bareVersion } = await packageWithVersion();
  assert.deepEqual(await tagsOf(bare), []);
  assert.deepEqual(await tagsOf(bareVersion), []);
});

test('TagResource adds and overwrites, UntagResource removes, on package and version ARNs', async () => {
  const { packageArn, versionArn } = await packageWithVersion(iot, { pkg: { a: '1' } });
  for (const arn of [packageArn, versionArn]) {
    await tag(arn, [{ Key: 'a', Value: 'one' }, { Key: 'b', Value: '2' }, { Key: 'empty' }]);
    assert.deepEqual(await tagsOf(arn), [
      { Key: 'a', Value: 'one' },
      { Key: 'b', Value: '2' },
      { Key: 'empty', Value: '' },
    ]);
    await iot.send(new UntagResourceCommand({ resourceArn: arn, tagKeys: ['a', 'never-there'] }));
    assert.deepEqual(await tagsOf(arn), [
      { Key: 'b', Value: '2' },
      { Key: 'empty', Value: '' },
    ]);
    await iot.send(new UntagResourceCommand({ resourceArn: arn, tagKeys: [] }));
    await iot.send(new UntagResourceCommand({ resourceArn: arn, tagKeys: ['b', 'empty'] }));
    assert.deepEqual(await tagsOf(arn), []);
  }
});

test('a resource holds at most 50 tags: the 51st is a LimitExceededException (410)', async () => {
  const { packageArn, versionArn } = await packageWithVersion();
  for (const arn of [packageArn, versionArn]) {
    await tag(arn, manyTags(49));
    await tag(arn, [{ Key: 'k49', Value: 'fiftieth' }]);
    const err = await expectError(() => tag(arn, [{ Key: 'k50', Value: 'one too many' }]), 'LimitExceededException', 410, /50/);
    assert.match(err.message, /51/);
    await tag(arn, [
      { Key: 'k00', Value: 'overwrite at the limit' },
      { Key: 'k49', Value: 'again' },
    ]);
    const tags = await tagsOf(arn);
    assert.equal(tags!.length, 50);
    assert.deepEqual(tags![0], { Key: 'k00', Value: 'overwrite at the limit' });
    await iot.send(new UntagResourceCommand({ resourceArn: arn, tagKeys: ['k00'] }));
    await tag(arn, [{ Key: 'k50', Value: 'fits now' }]);
    assert.equal((await tagsOf(arn))!.length, 50);
  }
  const { packageArn: fresh } = await packageWithVersion();
  await expectError(() => tag(fresh, manyTags(51)), 'LimitExceededException', 410);
  assert.deepEqual(await tagsOf(fresh), [], 'a refused TagResource adds nothing');
});

test('at most 50 tags at creation; tag keys and values follow their constraints', async () => {
  const over = Object.fromEntries(manyTags(51).map((t) => [t.Key!, t.Value!]));
  await expectError(
    () => iot.send(new CreatePackageCommand({ packageName: uniq('tags'), tags: over })),
    'ValidationException',
    400,
    /at 'tags'.*less than or equal to 50/,
  );
  const packageName = uniq('tags');
  await iot.send(new CreatePackageCommand({ packageName }));
  await expectError(() => iot.send(new CreatePackageVersionCommand({ packageName, versionName: '1', tags: over })), 'ValidationException', 400, /at 'tags'/);
  await expectError(() => iot.send(new GetPackageCommand({ packageName: uniq('never') })), 'ResourceNotFoundException', 404);

  const { packageArn } = await packageWithVersion();
  // TagResource models no ValidationException: bad input is an InvalidRequestException.
  await expectError(() => tag(packageArn, [{ Key: 'bad<key>', Value: 'v' }]), 'InvalidRequestException', 400, /at 'tags\.1\.Key'.*pattern/);
  await expectError(() => tag(packageArn, [{ Key: 'k'.repeat(129), Value: 'v' }]), 'InvalidRequestException', 400, /at 'tags\.1\.Key'.*128/);
  await expectError(() => tag(packageArn, [{ Key: 'ok' }, { Key: 'v', Value: 'x'.repeat(257) }]), 'InvalidRequestException', 400, /at 'tags\.2\.Value'.*256/);
  await expectError(() => tag(packageArn, [{ Value: 'no key' } as Tag]), 'InvalidRequestException', 400, /at 'tags\.1\.Key'.*must not be null/);
  await expectError(() => tag(packageArn, [{ Key: '' }]), 'InvalidRequestException', 400, /at 'tags\.1\.Key'/);
  await expectError(
    () => iot.send(new UntagResourceCommand({ resourceArn: packageArn, tagKeys: ['bad<key>'] })),
    'InvalidRequestException',
    400,
    /at 'tagKeys\.1'/,
  );
  assert.deepEqual(await tagsOf(packageArn), []);
});

test('missing required members of the tag operations are InvalidRequestException naming the member', async () => {
  const { packageArn } = await packageWithVersion();
  const missing = /^1 validation error detected: Value null at '(\w+)' failed to satisfy constraint: Member must not be null$/;
  const cases: [() => Promise<unknown>, string][] = [
    [() => iot.send(new TagResourceCommand({ resourceArn: packageArn } as never)), 'tags'],
    [() => iot.send(new TagResourceCommand({ tags: [{ Key: 'a' }] } as never)), 'resourceArn'],
    [() => iot.send(new UntagResourceCommand({ resourceArn: packageArn } as never)), 'tagKeys'],
    [() => iot.send(new UntagResourceCommand({ tagKeys: ['a'] } as never)), 'resourceArn'],
    [() => iot.send(new ListTagsForResourceCommand({} as never)), 'resourceArn'],
  ];
  for (const [call, member] of cases) {
    const err = await expectError(call, 'InvalidRequestException', 400, missing);
    assert.equal(missing.exec(err.message)![1], member);
  }
});

test('tag operations on a resource that does not exist are ResourceNotFoundException', async () => {
  const { packageName, packageArn } = await packageWithVersion();
  const arns = [
    `${packageArn}-missing`,
    `${packageArn}/version/9.9`,
    `arn:aws:iot:us-east-1:000000000000:package/${uniq('none')}/version/1.0`,
    `arn:aws:iot:us-east-1:000000000000:thing/${packageName}`,
    `${packageArn}/versions/1.0`,
    'not-an-arn',
    '',
  ];
  for (const resourceArn of arns) {
    await expectError(() => iot.send(new ListTagsForResourceCommand({ resourceArn })), 'ResourceNotFoundException', 404);
    await expectError(() => tag(resourceArn, [{ Key: 'a', Value: 'b' }]), 'ResourceNotFoundException', 404);
    await expectError(() => iot.send(new UntagResourceCommand({ resourceArn, tagKeys: ['a'] })), 'ResourceNotFoundException', 404);
  }
});

test('deleting a package or version removes its tags: re-creating the name starts with none', async () => {
  const { packageName, packageArn, versionArn } = await packageWithVersion(iot, { pkg: { p: '1' }, version: { v: '1' } });
  await tag(versionArn, [{ Key: 'extra', Value: 'x' }]);
  await iot.send(new DeletePackageVersionCommand({ packageName, versionName: '1.0' }));
  await expectError(() => tagsOf(versionArn), 'ResourceNotFoundException', 404);
  await iot.send(new CreatePackageVersionCommand({ packageName, versionName: '1.0' }));
  assert.deepEqual(await tagsOf(versionArn), []);
  assert.deepEqual(await tagsOf(packageArn), [{ Key: 'p', Value: '1' }], 'the package keeps its own tags');

  await iot.send(new DeletePackageVersionCommand({ packageName, versionName: '1.0' }));
  await iot.send(new DeletePackageCommand({ packageName }));
  await expectError(() => tagsOf(packageArn), 'ResourceNotFoundException', 404);
  await iot.send(new CreatePackageCommand({ packageName }));
  assert.deepEqual(await tagsOf(packageArn), []);
});

test('concurrent TagResource calls never take a resource past 50 tags', async () => {
  const { packageArn } = await packageWithVersion();
  await tag(packageArn, manyTags(40));
  const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => tag(packageArn, manyTags(2, `race${i}-`))));
  const refused = results.filter((r) => r.status === 'rejected');
  for (const r of refused) assert.equal((r.reason as Error).name, 'LimitExceededException');
  assert.equal(refused.length, 5);
  assert.equal((await tagsOf(packageArn))!.length, 50);
});

// ---------------------------------------------------------------- accounts and regions

test('accounts are isolated: each lists, reads and changes only its own packages', async () => {
  const one = server.iot({ accessKeyId: '111111111111' });
  const two = server.iot({ accessKeyId: '222222222222' });
  const name = uniq('shared-name');
  const mine = await one.send(new CreatePackageCommand({ packageName: name, description: 'one', tags: { owner: 'one' } }));
  assert.equal(mine.packageArn, `arn:aws:iot:us-east-1:111111111111:package/${name}`);
  await expectError(() => two.send(new GetPackageCommand({ packageName: name })), 'ResourceNotFoundException', 404);
  await expectError(() => two.send(new UpdatePackageCommand({ packageName: name, description: 'two' })), 'ResourceNotFoundException', 404);
  await expectError(() => two.send(new CreatePackageVersionCommand({ packageName: name, versionName: '1' })), 'ValidationException', 400);
  await two.send(new DeletePackageCommand({ packageName: name })); // deletes nothing of account one

  const theirs = await two.send(new CreatePackageCommand({ packageName: name, description: 'two' }));
  assert.equal(theirs.packageArn, `arn:aws:iot:us-east-1:222222222222:package/${name}`);
  await one.send(new CreatePackageVersionCommand({ packageName: name, versionName: '1.0' }));
  const names = async (client: IoTClient) => (await client.send(new ListPackagesCommand({}))).packageSummaries!.map((p) => p.packageName);
  assert.ok((await names(one)).includes(name) && (await names(two)).includes(name));
  assert.ok(!(await names(iot)).includes(name), 'the default account sees neither');
  assert.equal((await one.send(new GetPackageCommand({ packageName: name }))).description, 'one');
  assert.equal((await two.send(new GetPackageCommand({ packageName: name }))).description, 'two');
  assert.deepEqual((await two.send(new ListPackageVersionsCommand({ packageName: name }))).packageVersionSummaries, []);
  await expectError(() => two.send(new GetPackageVersionCommand({ packageName: name, versionName: '1.0' })), 'ResourceNotFoundException', 404);
  await two.send(new DeletePackageVersionCommand({ packageName: name, versionName: '1.0' }));
  assert.equal((await one.send(new GetPackageVersionCommand({ packageName: name, versionName: '1.0' }))).status, 'DRAFT');

  // Tags of one account's ARN are out of the other's reach.
  const versionArn = `${mine.packageArn}/version/1.0`;
  for (const arn of [mine.packageArn!, versionArn]) {
    await expectError(() => tagsOf(arn, two), 'ResourceNotFoundException', 404);
    await expectError(() => tag(arn, [{ Key: 'x', Value: 'y' }], two), 'ResourceNotFoundException', 404);
    await expectError(() => two.send(new UntagResourceCommand({ resourceArn: arn, tagKeys: ['owner'] })), 'ResourceNotFoundException', 404);
  }
  assert.deepEqual(await tagsOf(mine.packageArn!, one), [{ Key: 'owner', Value: 'one' }]);
  assert.deepEqual(await tagsOf(theirs.packageArn!, two), []);
});

test('a clientToken belongs to its account: the same token in two accounts is two requests', async () => {
  const a = freshAccount().client;
  const b = freshAccount().client;
  const clientToken = randomUUID();
  await a.send(new CreatePackageCommand({ packageName: 'from-a', clientToken }));
  await b.send(new CreatePackageCommand({ packageName: 'from-b', clientToken }));
  assert.deepEqual(
    (await a.send(new ListPackagesCommand({}))).packageSummaries!.map((p) => p.packageName),
    ['from-a'],
  );
  assert.deepEqual(
    (await b.send(new ListPackagesCommand({}))).packageSummaries!.map((p) => p.packageName),
    ['from-b'],
  );
});

test('regions are isolated too: a package of us-east-1 is not found from eu-west-1', async () => {
  const { account, client: east } = freshAccount();
  const west = server.iot({ accessKeyId: account, region: 'eu-west-1' });
  const created = await east.send(new CreatePackageCommand({ packageName: 'regional', tags: { r: 'east' } }));
  assert.equal(created.packageArn, `arn:aws:iot:us-east-1:${account}:package/regional`);
  await expectError(() => west.send(new GetPackageCommand({ packageName: 'regional' })), 'ResourceNotFoundException', 404);
  assert.deepEqual((await west.send(new ListPackagesCommand({}))).packageSummaries, []);
  await expectError(() => tagsOf(created.packageArn!, west), 'ResourceNotFoundException', 404);
  const westArn = (await west.send(new CreatePackageCommand({ packageName: 'regional' }))).packageArn;
  assert.equal(westArn, `arn:aws:iot:eu-west-1:${account}:package/regional`);
  await west.send(new UpdatePackageConfigurationCommand({ versionUpdateByJobsConfig: { enabled: true, roleArn: 'arn:aws:iam::123456789012:role/west' } }));
  assert.deepEqual((await east.send(new GetPackageConfigurationCommand({}))).versionUpdateByJobsConfig, { enabled: false });
});

test('the default account owns ARNs of 000000000000, and a version ARN follows the package ARN', async () => {
  const { packageName, packageArn, versionArn } = await packageWithVersion();
  assert.equal(packageArn, `arn:aws:iot:us-east-1:000000000000:package/${packageName}`);
  assert.equal(versionArn, `${packageArn}/version/1.0`);
  await iot.send(new UpdatePackageVersionCommand({ packageName, versionName: '1.0', action: 'PUBLISH' }));
  assert.equal((await iot.send(new GetPackageVersionCommand({ packageName, versionName: '1.0' }))).packageVersionArn, versionArn);
});

// ---------------------------------------------------------------- DescribeEndpoint

test('DescribeEndpoint answers this server’s host:port for every endpoint type it knows', async () => {
  const host = new URL(server.endpoint).host;
  assert.match(host, /^127\.0\.0\.1:\d+$/);
  for (const endpointType of ['iot:Data-ATS', 'iot:Data', 'iot:Jobs', 'iot:CredentialProvider']) {
    assert.equal((await iot.send(new DescribeEndpointCommand({ endpointType }))).endpointAddress, host, endpointType);
  }
  assert.equal((await iot.send(new DescribeEndpointCommand({}))).endpointAddress, host);
  assert.equal((await freshAccount().client.send(new DescribeEndpointCommand({ endpointType: 'iot:Data-ATS' }))).endpointAddress, host);
});

test('DescribeEndpoint of an unknown endpointType is an InvalidRequestException', async () => {
  for (const endpointType of ['iot:Nope', 'iot:data-ats', 'https://example.com', 'x'.repeat(129)]) {
    await expectError(() => iot.send(new DescribeEndpointCommand({ endpointType })), 'InvalidRequestException', 400);
  }
  await expectError(() => iot.send(new DescribeEndpointCommand({ endpointType: 'iot:Nope' })), 'InvalidRequestException', 400, /iot:Nope/);
});
