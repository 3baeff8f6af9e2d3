// End to end through @aws-sdk/client-iot-data-plane: classic and named shadows, merge, delete, delta, versions,
// limits, errors, ListNamedShadowsForThing, the `$package` shadow and reportPackageVersions.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  DeleteThingShadowCommand,
  GetThingShadowCommand,
  IoTDataPlaneClient,
  ListNamedShadowsForThingCommand,
  UpdateThingShadowCommand,
} from '@aws-sdk/client-iot-data-plane';
import { Store } from '../src/store/store.ts';
import { reportPackageVersions } from '../src/services/shadows.ts';
import { expectError, startTestServer, type TestServer } from './support/server.ts';

let server: TestServer;
let data: IoTDataPlaneClient;
const clients: IoTDataPlaneClient[] = [];
const dataClient = (accessKeyId = 'AKIDTEST') => {
  const client = new IoTDataPlaneClient({ endpoint: server.endpoint, region: 'us-east-1', credentials: { accessKeyId, secretAccessKey: 's' }, maxAttempts: 1 });
  clients.push(client);
  return client;
};
before(async () => {
  server = await startTestServer();
  data = dataClient();
});
after(async () => {
  for (const c of clients) c.destroy();
  await server.stop();
});

let counter = 0;
const uniq = (label: string) => `${label}-${++counter}`;
const body = (value: unknown) => new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));
const parse = (payload: Uint8Array | undefined) => JSON.parse(new TextDecoder().decode(payload));

async function put(thingName: string, doc: unknown, shadowName?: string, client = data) {
  return parse((await client.send(new UpdateThingShadowCommand({ thingName, shadowName, payload: body(doc) }))).payload);
}
async function get(thingName: string, shadowName?: string, client = data) {
  return parse((await client.send(new GetThingShadowCommand({ thingName, shadowName }))).payload);
}

test('update, get, merge and delete a classic shadow', async () => {
  const thing = uniq('lamp');
  const before = Math.floor(Date.now() / 1000);
  const accepted = await put(thing, { state: { desired: { color: 'red', power: { on: true } } }, clientToken: 'c1' });
  assert.equal(accepted.version, 1);
  assert.equal(accepted.clientToken, 'c1');
  assert.deepEqual(accepted.state, { desired: { color: 'red', power: { on: true } } });
  assert.ok(accepted.metadata.desired.color.timestamp >= before);
  assert.deepEqual(Object.keys(accepted.metadata.desired.power), ['on']);

  await put(thing, { state: { reported: { color: 'blue', power: { on: true }, temp: 21 } } });
  const doc = await get(thing);
  assert.equal(doc.version, 2);
  assert.deepEqual(doc.state, {
    desired: { color: 'red', power: { on: true } },
    reported: { color: 'blue', power: { on: true }, temp: 21 },
    delta: { color: 'red' },
  });
  assert.ok(doc.metadata.reported.temp.timestamp >= before);
  assert.equal(typeof doc.timestamp, 'number');

  await put(thing, { state: { reported: { color: 'red', temp: null } } });
  const synced = await get(thing);
  assert.deepEqual(synced.state, { desired: { color: 'red', power: { on: true } }, reported: { color: 'red', power: { on: true } } });
  assert.equal(synced.metadata.reported.temp, undefined);

  const deleted = parse((await data.send(new DeleteThingShadowCommand({ thingName: thing }))).payload);
  assert.equal(deleted.version, 3);
  assert.equal(typeof deleted.timestamp, 'number');
  await expectError(
    () => data.send(new GetThingShadowCommand({ thingName: thing })),
    'ResourceNotFoundException',
    404,
    new RegExp(`^No shadow exists with name: '${thing}'$`),
  );
  await expectError(() => data.send(new DeleteThingShadowCommand({ thingName: thing })), 'ResourceNotFoundException', 404, /No shadow exists/);
  // Deleting does not reset the version.
  assert.equal((await put(thing, { state: { reported: { x: 1 } } })).version, 4);
  assert.deepEqual((await get(thing)).state, { reported: { x: 1 } });
});

test('named shadows are separate from the classic one and listed by name, with pages', async () => {
  const thing = uniq('multi');
  await put(thing, { state: { reported: { classic: true } } });
  for (const name of ['b-shadow', 'a-shadow', 'c:shadow', 'd_shadow', '$package']) {
    await put(thing, { state: { reported: name === '$package' ? { fw: { version: '1' } } : { name } } }, name);
  }
  assert.deepEqual((await get(thing, 'a-shadow')).state, { reported: { name: 'a-shadow' } });
  assert.deepEqual((await get(thing)).state, { reported: { classic: true } });
  await expectError(
    () => data.send(new GetThingShadowCommand({ thingName: thing, shadowName: 'nope' })),
    'ResourceNotFoundException',
    404,
    new RegExp(`^No shadow exists with name: '${thing}~nope'$`),
  );

  const all = await data.send(new ListNamedShadowsForThingCommand({ thingName: thing }));
  assert.deepEqual(all.results, ['$package', 'a-shadow', 'b-shadow', 'c:shadow', 'd_shadow']);
  assert.equal(all.nextToken, undefined);
  assert.ok(Math.abs(Number(all.timestamp) - Date.now() / 1000) < 60);

  await data.send(new DeleteThingShadowCommand({ thingName: thing, shadowName: 'b-shadow' }));
  const names: string[] = [];
  let nextToken: string | undefined;
  let pages = 0;
  do {
    const page = await data.send(new ListNamedShadowsForThingCommand({ thingName: thing, pageSize: 2, nextToken }));
    names.push(...(page.results ?? []));
    nextToken = page.nextToken;
    pages++;
  } while (nextToken);
  assert.deepEqual(names, ['$package', 'a-shadow', 'c:shadow', 'd_shadow']);
  assert.equal(pages, 2);
  assert.deepEqual((await data.send(new ListNamedShadowsForThingCommand({ thingName: uniq('none') }))).results, []);
  await expectError(() => data.send(new ListNamedShadowsForThingCommand({ thingName: thing, nextToken: 'garbage' })), 'InvalidRequestException', 400);
  await expectError(() => data.send(new ListNamedShadowsForThingCommand({ thingName: thing, pageSize: 101 })), 'InvalidRequestException', 400);
});

test('optimistic versions: a stale version is a 409 ConflictException and changes nothing', async () => {
  const thing = uniq('ver');
  await put(thing, { state: { desired: { a: 1 } } });
  assert.equal((await put(thing, { state: { desired: { a: 2 } }, version: 1 })).version, 2);
  await expectError(() => put(thing, { state: { desired: { a: 3 } }, version: 1 }), 'ConflictException', 409, /^Version conflict$/);
  const doc = await get(thing);
  assert.equal(doc.version, 2);
  assert.deepEqual(doc.state.desired, { a: 2 });
});

test('bad documents get AWS errors and write nothing', async () => {
  const thing = uniq('bad');
  await expectError(() => put(thing, '{not json'), 'InvalidRequestException', 400, /^Payload contains invalid json$/);
  await expectError(() => put(thing, { clientToken: 'x' }), 'InvalidRequestException', 400, /^Missing required node: state$/);
  await expectError(() => put(thing, { state: [] }), 'InvalidRequestException', 400, /^State node must be an object$/);
  await expectError(() => put(thing, { state: { desired: 1 } }), 'InvalidRequestException', 400, /^Desired node must be an object$/);
  await expectError(() => put(thing, { state: {}, version: -1 }), 'InvalidRequestException', 400, /^Invalid version$/);
  await expectError(() => put(thing, { state: {}, clientToken: 't'.repeat(65) }), 'InvalidRequestException', 400, /^Invalid clientToken$/);
  await expectError(
    () => put(thing, { state: { desired: { a: { b: { c: { d: { e: { f: { g: 1 } } } } } } } } }),
    'InvalidRequestException',
    400,
    /maximum is 6/,
  );
  await expectError(
    () => put(thing, { state: { reported: { blob: 'x'.repeat(9000) } } }),
    'RequestEntityTooLargeException',
    413,
    /^The payload exceeds the maximum size allowed$/,
  );
  await expectError(
    () => data.send(new UpdateThingShadowCommand({ thingName: thing, payload: new Uint8Array([0x7b, 0xc3, 0x28, 0x7d]) })),
    'UnsupportedDocumentEncodingException',
    415,
    /UTF-8/,
  );
  await expectError(() => data.send(new GetThingShadowCommand({ thingName: thing })), 'ResourceNotFoundException', 404);
  await expectError(() => data.send(new GetThingShadowCommand({ thingName: 'bad/name' })), 'InvalidRequestException', 400);
  // The 8 KB limit holds for the merged document too.
  await put(thing, { state: { reported: { a: 'x'.repeat(5000) } } });
  await expectError(() => put(thing, { state: { reported: { b: 'y'.repeat(5000) } } }), 'RequestEntityTooLargeException', 413);
  assert.deepEqual(Object.keys((await get(thing)).state.reported), ['a']);
});

test('shadows are per account and region', async () => {
  const thing = uniq('scoped');
  await put(thing, { state: { reported: { who: 'default' } } });
  const other = dataClient('123456789012');
  await expectError(() => other.send(new GetThingShadowCommand({ thingName: thing })), 'ResourceNotFoundException', 404);
  await put(thing, { state: { reported: { who: 'other' } } }, undefined, other);
  assert.equal((await get(thing)).state.reported.who, 'default');
  assert.equal((await get(thing, undefined, other)).state.reported.who, 'other');
});

test('$package: reported packages only, and reportPackageVersions merges versions for the engine', async () => {
  const thing = uniq('device');
  const name = '$package';
  await put(thing, { state: { reported: { firmware: { version: '1.0.0', attributes: { os: 'linux' } }, agent: { version: '3' } } } }, name);
  await expectError(() => put(thing, { state: { desired: { firmware: { version: '2' } } } }, name), 'InvalidRequestException', 400, /only a reported section/);
  await expectError(
    () => put(thing, { state: { reported: { firmware: { version: '2', note: 'x' } } } }, name),
    'InvalidRequestException',
    400,
    /version and attributes/,
  );

  const store = await Store.open(server.database);
  try {
    const scope = { account: '000000000000', region: 'us-east-1' };
    const accepted = await store.transaction((tx) => reportPackageVersions(tx, scope, thing, { firmware: '2.0.0', agent: null, bootloader: '7' }));
    assert.equal(accepted.version, 2);
  } finally {
    await store.close();
  }
  const doc = await get(thing, name);
  assert.deepEqual(doc.state, { reported: { firmware: { version: '2.0.0', attributes: { os: 'linux' } }, bootloader: { version: '7' } } });
  assert.equal(doc.version, 2);
});

test('concurrent first writes to one shadow queue on it: every field lands, versions 1..n', async () => {
  const thing = uniq('race');
  const n = 12;
  const results = await Promise.all(Array.from({ length: n }, (_, i) => put(thing, { state: { reported: { [`f${i}`]: i } } }, 'raced')));
  assert.deepEqual(
    results.map((r) => r.version).sort((a, b) => a - b),
    Array.from({ length: n }, (_, i) => i + 1),
  );
  const doc = await get(thing, 'raced');
  assert.equal(doc.version, n);
  assert.equal(Object.keys(doc.state.reported).length, n);
});
