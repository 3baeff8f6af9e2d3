// The embedded broker end to end: real MQTT clients (3.1.1 and 5) against a running Flotilla.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { DeviceMessage, TopicHandler } from '../src/bus/types.ts';
import { connectivity } from '../src/store/mqtt.ts';
import { Store } from '../src/store/store.ts';
import { connectDevice } from './support/mqtt.ts';
import { eventually, startTestServer, type TestServer } from './support/server.ts';

/** Answers `$aws/things/{thing}/shadow/name/echo/get` with the request on `/accepted`, as a real handler would. */
const seen: DeviceMessage[] = [];
const echo: TopicHandler = {
  accepts: (topic) => /^\$aws\/things\/[^/]+\/shadow\/name\/echo\/get$/.test(topic),
  async handle(message) {
    seen.push(message);
    return [{ topic: `${message.topic}/accepted`, payload: JSON.stringify({ echo: message.payload.toString(), clientId: message.clientId }) }];
  },
};

describe('embedded broker', () => {
  let server: TestServer;
  let url: string;
  before(async () => {
    server = await startTestServer({ topicHandlers: [echo] });
    url = server.flotilla.mqttUrl!;
  });
  after(() => server?.stop());

  test('listens on a free port and reports its URL', () => {
    assert.match(url, /^mqtt:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(url, 'mqtt://127.0.0.1:0');
  });

  for (const protocolVersion of [4, 5] as const) {
    test(`routes a device request to its handler and delivers the reply (MQTT ${protocolVersion === 4 ? '3.1.1' : '5'})`, async () => {
      const device = await connectDevice(url, { protocolVersion, clientId: `dev-${protocolVersion}` });
      try {
        // Subscribed to the reply only, never to the request topic.
        await device.subscribe('$aws/things/t1/shadow/name/echo/get/accepted');
        await device.publish('$aws/things/t1/shadow/name/echo/get', '{"clientToken":"a"}');
        const reply = await device.nextJson('$aws/things/t1/shadow/name/echo/get/accepted');
        assert.deepEqual(reply, { echo: '{"clientToken":"a"}', clientId: `dev-${protocolVersion}` });
        assert.deepEqual(seen.at(-1)?.scope, { account: '000000000000', region: 'us-east-1' });
      } finally {
        await device.end();
      }
    });
  }

  test('Flotilla does not route its own publishes back to the handlers', async () => {
    const before = seen.length;
    const device = await connectDevice(url);
    try {
      await device.subscribe('$aws/things/t2/shadow/name/echo/get/#');
      await device.publish('$aws/things/t2/shadow/name/echo/get', 'x');
      await device.next('$aws/things/t2/shadow/name/echo/get/accepted');
      await new Promise((resolve) => setTimeout(resolve, 200));
      // One request seen; the reply on …/accepted (published by Flotilla) was not handed to any handler.
      assert.equal(seen.length, before + 1);
    } finally {
      await device.end();
    }
  });

  test('plain topics pass between devices', async () => {
    const a = await connectDevice(url);
    const b = await connectDevice(url);
    try {
      await b.subscribe('fleet/+/telemetry');
      await a.publish('fleet/x/telemetry', 'hello');
      assert.equal((await b.next('fleet/x/telemetry')).payload.toString(), 'hello');
    } finally {
      await a.end();
      await b.end();
    }
  });
});

describe('what a device may publish', () => {
  let server: TestServer;
  before(async () => (server = await startTestServer()));
  after(() => server?.stop());

  for (const topic of [
    '$aws/things/t/shadow/update/accepted',
    '$aws/things/t/shadow/name/n/update/delta',
    '$aws/things/t/shadow/update/documents',
    '$aws/things/t/jobs/get/rejected',
    '$aws/things/t/jobs/notify',
    '$aws/things/t/jobs/notify-next',
    '$aws/events/presence/connected/someone',
  ]) {
    test(`a device publishing on ${topic} is disconnected and nobody receives it`, async () => {
      const listener = await connectDevice(server.flotilla.mqttUrl!, { protocolVersion: 4 });
      const forger = await connectDevice(server.flotilla.mqttUrl!, { protocolVersion: 4 });
      try {
        await listener.subscribe(topic);
        const closed = new Promise<void>((resolve) => forger.client.once('close', () => resolve()));
        forger.client.publish(topic, 'forged', { qos: 1 });
        await closed;
        await new Promise((resolve) => setTimeout(resolve, 100));
        assert.equal(listener.received.length, 0);
      } finally {
        await listener.end();
        await forger.end().catch(() => {});
      }
    });
  }

  test('request topics and plain topics are allowed', async () => {
    const device = await connectDevice(server.flotilla.mqttUrl!);
    try {
      await device.subscribe(['$aws/things/t/shadow/update', 'a/b']);
      await device.publish('$aws/things/t/shadow/update', '{}');
      await device.publish('a/b', 'x');
      await device.next('$aws/things/t/shadow/update');
      await device.next('a/b');
      assert.equal(device.client.connected, true);
    } finally {
      await device.end();
    }
  });
});

describe('connectivity and lifecycle events', () => {
  let server: TestServer;
  let store: Store;
  before(async () => {
    server = await startTestServer();
    store = await Store.open(server.database);
  });
  after(async () => {
    await store?.close();
    await server?.stop();
  });
  const scope = { account: '000000000000', region: 'us-east-1' };

  test('connect and a clean disconnect: a row per client id and AWS presence events', async () => {
    const watcher = await connectDevice(server.flotilla.mqttUrl!, { clientId: 'watcher' });
    try {
      await watcher.subscribe('$aws/events/presence/+/+');
      const before = Date.now();
      const device = await connectDevice(server.flotilla.mqttUrl!, { clientId: 'sensor-1', protocolVersion: 4, username: 'alice' });
      const connected = await watcher.nextJson('$aws/events/presence/connected/sensor-1');
      assert.deepEqual(Object.keys(connected).sort(), [
        'clientId',
        'eventType',
        'ipAddress',
        'principalIdentifier',
        'sessionIdentifier',
        'timestamp',
        'versionNumber',
      ]);
      assert.equal(connected.clientId, 'sensor-1');
      assert.equal(connected.eventType, 'connected');
      assert.equal(connected.ipAddress, '127.0.0.1');
      assert.equal(connected.principalIdentifier, 'alice');
      assert.ok(connected.timestamp >= before && connected.timestamp <= Date.now());
      const row = await connectivity.get(store.db, scope, 'sensor-1');
      assert.equal(row?.connected, 1);
      assert.equal(row?.version_number, connected.versionNumber);

      await device.end();
      const gone = await watcher.nextJson('$aws/events/presence/disconnected/sensor-1');
      assert.equal(gone.eventType, 'disconnected');
      assert.equal(gone.disconnectReason, 'CLIENT_INITIATED_DISCONNECT');
      assert.equal(gone.clientInitiatedDisconnect, true);
      assert.equal(gone.sessionIdentifier, connected.sessionIdentifier);
      assert.equal(gone.versionNumber, connected.versionNumber);
      const after = await connectivity.get(store.db, scope, 'sensor-1');
      assert.equal(after?.connected, 0);
      assert.equal(after?.disconnect_reason, 'CLIENT_INITIATED_DISCONNECT');
      assert.ok(after!.disconnected_at! >= connected.timestamp);
    } finally {
      await watcher.end();
    }
  });

  test('a lost connection and a duplicate client id say why', async () => {
    const watcher = await connectDevice(server.flotilla.mqttUrl!, { clientId: 'watcher-2' });
    try {
      await watcher.subscribe('$aws/events/presence/+/+');
      const first = await connectDevice(server.flotilla.mqttUrl!, { clientId: 'dup', protocolVersion: 5 });
      const one = await watcher.nextJson('$aws/events/presence/connected/dup');
      const second = await connectDevice(server.flotilla.mqttUrl!, { clientId: 'dup', protocolVersion: 5 });
      const dropped = await watcher.nextJson('$aws/events/presence/disconnected/dup');
      assert.equal(dropped.disconnectReason, 'DUPLICATE_CLIENTID');
      assert.equal(dropped.clientInitiatedDisconnect, false);
      assert.equal(dropped.versionNumber, one.versionNumber);
      const two = await watcher.nextJson('$aws/events/presence/connected/dup');
      assert.equal(two.versionNumber, one.versionNumber + 1);
      // The newer connection is the one on record.
      await eventually(async () => assert.equal((await connectivity.get(store.db, scope, 'dup'))?.connected, 1));
      assert.equal((await connectivity.get(store.db, scope, 'dup'))?.version_number, two.versionNumber);

      second.client.stream.destroy(); // no DISCONNECT packet
      const lost = await watcher.nextJson('$aws/events/presence/disconnected/dup');
      assert.equal(lost.disconnectReason, 'CONNECTION_LOST');
      await first.end().catch(() => {});
      second.client.end(true);
    } finally {
      await watcher.end();
    }
  });
});

describe('retained messages survive a restart', () => {
  test("a device's retained message is kept in the store and held again by the next broker", async () => {
    const dataServer = await startTestServer();
    const { dataDir, database } = dataServer;
    const device = await connectDevice(dataServer.flotilla.mqttUrl!);
    await device.publish('fleet/config', 'v1', { retain: true });
    await device.publish('fleet/gone', 'x', { retain: true });
    await device.publish('fleet/gone', '', { retain: true }); // an empty retained payload deletes it
    await device.end();
    const store = await Store.open(database);
    await eventually(async () =>
      assert.deepEqual(
        (await store.db.selectFrom('retained_messages').select('topic').execute()).map((r) => r.topic),
        ['fleet/config'],
      ),
    );
    await store.close();
    await dataServer.flotilla.stop();

    const { startFlotilla } = await import('../src/index.ts');
    const again = await startFlotilla({ port: 0, mqttPort: 0, dataDir, database, logLevel: 'error' });
    try {
      const late = await connectDevice(again.mqttUrl!);
      await late.subscribe('fleet/#');
      const m = await late.next('fleet/config');
      assert.equal(m.payload.toString(), 'v1');
      assert.equal(m.retain, true);
      await late.end();
    } finally {
      await again.stop();
      await dataServer.stop().catch(() => {});
    }
  });
});
