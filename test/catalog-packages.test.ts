// End to end through @aws-sdk/client-iot: CreatePackage, GetPackage, UpdatePackage, DeletePackage, ListPackages.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import {
  CreatePackageCommand,
  CreatePackageVersionCommand,
  DeletePackageCommand,
  DeletePackageVersionCommand,
  GetPackageCommand,
  ListPackagesCommand,
  ListPackageVersionsCommand,
  paginateListPackages,
  UpdatePackageCommand,
  UpdatePackageVersionCommand,
  type IoTClient,
  type PackageSummary,
} from '@aws-sdk/client-iot';
import { startTestServer, type TestServer, expectError, invalid, clockPast, body } from './support/server.ts';

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
/** A client of an account of its own, so that listings hold only what the test created there. */
const freshAccount = () => server.iot({ accessKeyId: String(310000000000 + ++accounts) });

async function publishedVersion(client: IoTClient, packageName: string, versionName: string, deprecate = false): Promise<void> {
  await client.send(new CreatePackageVersionCommand({ packageName, versionName }));
  await client.send(new UpdatePackageVersionCommand({ packageName, versionName, action: 'PUBLISH' }));
  if (deprecate) await client.send(new UpdatePackageVersionCommand({ packageName, versionName, action: 'DEPRECATE' }));
}

async function listAll(client: IoTClient, maxResults?: number): Promise<{ names: string[]; pages: number[] }> {
  const names: string[] = [];
  const pages: number[] = [];
  let nextToken: string | undefined;
  do {
    const page = await client.send(new ListPackagesCommand({ maxResults, nextToken }));
    pages.push(page.packageSummaries!.length);
    names.push(...page.packageSummaries!.map((p) => p.packageName!));
    nextToken = page.nextToken;
  } while (nextToken);
  return { names, pages };
}

const byteOrder = (names: string[]) => [...names].sort();

test('CreatePackage then GetPackage returns the package with its ARN, description and dates', async () => {
  const name = uniq('pkg');
  const before = Date.now();
  const created = await iot.send(new CreatePackageCommand({ packageName: name, description: 'The first package' }));
  const afterCreate = Date.now();
  assert.deepEqual(body(created), { packageName: name, packageArn: `arn:aws:iot:us-east-1:000000000000:package/${name}`, description: 'The first package' });

  const got = await iot.send(new GetPackageCommand({ packageName: name }));
  assert.equal(got.packageName, name);
  assert.equal(got.packageArn, created.packageArn);
  assert.equal(got.description, 'The first package');
  assert.equal(got.defaultVersionName, undefined);
  assert.ok(got.creationDate instanceof Date && got.lastModifiedDate instanceof Date);
  assert.equal(got.lastModifiedDate.getTime(), got.creationDate.getTime());
  assert.ok(got.creationDate.getTime() >= before - 1000 && got.creationDate.getTime() <= afterCreate + 1000);
});

test('a package without a description has none', async () => {
  const name = uniq('plain');
  const created = await iot.send(new CreatePackageCommand({ packageName: name }));
  assert.equal(created.description, undefined);
  assert.equal((await iot.send(new GetPackageCommand({ packageName: name }))).description, undefined);
});

test('package names may use letters, digits, - _ . and up to 128 characters', async () => {
  const client = freshAccount();
  const names = ['a', 'Z', '0', '-', '_', '.', '..', 'My_Pkg-1.0', 'p'.repeat(128)];
  for (const packageName of names) await client.send(new CreatePackageCommand({ packageName }));
  for (const packageName of names) assert.equal((await client.send(new GetPackageCommand({ packageName }))).packageName, packageName);
  assert.deepEqual((await listAll(client)).names, byteOrder(names));
});

test('a package name outside the pattern or over 128 characters is refused by every package operation', async () => {
  const patterns = ['bad name', 'bad/name', 'naïve', 'semi;colon', 'star*', 'tab\tname'];
  const calls = (packageName: string) => [
    () => iot.send(new CreatePackageCommand({ packageName })),
    () => iot.send(new GetPackageCommand({ packageName })),
    () => iot.send(new UpdatePackageCommand({ packageName, description: 'x' })),
    () => iot.send(new DeletePackageCommand({ packageName })),
  ];
  for (const name of patterns) {
    for (const call of calls(name)) await expectError(call, 'ValidationException', 400, invalid('packageName', 'satisfy regular expression pattern: '));
  }
  for (const call of calls('p'.repeat(129)))
    await expectError(call, 'ValidationException', 400, invalid('packageName', 'have length less than or equal to 128'));
  // The SDK sends an empty label as `/packages/`; the length rule refuses it like any other bad name.
  for (const call of calls(''))
    await expectError(
      call,
      'ValidationException',
      400,
      /Value '' at 'packageName' failed to satisfy constraint: Member must have length greater than or equal to 1/,
    );
  const client = freshAccount();
  await client.send(new CreatePackageCommand({ packageName: 'ok' }));
  await expectError(() => client.send(new CreatePackageCommand({ packageName: 'bad name' })), 'ValidationException', 400);
  assert.deepEqual((await listAll(client)).names, ['ok'], 'a refused create stores nothing');
});

test('a description of 1024 characters is accepted, 1025 is refused on create and update', async () => {
  const name = uniq('desc');
  await iot.send(new CreatePackageCommand({ packageName: name, description: 'd'.repeat(1024) }));
  assert.equal((await iot.send(new GetPackageCommand({ packageName: name }))).description, 'd'.repeat(1024));
  const tooLong = 'd'.repeat(1025);
  await expectError(
    () => iot.send(new CreatePackageCommand({ packageName: uniq('desc'), description: tooLong })),
    'ValidationException',
    400,
    invalid('description', 'have length less than or equal to 1024'),
  );
  await expectError(
    () => iot.send(new UpdatePackageCommand({ packageName: name, description: tooLong })),
    'ValidationException',
    400,
    invalid('description', 'have length less than or equal to 1024'),
  );
  await expectError(
    () => iot.send(new UpdatePackageCommand({ packageName: name, description: 'bell\u0007' })),
    'ValidationException',
    400,
    invalid('description', 'satisfy regular expression pattern'),
  );
  assert.equal((await iot.send(new GetPackageCommand({ packageName: name }))).description, 'd'.repeat(1024));
});

test('creating a package that exists is a ConflictException naming it, and leaves it unchanged', async () => {
  const name = uniq('dup');
  await iot.send(new CreatePackageCommand({ packageName: name, description: 'original' }));
  const err = await expectError(
    () => iot.send(new CreatePackageCommand({ packageName: name, description: 'second' })),
    'ConflictException',
    409,
    new RegExp(name),
  );
  assert.equal(err.body.resourceId, name);
  assert.equal((await iot.send(new GetPackageCommand({ packageName: name }))).description, 'original');
});

test('GetPackage and UpdatePackage of a missing package are ResourceNotFoundException', async () => {
  const name = uniq('missing');
  await expectError(() => iot.send(new GetPackageCommand({ packageName: name })), 'ResourceNotFoundException', 404, new RegExp(name));
  await expectError(() => iot.send(new UpdatePackageCommand({ packageName: name, description: 'x' })), 'ResourceNotFoundException', 404);
  await expectError(() => iot.send(new UpdatePackageCommand({ packageName: name, unsetDefaultVersion: true })), 'ResourceNotFoundException', 404);
  await expectError(() => iot.send(new GetPackageCommand({ packageName: name })), 'ResourceNotFoundException', 404);
});

test('UpdatePackage changes the description and moves lastModifiedDate, not creationDate', async () => {
  const name = uniq('upd');
  await iot.send(new CreatePackageCommand({ packageName: name, description: 'v1' }));
  const first = await iot.send(new GetPackageCommand({ packageName: name }));
  await clockPast(first.lastModifiedDate!);
  assert.deepEqual(body(await iot.send(new UpdatePackageCommand({ packageName: name, description: 'v2' }))), {});
  const second = await iot.send(new GetPackageCommand({ packageName: name }));
  assert.equal(second.description, 'v2');
  assert.equal(second.creationDate!.getTime(), first.creationDate!.getTime());
  assert.ok(second.lastModifiedDate!.getTime() > first.lastModifiedDate!.getTime());
  await iot.send(new UpdatePackageCommand({ packageName: name }));
  assert.equal((await iot.send(new GetPackageCommand({ packageName: name }))).description, 'v2', 'an update without a description keeps it');
});

test('the default version: only an existing PUBLISHED or DEPRECATED version, shown by Get and List, cleared by unsetDefaultVersion', async () => {
  const client = freshAccount();
  const name = 'with-default';
  await client.send(new CreatePackageCommand({ packageName: name }));
  await client.send(new CreatePackageVersionCommand({ packageName: name, versionName: 'draft' }));
  await publishedVersion(client, name, 'published');
  await publishedVersion(client, name, 'deprecated', true);
  const defaultOf = async () => ({
    get: (await client.send(new GetPackageCommand({ packageName: name }))).defaultVersionName,
    list: (await client.send(new ListPackagesCommand({}))).packageSummaries!.find((p) => p.packageName === name)!.defaultVersionName,
  });

  await expectError(
    () => client.send(new UpdatePackageCommand({ packageName: name, defaultVersionName: 'published', unsetDefaultVersion: true })),
    'ValidationException',
    400,
  );
  await expectError(() => client.send(new UpdatePackageCommand({ packageName: name, defaultVersionName: 'nope' })), 'ResourceNotFoundException', 404, /nope/);
  const draft = await expectError(() => client.send(new UpdatePackageCommand({ packageName: name, defaultVersionName: 'draft' })), 'ConflictException', 409);
  assert.equal(draft.body.resourceId, 'draft');
  await expectError(
    () => client.send(new UpdatePackageCommand({ packageName: name, defaultVersionName: 'bad name' })),
    'ValidationException',
    400,
    invalid('defaultVersionName', 'satisfy regular expression pattern'),
  );
  assert.deepEqual(await defaultOf(), { get: undefined, list: undefined });

  await client.send(new UpdatePackageCommand({ packageName: name, defaultVersionName: 'published' }));
  assert.deepEqual(await defaultOf(), { get: 'published', list: 'published' });
  await client.send(new UpdatePackageCommand({ packageName: name, defaultVersionName: 'deprecated' }));
  assert.deepEqual(await defaultOf(), { get: 'deprecated', list: 'deprecated' });
  await client.send(new UpdatePackageCommand({ packageName: name, description: 'only the description' }));
  assert.deepEqual(await defaultOf(), { get: 'deprecated', list: 'deprecated' }, 'an update that does not name the default keeps it');
  await client.send(new UpdatePackageCommand({ packageName: name, unsetDefaultVersion: true }));
  assert.deepEqual(await defaultOf(), { get: undefined, list: undefined });
  await client.send(new UpdatePackageCommand({ packageName: name, defaultVersionName: 'published', unsetDefaultVersion: false }));
  assert.deepEqual(await defaultOf(), { get: 'published', list: 'published' });
});

test('DeletePackage: missing packages delete fine, packages with versions are refused', async () => {
  const name = uniq('del');
  await iot.send(new DeletePackageCommand({ packageName: name }));
  await iot.send(new CreatePackageCommand({ packageName: name }));
  await iot.send(new CreatePackageVersionCommand({ packageName: name, versionName: '1.0' }));
  await expectError(() => iot.send(new DeletePackageCommand({ packageName: name })), 'ValidationException', 400, /version/);
  assert.equal((await iot.send(new GetPackageCommand({ packageName: name }))).packageName, name);
  await iot.send(new DeletePackageVersionCommand({ packageName: name, versionName: '1.0' }));
  assert.deepEqual(body(await iot.send(new DeletePackageCommand({ packageName: name }))), {});
  await expectError(() => iot.send(new GetPackageCommand({ packageName: name })), 'ResourceNotFoundException', 404);
  await iot.send(new DeletePackageCommand({ packageName: name }));
  await iot.send(new CreatePackageCommand({ packageName: name }));
  assert.equal((await iot.send(new ListPackageVersionsCommand({ packageName: name }))).packageVersionSummaries!.length, 0, 'a re-created package starts empty');
});

test('ListPackages orders by name (byte order) and gives summaries with dates', async () => {
  const client = freshAccount();
  const names = ['beta', 'Alpha', 'alpha', 'alpha-1', 'alpha.1', 'alpha_1', '9lives', 'zulu', 'Zulu'];
  for (const packageName of names) await client.send(new CreatePackageCommand({ packageName }));
  const listed = await client.send(new ListPackagesCommand({}));
  assert.deepEqual(
    listed.packageSummaries!.map((p) => p.packageName),
    ['9lives', 'Alpha', 'Zulu', 'alpha', 'alpha-1', 'alpha.1', 'alpha_1', 'beta', 'zulu'],
  );
  assert.equal(listed.nextToken, undefined);
  for (const summary of listed.packageSummaries as PackageSummary[]) {
    assert.ok(summary.creationDate instanceof Date && summary.lastModifiedDate instanceof Date);
    assert.equal(summary.defaultVersionName, undefined);
  }
  assert.deepEqual((await freshAccount().send(new ListPackagesCommand({}))).packageSummaries, [], 'an empty account lists nothing');
});

test('ListPackages pages with maxResults: every package once, in order, no empty last page', async () => {
  const client = freshAccount();
  const names = Array.from({ length: 8 }, (_, i) => `page-${String.fromCharCode(104 - i)}`); // created in reverse order
  for (const packageName of names) await client.send(new CreatePackageCommand({ packageName }));
  assert.deepEqual(await listAll(client, 3), { names: byteOrder(names), pages: [3, 3, 2] });
  assert.deepEqual(await listAll(client, 4), { names: byteOrder(names), pages: [4, 4] });
  assert.deepEqual(await listAll(client, 1), { names: byteOrder(names), pages: [1, 1, 1, 1, 1, 1, 1, 1] });
  assert.deepEqual(await listAll(client, 100), { names: byteOrder(names), pages: [8] });

  const viaPaginator: string[] = [];
  for await (const page of paginateListPackages({ client, pageSize: 3 }, {})) viaPaginator.push(...page.packageSummaries!.map((p) => p.packageName!));
  assert.deepEqual(viaPaginator, byteOrder(names));
});

test('ListPackages without maxResults serves pages of 100', async () => {
  const client = freshAccount();
  const names = Array.from({ length: 101 }, (_, i) => `bulk-${String(i).padStart(3, '0')}`);
  await Promise.all(names.map((packageName) => client.send(new CreatePackageCommand({ packageName }))));
  const first = await client.send(new ListPackagesCommand({}));
  assert.equal(first.packageSummaries!.length, 100);
  assert.ok(first.nextToken);
  const second = await client.send(new ListPackagesCommand({ nextToken: first.nextToken }));
  assert.deepEqual(
    second.packageSummaries!.map((p) => p.packageName),
    ['bulk-100'],
  );
  assert.equal(second.nextToken, undefined);
});

test('maxResults must be 1 to 100', async () => {
  for (const maxResults of [0, 101, -1]) {
    await expectError(() => iot.send(new ListPackagesCommand({ maxResults })), 'ValidationException', 400, invalid('maxResults', 'have value'));
  }
  assert.ok(Array.isArray((await iot.send(new ListPackagesCommand({ maxResults: 100 }))).packageSummaries));
});

test('pages stay correct when packages are created and deleted between them', async () => {
  const client = freshAccount();
  for (const packageName of ['b', 'd', 'f', 'h', 'j', 'l']) await client.send(new CreatePackageCommand({ packageName }));
  const first = await client.send(new ListPackagesCommand({ maxResults: 3 }));
  assert.deepEqual(
    first.packageSummaries!.map((p) => p.packageName),
    ['b', 'd', 'f'],
  );

  await client.send(new CreatePackageCommand({ packageName: 'a' })); // before the cursor: not served
  await client.send(new CreatePackageCommand({ packageName: 'e' })); // before the cursor: not served
  await client.send(new CreatePackageCommand({ packageName: 'g' })); // after the cursor: served
  await client.send(new DeletePackageCommand({ packageName: 'f' })); // the cursor itself
  await client.send(new DeletePackageCommand({ packageName: 'b' })); // already served
  await client.send(new DeletePackageCommand({ packageName: 'j' })); // not yet served: not served

  const rest: string[] = [];
  let nextToken = first.nextToken;
  while (nextToken) {
    const page = await client.send(new ListPackagesCommand({ maxResults: 3, nextToken }));
    rest.push(...page.packageSummaries!.map((p) => p.packageName!));
    nextToken = page.nextToken;
  }
  assert.deepEqual(rest, ['g', 'h', 'l']);
});

test('a nextToken that ListPackages did not issue is a ValidationException', async () => {
  const name = uniq('tok');
  await iot.send(new CreatePackageCommand({ packageName: name }));
  await iot.send(new CreatePackageVersionCommand({ packageName: name, versionName: 'a' }));
  await iot.send(new CreatePackageVersionCommand({ packageName: name, versionName: 'b' }));
  const versionsToken = (await iot.send(new ListPackageVersionsCommand({ packageName: name, maxResults: 1 }))).nextToken;
  assert.ok(versionsToken);
  const forged = Buffer.from(JSON.stringify({ v: 99, l: 'packages', a: ['x'] })).toString('base64url');
  for (const nextToken of ['garbage', '%%%', 'eyJ9', versionsToken, forged]) {
    await expectError(() => iot.send(new ListPackagesCommand({ nextToken })), 'ValidationException', 400, /nextToken/);
  }
});

test('CreatePackage replays its first response for a repeated clientToken and creates once', async () => {
  const client = freshAccount();
  const clientToken = randomUUID();
  const request = { packageName: 'idem', description: 'once', tags: { team: 'a', cost: 'b' }, clientToken };
  const first = await client.send(new CreatePackageCommand(request));
  const created = await client.send(new GetPackageCommand({ packageName: 'idem' }));
  const again = await client.send(new CreatePackageCommand(request));
  assert.deepEqual(body(again), body(first));
  // The same map with its keys in another order is the same request.
  const reordered = await client.send(new CreatePackageCommand({ ...request, tags: { cost: 'b', team: 'a' } }));
  assert.deepEqual(body(reordered), body(first));
  assert.deepEqual((await listAll(client)).names, ['idem']);
  const still = await client.send(new GetPackageCommand({ packageName: 'idem' }));
  assert.equal(still.creationDate!.getTime(), created.creationDate!.getTime());
  assert.equal(still.lastModifiedDate!.getTime(), created.lastModifiedDate!.getTime());

  // The replay answers from the record and does not run again: a deleted package is not brought back.
  await client.send(new DeletePackageCommand({ packageName: 'idem' }));
  assert.deepEqual(body(await client.send(new CreatePackageCommand(request))), body(first));
  assert.deepEqual((await listAll(client)).names, []);
});

test('CreatePackage with a used clientToken and a different request is a ConflictException', async () => {
  const client = freshAccount();
  const clientToken = randomUUID();
  await client.send(new CreatePackageCommand({ packageName: 'first', clientToken }));
  await expectError(() => client.send(new CreatePackageCommand({ packageName: 'second', clientToken })), 'ConflictException', 409, new RegExp(clientToken));
  await expectError(() => client.send(new CreatePackageCommand({ packageName: 'first', description: 'changed', clientToken })), 'ConflictException', 409);
  assert.deepEqual((await listAll(client)).names, ['first']);
  // A token belongs to one operation: the same token on UpdatePackage is a new request.
  await client.send(new UpdatePackageCommand({ packageName: 'first', description: 'updated', clientToken }));
  assert.equal((await client.send(new GetPackageCommand({ packageName: 'first' }))).description, 'updated');
});

test('UpdatePackage replays for a repeated clientToken without applying again; a different request conflicts', async () => {
  const name = uniq('idem-upd');
  await iot.send(new CreatePackageCommand({ packageName: name }));
  const clientToken = randomUUID();
  await iot.send(new UpdatePackageCommand({ packageName: name, description: 'A', clientToken }));
  await iot.send(new UpdatePackageCommand({ packageName: name, description: 'B' }));
  const before = await iot.send(new GetPackageCommand({ packageName: name }));
  await clockPast(before.lastModifiedDate!);
  assert.deepEqual(body(await iot.send(new UpdatePackageCommand({ packageName: name, description: 'A', clientToken }))), {});
  const after = await iot.send(new GetPackageCommand({ packageName: name }));
  assert.equal(after.description, 'B');
  assert.equal(after.lastModifiedDate!.getTime(), before.lastModifiedDate!.getTime());
  await expectError(() => iot.send(new UpdatePackageCommand({ packageName: name, description: 'C', clientToken })), 'ConflictException', 409);
  assert.equal((await iot.send(new GetPackageCommand({ packageName: name }))).description, 'B');
});

test('DeletePackage replays for a repeated clientToken; a different request is a ValidationException', async () => {
  const name = uniq('idem-del');
  const other = uniq('idem-del');
  await iot.send(new CreatePackageCommand({ packageName: name }));
  await iot.send(new CreatePackageCommand({ packageName: other }));
  const clientToken = randomUUID();
  await iot.send(new DeletePackageCommand({ packageName: name, clientToken }));
  await iot.send(new DeletePackageCommand({ packageName: name, clientToken }));
  await expectError(() => iot.send(new DeletePackageCommand({ packageName: other, clientToken })), 'ValidationException', 400, new RegExp(clientToken));
  assert.equal((await iot.send(new GetPackageCommand({ packageName: other }))).packageName, other, 'the refused delete deleted nothing');
});

test('a clientToken must be 36 to 64 non-space characters', async () => {
  for (const clientToken of ['short', 'x'.repeat(65), `${'x'.repeat(20)} ${'x'.repeat(20)}`]) {
    await expectError(() => iot.send(new CreatePackageCommand({ packageName: uniq('tok'), clientToken })), 'ValidationException', 400, /at 'clientToken'/);
  }
});

test('concurrent creates: one clientToken answers all alike; distinct tokens let exactly one win', async () => {
  const client = freshAccount();
  const clientToken = randomUUID();
  const same = await Promise.all(Array.from({ length: 6 }, () => client.send(new CreatePackageCommand({ packageName: 'race-token', clientToken }))));
  for (const out of same) assert.deepEqual(body(out), body(same[0]));

  const results = await Promise.allSettled(Array.from({ length: 6 }, () => client.send(new CreatePackageCommand({ packageName: 'race-name' }))));
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
  for (const r of results) if (r.status === 'rejected') assert.equal((r.reason as Error).name, 'ConflictException');
  assert.deepEqual((await listAll(client)).names, ['race-name', 'race-token']);
});
