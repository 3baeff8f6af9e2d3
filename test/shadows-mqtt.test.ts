// Shadows over MQTT end to end against the embedded broker: `mqtt` (3.1.1 and 5) devices, the aws-iot-device-sdk-v2
// `iotshadow` client over its MQTT 5 client, and HTTP updates reaching MQTT subscribers (/accepted, /delta, /documents).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { GetThingShadowCommand, IoTDataPlaneClient, UpdateThingShadowCommand } from '@aws-sdk/client-iot-data-plane';
import { reportPackageVersions } from '../src/services/shadows.ts';
import { Store } from '../src/store/store.ts';
import { connectDevice, countQuiet, type TestDevice } from './support/mqtt.ts';
import { startTestServer, type TestServer } from './support/server.ts';

/** The SDK device runs as a plain Node child process (see the script's header for why). */
const SDK_DEVICE = fileURLToPath(new URL('./support/shadow-sdk-device.mjs', import.meta.url));

let server: TestServer;
let url: string;
let data: IoTDataPlaneClient;
before(async () => {
  server = await startTestServer();
  url = server.flotilla.mqttUrl!;
  data = new IoTDataPlaneClient({
    endpoint: server.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 's' },
    maxAttempts: 1,
  });
});
after(async () => {
  data.destroy();
  await server.stop();
});

let counter = 0;
const uniq = (label: string) => `${label}-${++counter}`;
const replies = (prefix: string) => ['accepted', 'rejected'].map((r) => `${prefix}/${r}`);

for (const protocolVersion of [4, 5] as const) {
  describe(`mqtt client, MQTT ${protocolVersion === 4 ? '3.1.1' : '5'}`, () => {
    let device: TestDevice;
    before(async () => {
      device = await connectDevice(url, { protocolVersion });
    });
    after(() => device.end());

    test('update, delta, documents, get and delete on the classic shadow', async () => {
      const thing = uniq('dev');
      const base = `$aws/things/${thing}/shadow`;
      await device.subscribe([
        ...replies(`${base}/update`),
        `${base}/update/delta`,
        `${base}/update/documents`,
        ...replies(`${base}/get`),
        ...replies(`${base}/delete`),
      ]);

      await device.publish(`${base}/update`, JSON.stringify({ state: { desired: { led: 'on', fan: 2 } }, clientToken: 'u1' }));
      const accepted = await device.nextJson(`${base}/update/accepted`);
      assert.equal(accepted.version, 1);
      assert.equal(accepted.clientToken, 'u1');
      const delta = await device.nextJson(`${base}/update/delta`);
      assert.deepEqual(delta.state, { led: 'on', fan: 2 });
      assert.equal(delta.version, 1);
      assert.equal(typeof delta.metadata.led.timestamp, 'number');
      const docs = await device.nextJson(`${base}/update/documents`);
      assert.equal(docs.previous, undefined);
      assert.deepEqual(docs.current.state, { desired: { led: 'on', fan: 2 } });

      // The device reports half: documents again, and no delta for a report.
      await device.publish(`${base}/update`, JSON.stringify({ state: { reported: { led: 'on' } } }));
      await device.nextJson(`${base}/update/accepted`);
      const docs2 = await device.nextJson(`${base}/update/documents`);
      assert.equal(docs2.previous.version, 1);
      assert.equal(docs2.current.version, 2);
      assert.equal(await countQuiet(device, `${base}/update/delta`), 0);

      await device.publish(`${base}/get`, JSON.stringify({ clientToken: 'g' }));
      const got = await device.nextJson(`${base}/get/accepted`);
      assert.deepEqual(got.state, { desired: { led: 'on', fan: 2 }, reported: { led: 'on' }, delta: { fan: 2 } });
      assert.equal(got.clientToken, 'g');

      await device.publish(`${base}/delete`, '');
      assert.equal((await device.nextJson(`${base}/delete/accepted`)).version, 2);
      await device.publish(`${base}/get`, '');
      const missing = await device.nextJson(`${base}/get/rejected`);
      assert.equal(missing.code, 404);
      assert.equal(missing.message, `No shadow exists with name: '${thing}'`);
    });

    test('refusals arrive on /rejected with the error document', async () => {
      const thing = uniq('bad');
      const base = `$aws/things/${thing}/shadow/name/conf`;
      await device.subscribe(replies(`${base}/update`));
      await device.publish(`${base}/update`, '{"state":');
      assert.deepEqual(Object.keys(await device.nextJson(`${base}/update/rejected`)).sort(), ['code', 'message', 'timestamp']);
      await device.publish(`${base}/update`, JSON.stringify({ state: { reported: { a: 1 } }, version: 3, clientToken: 'v' }));
      const conflict = await device.nextJson(`${base}/update/rejected`);
      assert.deepEqual([conflict.code, conflict.message, conflict.clientToken], [409, 'Version conflict', 'v']);
      await device.publish(`${base}/update`, JSON.stringify({ state: { reported: { a: 'x'.repeat(9000) } } }));
      assert.equal((await device.nextJson(`${base}/update/rejected`)).code, 413);
      assert.equal(await countQuiet(device, `${base}/update/accepted`), 0);
    });
  });
}

test('HTTP updates reach MQTT subscribers: /accepted, /delta and /documents', async () => {
  const device = await connectDevice(url);
  try {
    const thing = uniq('http');
    const base = `$aws/things/${thing}/shadow/name/settings`;
    await device.subscribe([`${base}/update/accepted`, `${base}/update/delta`, `${base}/update/documents`]);
    const payload = new TextEncoder().encode(JSON.stringify({ state: { desired: { mode: 'eco' } }, clientToken: 'web' }));
    await data.send(new UpdateThingShadowCommand({ thingName: thing, shadowName: 'settings', payload }));
    assert.equal((await device.nextJson(`${base}/update/accepted`)).clientToken, 'web');
    assert.deepEqual((await device.nextJson(`${base}/update/delta`)).state, { mode: 'eco' });
    assert.deepEqual((await device.nextJson(`${base}/update/documents`)).current.state, { desired: { mode: 'eco' } });
  } finally {
    await device.end();
  }
});

test('reportPackageVersions publishes the $package change to devices', async () => {
  const device = await connectDevice(url);
  const store = await Store.open(server.database);
  try {
    const thing = uniq('pkg');
    const base = `$aws/things/${thing}/shadow/name/$package`;
    await device.subscribe([`${base}/update/accepted`, `${base}/update/documents`]);
    await store.transaction((tx) => reportPackageVersions(tx, { account: '000000000000', region: 'us-east-1' }, thing, { firmware: '1.2.0' }));
    // This store has no effect runner of its own: the server's runner picks the rows up on its poll.
    const docs = await device.nextJson(`${base}/update/documents`, 10_000);
    assert.deepEqual(docs.current.state, { reported: { firmware: { version: '1.2.0' } } });
    assert.equal((await device.nextJson(`${base}/update/accepted`, 10_000)).version, 1);
  } finally {
    await store.close();
    await device.end();
  }
});

test('aws-iot-device-sdk-v2 iotshadow over its MQTT 5 client: named and classic shadows, delta and updated streams', async () => {
  const thingName = uniq('sdk-thing');
  const child = spawn(process.execPath, [SDK_DEVICE, url, thingName], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = once(child, 'exit');
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const step = async (name: string) => {
    const { value, done } = await lines.next();
    assert.ok(!done, `the SDK device ended before step ${name}`);
    const parsed = JSON.parse(value);
    assert.equal(parsed.step, name);
    return parsed;
  };
  try {
    const named = await step('named');
    assert.equal(named.notFound.code, 404);
    assert.equal(named.notFound.message, `No shadow exists with name: '${thingName}~config'`);
    assert.deepEqual(named.updated.state.desired, { color: 'green', on: true });
    assert.equal(named.updated.version, 1);
    assert.deepEqual(named.got.state.reported, { color: 'green', on: true });
    assert.equal(named.got.state.delta, undefined);
    assert.equal(typeof named.got.metadata.desired.color.timestamp, 'number');
    assert.deepEqual(named.conflict, { code: 409, message: 'Version conflict' });
    assert.equal(named.deleted.version, 1);

    await step('ready');
    await data.send(new UpdateThingShadowCommand({ thingName, payload: new TextEncoder().encode(JSON.stringify({ state: { desired: { temp: 22 } } })) }));
    child.stdin!.write('go\n');
    const classic = await step('classic');
    assert.deepEqual(
      classic.deltas.map((d: any) => [d.version, d.state]),
      [[2, { temp: 22 }]],
    );
    assert.equal(classic.updated.previous.version, 1);
    assert.deepEqual(classic.updated.current.state.desired, { temp: 22 });
    assert.deepEqual(classic.got.state.delta, { temp: 22 });
    const http = JSON.parse(new TextDecoder().decode((await data.send(new GetThingShadowCommand({ thingName }))).payload));
    assert.equal(http.version, classic.got.version);
    assert.deepEqual(await exited, [0, null]);
  } finally {
    child.kill();
  }
});
