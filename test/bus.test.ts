// The embedded broker end to end: real MQTT clients (3.1.1 and 5) against a running Flotilla.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { DeviceMessage, TopicHandler } from '../src/bus/types.ts';
import { connectDevice } from './support/mqtt.ts';
import { startTestServer, type TestServer } from './support/server.ts';

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
