// Flotilla on an external broker (the local Mosquitto at 127.0.0.1:1883): shared subscriptions split device requests
// between replicas and answer each once; a broker that does not answer fails startup with a clear error.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { IoTDataPlaneClient, PublishCommand } from '@aws-sdk/client-iot-data-plane';
import type { DeviceMessage, TopicHandler } from '../src/bus/types.ts';
import { startFlotilla } from '../src/index.ts';
import { connectDevice, countQuiet } from './support/mqtt.ts';
import { startTestServer, type TestServer } from './support/server.ts';

const BROKER = process.env.FLOTILLA_TEST_BROKER ?? 'mqtt://127.0.0.1:1883';
const run = Math.random().toString(36).slice(2, 10); // Mosquitto is shared: topics unique to this run

function echo(name: string, seen: DeviceMessage[]): TopicHandler {
  return {
    accepts: (topic) => topic.startsWith(`$aws/things/ext-${run}`) && topic.endsWith('/shadow/name/echo/get'),
    async handle(m) {
      seen.push(m);
      return [{ topic: `${m.topic}/accepted`, payload: JSON.stringify({ by: name, body: m.payload.toString() }) }];
    },
  };
}

describe('external broker', () => {
  const seenA: DeviceMessage[] = [];
  const seenB: DeviceMessage[] = [];
  let a: TestServer;
  let b: TestServer | undefined;
  let shared = false;
  before(async () => {
    a = await startTestServer({ broker: BROKER, topicHandlers: [echo('a', seenA)] });
    const health = (await (await fetch(`${a.endpoint}/_flotilla/health`)).json()) as { mqtt: { broker: string; sharedSubscriptions: boolean } };
    assert.equal(health.mqtt.broker, 'external');
    shared = health.mqtt.sharedSubscriptions;
    // A second replica only where the broker shares $aws topics (MQTT 5); Mosquitto 2.0 does not (docs/decisions.md).
    if (shared) b = await startTestServer({ broker: BROKER, topicHandlers: [echo('b', seenB)] });
  });
  after(async () => {
    await a?.stop();
    await b?.stop();
  });

  test('reports the broker as its MQTT URL and runs no listener of its own', () => {
    assert.equal(a.flotilla.mqttUrl, BROKER);
    assert.equal(a.flotilla.config.mqttPort, 'off');
  });

  for (const protocolVersion of [4, 5] as const) {
    test(`every request is answered exactly once, split between replicas where the broker shares (device on MQTT ${protocolVersion === 4 ? '3.1.1' : '5'})`, async () => {
      const device = await connectDevice(BROKER, { protocolVersion });
      const thing = `ext-${run}-${protocolVersion}`;
      const topic = `$aws/things/${thing}/shadow/name/echo/get`;
      const before = seenA.length + seenB.length;
      try {
        await device.subscribe(`${topic}/accepted`);
        const n = 20;
        for (let i = 0; i < n; i++) await device.publish(topic, `{"i":${i}}`);
        assert.equal(await countQuiet(device, `${topic}/accepted`, 500), n);
        const bodies = device.received.map((m) => JSON.parse(m.payload.toString()).body).sort();
        assert.equal(new Set(bodies).size, n, 'each request answered once');
        assert.equal(seenA.length + seenB.length - before, n);
        if (shared) assert.ok(seenA.length > 0 && seenB.length > 0, `both replicas served requests (a: ${seenA.length}, b: ${seenB.length})`);
      } finally {
        await device.end();
      }
    });
  }

  test('iot-data Publish goes through the broker, and a request topic is answered once', async () => {
    const data = new IoTDataPlaneClient({
      endpoint: a.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' },
      maxAttempts: 1,
    });
    const device = await connectDevice(BROKER);
    const topic = `$aws/things/ext-${run}-http/shadow/name/echo/get`;
    try {
      await device.subscribe([`plain-${run}`, `${topic}/accepted`]);
      await data.send(new PublishCommand({ topic: `plain-${run}`, payload: Buffer.from('hi') }));
      assert.equal((await device.next(`plain-${run}`)).payload.toString(), 'hi');
      await data.send(new PublishCommand({ topic, payload: Buffer.from('{}') }));
      assert.equal(await countQuiet(device, `${topic}/accepted`, 500), 1);
    } finally {
      data.destroy();
      await device.end();
    }
  });
});

describe('external broker refusals', () => {
  let silent: ReturnType<typeof createServer>;
  const sockets: Array<import('node:net').Socket> = [];
  let port = 0;
  before(async () => {
    // Accepts TCP connections and never answers CONNECT.
    silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
    port = (silent.address() as { port: number }).port;
  });
  after(() => {
    for (const socket of sockets) socket.destroy();
    silent.close();
  });

  test('a broker that never answers CONNECT fails startup with a clear error, in bounded time', async () => {
    const started = Date.now();
    await assert.rejects(
      startFlotilla({ port: 0, broker: `mqtt://127.0.0.1:${port}`, database: 'sqlite::memory:', logLevel: 'error' }),
      /--broker mqtt:\/\/127\.0\.0\.1:\d+: no CONNACK within 10000 ms/,
    );
    assert.ok(Date.now() - started < 20_000);
  });

  test('a broker nobody listens on fails startup at once', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', () => resolve()));
    const p = (closed.address() as { port: number }).port;
    await new Promise((resolve) => closed.close(resolve));
    await assert.rejects(
      startFlotilla({ port: 0, broker: `mqtt://127.0.0.1:${p}`, database: 'sqlite::memory:', logLevel: 'error' }),
      /--broker mqtt:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/,
    );
  });
});
