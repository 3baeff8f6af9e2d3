// End to end through @aws-sdk/client-iot: CreatePackageVersion, GetPackageVersion, UpdatePackageVersion,
// DeletePackageVersion, ListPackageVersions.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import {
  CreatePackageCommand,
  CreatePackageVersionCommand,
  DeletePackageCommand,
  DeletePackageVersionCommand,
  GetPackageCommand,
  GetPackageVersionCommand,
  ListPackagesCommand,
  ListPackageVersionsCommand,
  paginateListPackageVersions,
  UpdatePackageCommand,
  UpdatePackageVersionCommand,
  type IoTClient,
  type PackageVersionAction,
  type PackageVersionStatus,
} from '@aws-sdk/client-iot';
import { CreateBucketCommand, PutBucketVersioningCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startTestServer, type TestServer, expectError, invalid, clockPast, body } from './support/server.ts';

let server: TestServer;
let iot: IoTClient;
let s3: S3Client;
/** A real object in the embedded S3 endpoint: artifacts must exist. */
let artifact: { s3Location: { bucket: string; key: string; version: string } };
before(async () => {
  server = await startTestServer();
  iot = server.iot();
  s3 = new S3Client({
    endpoint: server.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' },
  });
  await s3.send(new CreateBucketCommand({ Bucket: 'firmware' }));
  await s3.send(new PutBucketVersioningCommand({ Bucket: 'firmware', VersioningConfiguration: { Status: 'Enabled' } }));
  const put = await s3.send(new PutObjectCommand({ Bucket: 'firmware', Key: 'builds/1.0.0.bin', Body: 'firmware image' }));
  artifact = { s3Location: { bucket: 'firmware', key: 'builds/1.0.0.bin', version: put.VersionId! } };
});
after(async () => {
  s3.destroy();
  await server.stop();
});

let counter = 0;
/** A name no other test in this file uses. */
const uniq = (label: string) => `${label}-${++counter}`;

async function newPackage(): Promise<string> {
  const packageName = uniq('pkg');
  await iot.send(new CreatePackageCommand({ packageName }));
  return packageName;
}

const get = (packageName: string, versionName: string) => iot.send(new GetPackageVersionCommand({ packageName, versionName }));
const act = (packageName: string, versionName: string, action: PackageVersionAction) =>
  iot.send(new UpdatePackageVersionCommand({ packageName, versionName, action }));

/** A new version (in a new package) brought to `status`. */
async function versionIn(status: PackageVersionStatus, fields: { attributes?: Record<string, string>; recipe?: string } = {}) {
  const packageName = await newPackage();
  const versionName = '1.0.0';
  await iot.send(new CreatePackageVersionCommand({ packageName, versionName, ...fields }));
  if (status !== 'DRAFT') await act(packageName, versionName, 'PUBLISH');
  if (status === 'DEPRECATED') await act(packageName, versionName, 'DEPRECATE');
  assert.equal((await get(packageName, versionName)).status, status);
  return { packageName, versionName };
}

async function listAll(packageName: string, options: { maxResults?: number; status?: PackageVersionStatus } = {}) {
  const names: string[] = [];
  const pages: number[] = [];
  let nextToken: string | undefined;
  do {
    const page = await iot.send(new ListPackageVersionsCommand({ packageName, ...options, nextToken }));
    pages.push(page.packageVersionSummaries!.length);
    names.push(...page.packageVersionSummaries!.map((v) => v.versionName!));
    nextToken = page.nextToken;
  } while (nextToken);
  return { names, pages };
}

test('CreatePackageVersion then GetPackageVersion returns every field, in DRAFT, with dates', async () => {
  const packageName = await newPackage();
  const request = {
    packageName,
    versionName: '1.0.0',
    description: 'First build',
    attributes: { arch: 'arm64', 'os:name': 'linux' },
    artifact,
    recipe: '{"steps":[]}',
  };
  const created = await iot.send(new CreatePackageVersionCommand(request));
  assert.deepEqual(body(created), {
    packageVersionArn: `arn:aws:iot:us-east-1:000000000000:package/${packageName}/version/1.0.0`,
    packageName,
    versionName: '1.0.0',
    description: 'First build',
    attributes: request.attributes,
    status: 'DRAFT',
  });
  const got = await get(packageName, '1.0.0');
  assert.equal(got.packageVersionArn, created.packageVersionArn);
  assert.equal(got.description, 'First build');
  assert.deepEqual(got.attributes, request.attributes);
  assert.deepEqual(got.artifact, artifact);
  assert.equal(got.recipe, request.recipe);
  assert.equal(got.status, 'DRAFT');
  assert.equal(got.errorReason, undefined);
  assert.ok(got.creationDate instanceof Date && got.lastModifiedDate instanceof Date);
  assert.equal(got.lastModifiedDate.getTime(), got.creationDate.getTime());

  const bare = await iot.send(new CreatePackageVersionCommand({ packageName, versionName: 'bare' }));
  assert.deepEqual(body(bare), {
    packageVersionArn: `${created.packageVersionArn!.replace(/1\.0\.0$/, 'bare')}`,
    packageName,
    versionName: 'bare',
    status: 'DRAFT',
  });
  const gotBare = await get(packageName, 'bare');
  for (const field of ['description', 'attributes', 'artifact', 'recipe'] as const) assert.equal(gotBare[field], undefined, field);
});

test('version names: up to 64 characters of the pattern; others are refused by every version operation', async () => {
  const packageName = await newPackage();
  const long = 'v'.repeat(64);
  await iot.send(new CreatePackageVersionCommand({ packageName, versionName: long }));
  assert.equal((await get(packageName, long)).versionName, long);
  const calls = (versionName: string) => [
    () => iot.send(new CreatePackageVersionCommand({ packageName, versionName })),
    () => get(packageName, versionName),
    () => iot.send(new UpdatePackageVersionCommand({ packageName, versionName, description: 'x' })),
    () => iot.send(new DeletePackageVersionCommand({ packageName, versionName })),
  ];
  for (const call of calls('v'.repeat(65))) await expectError(call, 'ValidationException', 400, invalid('versionName', 'have length less than or equal to 64'));
  for (const name of ['1.0 beta', '1/0', 'v+1', 'ünï']) {
    for (const call of calls(name)) await expectError(call, 'ValidationException', 400, invalid('versionName', 'satisfy regular expression pattern'));
  }
  await expectError(
    () => iot.send(new CreatePackageVersionCommand({ packageName: 'bad name', versionName: '1' })),
    'ValidationException',
    400,
    invalid('packageName', 'satisfy'),
  );
  await expectError(
    () => iot.send(new ListPackageVersionsCommand({ packageName: 'p'.repeat(129) })),
    'ValidationException',
    400,
    invalid('packageName', 'have length'),
  );
});

test('description over 1024 and recipe over 3072 characters are refused on create and update', async () => {
  const packageName = await newPackage();
  await iot.send(new CreatePackageVersionCommand({ packageName, versionName: 'max', description: 'd'.repeat(1024), recipe: 'r'.repeat(3072) }));
  const max = await get(packageName, 'max');
  assert.equal(max.description!.length, 1024);
  assert.equal(max.recipe!.length, 3072);
  const create = (fields: object) => () => iot.send(new CreatePackageVersionCommand({ packageName, versionName: uniq('v'), ...fields }));
  const update = (fields: object) => () => iot.send(new UpdatePackageVersionCommand({ packageName, versionName: 'max', ...fields }));
  for (const call of [create, update]) {
    await expectError(call({ description: 'd'.repeat(1025) }), 'ValidationException', 400, invalid('description', 'have length less than or equal to 1024'));
    await expectError(call({ recipe: 'r'.repeat(3073) }), 'ValidationException', 400, invalid('recipe', 'have length less than or equal to 3072'));
  }
  assert.deepEqual((await listAll(packageName)).names, ['max']);
});

test('attributes: at most 3072 UTF-8 bytes of keys and values together, keys and values follow their patterns', async () => {
  const packageName = await newPackage();
  const create = (versionName: string, attributes: Record<string, string>) =>
    iot.send(new CreatePackageVersionCommand({ packageName, versionName, attributes }));
  await create('ascii-max', { k: 'v'.repeat(3071) });
  await create('utf8-max', { k: `${'é'.repeat(1535)}a` }); // 1 + 3070 + 1 bytes
  await create('split-max', { ab: 'x'.repeat(1000), cd: 'y'.repeat(2068) });
  assert.deepEqual((await get(packageName, 'utf8-max')).attributes, { k: `${'é'.repeat(1535)}a` });
  const over: Record<string, string>[] = [{ k: 'v'.repeat(3072) }, { k: 'é'.repeat(1536) }, { ab: 'x'.repeat(1000), cd: 'y'.repeat(2069) }];
  for (const attributes of over) {
    await expectError(() => create(uniq('over'), attributes), 'ValidationException', 400, /3072/);
  }
  await expectError(() => create(uniq('key'), { 'bad key': 'v' }), 'ValidationException', 400, invalid('attributes.key', 'satisfy regular expression pattern'));
  await expectError(() => create(uniq('key'), { 'k.dot': 'v' }), 'ValidationException', 400, /at 'attributes\.key'/);
  await expectError(() => create(uniq('value'), { k: '' }), 'ValidationException', 400, /at 'attributes\.k'/);
  await expectError(() => create(uniq('value'), { k: 'line\nbreak' }), 'ValidationException', 400, /at 'attributes\.k'.*pattern/);
  assert.deepEqual((await listAll(packageName)).names, ['ascii-max', 'split-max', 'utf8-max']);

  // The same limit on update, in DRAFT.
  await iot.send(new UpdatePackageVersionCommand({ packageName, versionName: 'ascii-max', attributes: { z: `${'é'.repeat(1535)}a` } }));
  await expectError(
    () => iot.send(new UpdatePackageVersionCommand({ packageName, versionName: 'ascii-max', attributes: { z: 'é'.repeat(1536) } })),
    'ValidationException',
    400,
    /3072/,
  );
  assert.deepEqual((await get(packageName, 'ascii-max')).attributes, { z: `${'é'.repeat(1535)}a` });
});

test('creating a version that exists is a ConflictException naming it', async () => {
  const packageName = await newPackage();
  await iot.send(new CreatePackageVersionCommand({ packageName, versionName: '2.0', description: 'original' }));
  const err = await expectError(() => iot.send(new CreatePackageVersionCommand({ packageName, versionName: '2.0' })), 'ConflictException', 409, /2\.0/);
  assert.equal(err.body.resourceId, '2.0');
  assert.equal((await get(packageName, '2.0')).description, 'original');
  // The same version name in another package is another version.
  const other = await newPackage();
  await iot.send(new CreatePackageVersionCommand({ packageName: other, versionName: '2.0' }));
});

test('CreatePackageVersion for a missing package is a ValidationException and creates nothing', async () => {
  const packageName = uniq('nopkg');
  await expectError(() => iot.send(new CreatePackageVersionCommand({ packageName, versionName: '1' })), 'ValidationException', 400, new RegExp(packageName));
  await iot.send(new CreatePackageCommand({ packageName }));
  assert.deepEqual((await listAll(packageName)).names, []);
});

test('Get and Update of a missing version or package are ResourceNotFoundException', async () => {
  const packageName = await newPackage();
  await expectError(() => get(packageName, 'nope'), 'ResourceNotFoundException', 404, /nope/);
  await expectError(() => get(uniq('nopkg'), '1'), 'ResourceNotFoundException', 404);
  await expectError(() => iot.send(new UpdatePackageVersionCommand({ packageName, versionName: 'nope', description: 'x' })), 'ResourceNotFoundException', 404);
  await expectError(() => act(packageName, 'nope', 'PUBLISH'), 'ResourceNotFoundException', 404);
  await expectError(() => act(uniq('nopkg'), '1', 'PUBLISH'), 'ResourceNotFoundException', 404);
});

test('lifecycle: PUBLISH from any state, DEPRECATE only once published, nothing returns to DRAFT', async () => {
  const cells: [PackageVersionStatus, PackageVersionAction, PackageVersionStatus | 'ConflictException'][] = [
    ['DRAFT', 'PUBLISH', 'PUBLISHED'],
    ['DRAFT', 'DEPRECATE', 'ConflictException'],
    ['PUBLISHED', 'PUBLISH', 'PUBLISHED'],
    ['PUBLISHED', 'DEPRECATE', 'DEPRECATED'],
    ['DEPRECATED', 'PUBLISH', 'PUBLISHED'],
    ['DEPRECATED', 'DEPRECATE', 'DEPRECATED'],
  ];
  for (const [from, action, expected] of cells) {
    const { packageName, versionName } = await versionIn(from);
    if (expected === 'ConflictException') {
      const err = await expectError(() => act(packageName, versionName, action), 'ConflictException', 409, /DRAFT/);
      assert.equal(err.body.resourceId, versionName);
      assert.equal((await get(packageName, versionName)).status, from);
    } else {
      assert.deepEqual(body(await act(packageName, versionName, action)), {});
      assert.equal((await get(packageName, versionName)).status, expected, `${from} + ${action}`);
    }
  }
  const { packageName, versionName } = await versionIn('PUBLISHED');
  for (const action of ['DRAFT', 'UNPUBLISH', 'publish', '']) {
    await expectError(
      () => act(packageName, versionName, action as PackageVersionAction),
      'ValidationException',
      400,
      invalid('action', 'satisfy enum value set'),
    );
  }
  assert.equal((await get(packageName, versionName)).status, 'PUBLISHED');
});

test('in DRAFT every field is editable, and attributes are replaced as a whole', async () => {
  const { packageName, versionName } = await versionIn('DRAFT', { attributes: { a: '1', b: '2' } });
  await iot.send(new UpdatePackageVersionCommand({ packageName, versionName, attributes: { c: '3' }, artifact, description: 'new', recipe: 'r1' }));
  const got = await get(packageName, versionName);
  assert.deepEqual(got.attributes, { c: '3' });
  assert.deepEqual(got.artifact, artifact);
  assert.equal(got.description, 'new');
  assert.equal(got.recipe, 'r1');
  await iot.send(new UpdatePackageVersionCommand({ packageName, versionName, description: 'newer' }));
  const kept = await get(packageName, versionName);
  assert.deepEqual(kept.attributes, { c: '3' }, 'an update that omits attributes keeps them');
  assert.deepEqual(kept.artifact, artifact);
  assert.equal(kept.description, 'newer');
});

test('once PUBLISHED or DEPRECATED, attributes and artifact are fixed (ConflictException), description and recipe are not', async () => {
  for (const status of ['PUBLISHED', 'DEPRECATED'] as const) {
    const { packageName, versionName } = await versionIn(status, { attributes: { a: '1' } });
    const update = (fields: object) => () => iot.send(new UpdatePackageVersionCommand({ packageName, versionName, ...fields }));
    const attrs = await expectError(update({ attributes: { a: '2' } }), 'ConflictException', 409, /attributes/);
    assert.equal(attrs.body.resourceId, versionName);
    await expectError(update({ artifact }), 'ConflictException', 409, /artifact/);
    await expectError(update({ attributes: { a: '1' }, action: 'PUBLISH', description: 'nope' }), 'ConflictException', 409);
    await update({ description: `edited in ${status}`, recipe: 'r2' })();
    const got = await get(packageName, versionName);
    assert.deepEqual(got.attributes, { a: '1' });
    assert.equal(got.artifact, undefined);
    assert.equal(got.description, `edited in ${status}`, 'the refused update changed nothing');
    assert.equal(got.recipe, 'r2');
    assert.equal(got.status, status);
  }
});

test('UpdatePackageVersion moves lastModifiedDate and keeps creationDate, in Get and List', async () => {
  const { packageName, versionName } = await versionIn('DRAFT');
  const first = await get(packageName, versionName);
  await clockPast(first.lastModifiedDate!);
  await act(packageName, versionName, 'PUBLISH');
  const second = await get(packageName, versionName);
  assert.equal(second.creationDate!.getTime(), first.creationDate!.getTime());
  assert.ok(second.lastModifiedDate!.getTime() > first.lastModifiedDate!.getTime());
  const [summary] = (await iot.send(new ListPackageVersionsCommand({ packageName }))).packageVersionSummaries!;
  assert.deepEqual(summary, { packageName, versionName, status: 'PUBLISHED', creationDate: second.creationDate, lastModifiedDate: second.lastModifiedDate });
});

test('DeletePackageVersion: missing ones delete fine, the default version is refused until unset', async () => {
  const packageName = await newPackage();
  await iot.send(new DeletePackageVersionCommand({ packageName, versionName: 'never' }));
  await iot.send(new DeletePackageVersionCommand({ packageName: uniq('nopkg'), versionName: 'never' }));
  await iot.send(new CreatePackageVersionCommand({ packageName, versionName: 'keep' }));
  await act(packageName, 'keep', 'PUBLISH');
  await iot.send(new UpdatePackageCommand({ packageName, defaultVersionName: 'keep' }));
  await expectError(() => iot.send(new DeletePackageVersionCommand({ packageName, versionName: 'keep' })), 'ValidationException', 400, /default/);
  assert.equal((await get(packageName, 'keep')).status, 'PUBLISHED');
  await act(packageName, 'keep', 'DEPRECATE');
  await expectError(() => iot.send(new DeletePackageVersionCommand({ packageName, versionName: 'keep' })), 'ValidationException', 400);
  await iot.send(new UpdatePackageCommand({ packageName, unsetDefaultVersion: true }));
  assert.deepEqual(body(await iot.send(new DeletePackageVersionCommand({ packageName, versionName: 'keep' }))), {});
  await expectError(() => get(packageName, 'keep'), 'ResourceNotFoundException', 404);
  await iot.send(new DeletePackageVersionCommand({ packageName, versionName: 'keep' }));
  await iot.send(new DeletePackageCommand({ packageName }));
});

test('ListPackageVersions orders by version name (bytes, not semver) and filters by status', async () => {
  const packageName = await newPackage();
  const plan: [string, PackageVersionStatus][] = [
    ['1.2.0', 'PUBLISHED'],
    ['1.10.0', 'DRAFT'],
    ['1.9.0', 'DEPRECATED'],
    ['2.0.0-rc.1', 'DRAFT'],
    ['2.0.0', 'PUBLISHED'],
    ['V3', 'PUBLISHED'],
    ['v3', 'DEPRECATED'],
    ['1.2.0_hotfix', 'PUBLISHED'],
  ];
  for (const [versionName, status] of plan) {
    await iot.send(new CreatePackageVersionCommand({ packageName, versionName }));
    if (status !== 'DRAFT') await act(packageName, versionName, 'PUBLISH');
    if (status === 'DEPRECATED') await act(packageName, versionName, 'DEPRECATE');
  }
  const sorted = plan.map(([n]) => n).sort();
  assert.deepEqual(sorted, ['1.10.0', '1.2.0', '1.2.0_hotfix', '1.9.0', '2.0.0', '2.0.0-rc.1', 'V3', 'v3']);
  const all = await iot.send(new ListPackageVersionsCommand({ packageName }));
  assert.deepEqual(
    all.packageVersionSummaries!.map((v) => [v.versionName, v.status]),
    sorted.map((n) => [n, plan.find(([m]) => m === n)![1]]),
  );
  assert.equal(all.nextToken, undefined);
  for (const status of ['DRAFT', 'PUBLISHED', 'DEPRECATED'] as const) {
    const expected = sorted.filter((n) => plan.find(([m]) => m === n)![1] === status);
    assert.deepEqual((await listAll(packageName, { status })).names, expected, status);
    assert.deepEqual((await listAll(packageName, { status, maxResults: 1 })).names, expected, `${status} one by one`);
  }
  for (const status of ['BOGUS', 'draft', 'ACTIVE']) {
    await expectError(
      () => iot.send(new ListPackageVersionsCommand({ packageName, status: status as PackageVersionStatus })),
      'ValidationException',
      400,
      invalid('status', 'satisfy enum value set: \\[DRAFT, PUBLISHED, DEPRECATED\\]'),
    );
  }
});

test('ListPackageVersions of a missing package is an empty list', async () => {
  const listed = await iot.send(new ListPackageVersionsCommand({ packageName: uniq('nopkg') }));
  assert.deepEqual(listed.packageVersionSummaries, []);
  assert.equal(listed.nextToken, undefined);
});

test('ListPackageVersions pages with maxResults: every version once, in order', async () => {
  const packageName = await newPackage();
  const names = Array.from({ length: 7 }, (_, i) => `0.${String.fromCharCode(103 - i)}`);
  for (const versionName of names) await iot.send(new CreatePackageVersionCommand({ packageName, versionName }));
  const sorted = [...names].sort();
  assert.deepEqual(await listAll(packageName, { maxResults: 2 }), { names: sorted, pages: [2, 2, 2, 1] });
  assert.deepEqual(await listAll(packageName, { maxResults: 7 }), { names: sorted, pages: [7] });
  const viaPaginator: string[] = [];
  for await (const page of paginateListPackageVersions({ client: iot, pageSize: 3 }, { packageName })) {
    viaPaginator.push(...page.packageVersionSummaries!.map((v) => v.versionName!));
  }
  assert.deepEqual(viaPaginator, sorted);
  for (const maxResults of [0, 101]) {
    await expectError(
      () => iot.send(new ListPackageVersionsCommand({ packageName, maxResults })),
      'ValidationException',
      400,
      invalid('maxResults', 'have value'),
    );
  }
});

test('ListPackageVersions without maxResults serves pages of 100', async () => {
  const packageName = await newPackage();
  const names = Array.from({ length: 101 }, (_, i) => `1.${String(i).padStart(3, '0')}`);
  await Promise.all(names.map((versionName) => iot.send(new CreatePackageVersionCommand({ packageName, versionName }))));
  const first = await iot.send(new ListPackageVersionsCommand({ packageName }));
  assert.equal(first.packageVersionSummaries!.length, 100);
  assert.ok(first.nextToken);
  const second = await iot.send(new ListPackageVersionsCommand({ packageName, nextToken: first.nextToken }));
  assert.deepEqual(
    second.packageVersionSummaries!.map((v) => v.versionName),
    ['1.100'],
  );
  assert.equal(second.nextToken, undefined);
});

test('version pages stay correct when versions are created, deleted or change status between them', async () => {
  const packageName = await newPackage();
  for (const versionName of ['b', 'd', 'f', 'h', 'j', 'l']) {
    await iot.send(new CreatePackageVersionCommand({ packageName, versionName }));
    await act(packageName, versionName, 'PUBLISH');
  }
  const first = await iot.send(new ListPackageVersionsCommand({ packageName, status: 'PUBLISHED', maxResults: 3 }));
  assert.deepEqual(
    first.packageVersionSummaries!.map((v) => v.versionName),
    ['b', 'd', 'f'],
  );
  await iot.send(new CreatePackageVersionCommand({ packageName, versionName: 'c' })); // before the cursor
  for (const versionName of ['g', 'k']) {
    await iot.send(new CreatePackageVersionCommand({ packageName, versionName }));
    if (versionName === 'g') await act(packageName, versionName, 'PUBLISH'); // after the cursor, matches the filter
  }
  await act(packageName, 'h', 'DEPRECATE'); // leaves the filter before it is served
  for (const versionName of ['f', 'j']) await iot.send(new DeletePackageVersionCommand({ packageName, versionName }));
  const rest: string[] = [];
  let nextToken = first.nextToken;
  while (nextToken) {
    const page = await iot.send(new ListPackageVersionsCommand({ packageName, status: 'PUBLISHED', maxResults: 3, nextToken }));
    rest.push(...page.packageVersionSummaries!.map((v) => v.versionName!));
    nextToken = page.nextToken;
  }
  assert.deepEqual(rest, ['g', 'l']);
});

test('a nextToken from another listing, another package or another filter is a ValidationException', async () => {
  const packageName = await newPackage();
  const other = await newPackage();
  for (const versionName of ['a', 'b', 'c']) {
    await iot.send(new CreatePackageVersionCommand({ packageName, versionName }));
    await iot.send(new CreatePackageVersionCommand({ packageName: other, versionName }));
  }
  const token = (await iot.send(new ListPackageVersionsCommand({ packageName, maxResults: 1 }))).nextToken!;
  const draftToken = (await iot.send(new ListPackageVersionsCommand({ packageName, status: 'DRAFT', maxResults: 1 }))).nextToken!;
  const packagesToken = (await iot.send(new ListPackagesCommand({ maxResults: 1 }))).nextToken!;
  assert.ok(token && draftToken && packagesToken);
  const refused = [
    { packageName, nextToken: 'not-a-token' },
    { packageName, nextToken: packagesToken },
    { packageName: other, nextToken: token },
    { packageName, status: 'DRAFT' as const, nextToken: token },
    { packageName, nextToken: draftToken },
  ];
  for (const input of refused) await expectError(() => iot.send(new ListPackageVersionsCommand(input)), 'ValidationException', 400, /nextToken/);
  const next = await iot.send(new ListPackageVersionsCommand({ packageName, maxResults: 1, nextToken: token }));
  assert.deepEqual(
    next.packageVersionSummaries!.map((v) => v.versionName),
    ['b'],
  );
});

test('CreatePackageVersion replays its first response for a repeated clientToken; a different request conflicts', async () => {
  const packageName = await newPackage();
  const clientToken = randomUUID();
  const request = { packageName, versionName: '1.0', description: 'd', attributes: { a: '1' }, clientToken };
  const first = await iot.send(new CreatePackageVersionCommand(request));
  const created = await get(packageName, '1.0');
  await act(packageName, '1.0', 'PUBLISH');
  const again = await iot.send(new CreatePackageVersionCommand(request));
  assert.deepEqual(body(again), body(first), 'the replay is the first response, DRAFT status included');
  assert.deepEqual((await listAll(packageName)).names, ['1.0']);
  const still = await get(packageName, '1.0');
  assert.equal(still.status, 'PUBLISHED');
  assert.equal(still.creationDate!.getTime(), created.creationDate!.getTime());
  await expectError(() => iot.send(new CreatePackageVersionCommand({ ...request, versionName: '2.0' })), 'ConflictException', 409, new RegExp(clientToken));
  await expectError(() => iot.send(new CreatePackageVersionCommand({ ...request, attributes: { a: '2' } })), 'ConflictException', 409);
  assert.deepEqual((await listAll(packageName)).names, ['1.0']);
});

test('a refused request does not use up its clientToken', async () => {
  const packageName = uniq('later');
  const request = { packageName, versionName: '1.0', clientToken: randomUUID() };
  await expectError(() => iot.send(new CreatePackageVersionCommand(request)), 'ValidationException', 400);
  await iot.send(new CreatePackageCommand({ packageName }));
  const created = await iot.send(new CreatePackageVersionCommand(request));
  assert.equal(created.status, 'DRAFT');
  assert.deepEqual((await listAll(packageName)).names, ['1.0']);
});

test('UpdatePackageVersion replays without applying again; a different request conflicts', async () => {
  const { packageName, versionName } = await versionIn('DRAFT');
  const clientToken = randomUUID();
  await iot.send(new UpdatePackageVersionCommand({ packageName, versionName, action: 'PUBLISH', clientToken }));
  await act(packageName, versionName, 'DEPRECATE');
  await iot.send(new UpdatePackageVersionCommand({ packageName, versionName, action: 'PUBLISH', clientToken }));
  assert.equal((await get(packageName, versionName)).status, 'DEPRECATED', 'the replay did not publish again');
  await expectError(() => iot.send(new UpdatePackageVersionCommand({ packageName, versionName, action: 'DEPRECATE', clientToken })), 'ConflictException', 409);
});

test('DeletePackageVersion replays for a repeated clientToken; a different request is a ValidationException', async () => {
  const packageName = await newPackage();
  for (const versionName of ['a', 'b']) await iot.send(new CreatePackageVersionCommand({ packageName, versionName }));
  const clientToken = randomUUID();
  await iot.send(new DeletePackageVersionCommand({ packageName, versionName: 'a', clientToken }));
  await iot.send(new DeletePackageVersionCommand({ packageName, versionName: 'a', clientToken }));
  await expectError(
    () => iot.send(new DeletePackageVersionCommand({ packageName, versionName: 'b', clientToken })),
    'ValidationException',
    400,
    new RegExp(clientToken),
  );
  assert.deepEqual((await listAll(packageName)).names, ['b']);
});

test('racing DeletePackage against CreatePackageVersion never leaves a version without its package', async () => {
  for (let round = 0; round < 5; round++) {
    const packageName = await newPackage();
    await Promise.allSettled([
      iot.send(new CreatePackageVersionCommand({ packageName, versionName: '1' })),
      iot.send(new DeletePackageCommand({ packageName })),
    ]);
    const exists = await iot.send(new GetPackageCommand({ packageName })).then(
      () => true,
      (err) => (err.name === 'ResourceNotFoundException' ? false : Promise.reject(err)),
    );
    const versions = (await listAll(packageName)).names;
    assert.deepEqual(versions, exists ? ['1'] : []);
  }
});

test('an artifact must exist in the object store: missing bucket, key or version is a ValidationException', async () => {
  const packageName = await newPackage();
  const missing = [
    { ...artifact.s3Location, bucket: 'no-such-bucket' },
    { ...artifact.s3Location, key: 'builds/missing.bin' },
    { ...artifact.s3Location, version: '0000000000000000000000000000dead' },
  ];
  for (const s3Location of missing) {
    await expectError(
      () => iot.send(new CreatePackageVersionCommand({ packageName, versionName: uniq('v'), artifact: { s3Location } })),
      'ValidationException',
      400,
      /artifact object s3:\/\/.* does not exist/,
    );
  }
  assert.deepEqual((await listAll(packageName)).names, [], 'a refused create stores nothing');
  const versionName = uniq('v');
  await iot.send(new CreatePackageVersionCommand({ packageName, versionName, artifact: { s3Location: { bucket: 'firmware', key: 'builds/1.0.0.bin' } } }));
  await expectError(
    () => iot.send(new UpdatePackageVersionCommand({ packageName, versionName, artifact: { s3Location: missing[1] } })),
    'ValidationException',
    400,
    /does not exist/,
  );
  assert.deepEqual(
    (await get(packageName, versionName)).artifact,
    { s3Location: { bucket: 'firmware', key: 'builds/1.0.0.bin' } },
    'a refused update changes nothing',
  );
});
