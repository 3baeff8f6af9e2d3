// iot-data's Publish, ListRetainedMessages and GetRetainedMessage with the real SDK, and MQTT subscribers that hear them.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { GetRetainedMessageCommand, IoTDataPlaneClient, ListRetainedMessagesCommand, PublishCommand } from '@aws-sdk/client-iot-data-plane';
import type { TopicHandler } from '../src/bus/types.ts';
import { connectDevice } from './support/mqtt.ts';
import { eventually, expectError, startTestServer, type TestServer } from './support/server.ts';

/** Answers `$aws/things/{thing}/shadow/name/echo/get` as a real handler would. */
const echo: TopicHandler = {
  accepts: (topic) => topic.endsWith('/shadow/name/echo/get'),
  handle: async (m) => [{ topic: `${m.topic}/accepted`, payload: JSON.stringify({ from: m.clientId, body: m.payload.toString() }) }],
};

describe('iot-data Publish and retained messages', () => {
  let server: TestServer;
  let data: IoTDataPlaneClient;
  before(async () => {
    server = await startTestServer({ topicHandlers: [echo] });
    data = new IoTDataPlaneClient({
      endpoint: server.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' },
      maxAttempts: 1,
    });
  });
  after(async () => {
    data?.destroy();
    await server?.stop();
  });

  for (const protocolVersion of [4, 5] as const) {
    test(`an HTTP Publish reaches MQTT subscribers, bytes intact (MQTT ${protocolVersion === 4 ? '3.1.1' : '5'})`, async () => {
      const device = await connectDevice(server.flotilla.mqttUrl!, { protocolVersion });
      try {
        await device.subscribe(`http/${protocolVersion}/+`);
        const bytes = Buffer.from([0, 1, 2, 255, 254]);
        await data.send(new PublishCommand({ topic: `http/${protocolVersion}/bin`, payload: bytes, qos: 1 }));
        const m = await device.next(`http/${protocolVersion}/bin`);
        assert.deepEqual(m.payload, bytes);
        assert.equal(m.qos, 1);
        assert.equal(m.retain, false);
      } finally {
        await device.end();
      }
    });
  }

  test('an HTTP Publish on a request topic is answered like a device request', async () => {
    const device = await connectDevice(server.flotilla.mqttUrl!);
    try {
      await device.subscribe('$aws/things/h1/shadow/name/echo/get/accepted');
      await data.send(new PublishCommand({ topic: '$aws/things/h1/shadow/name/echo/get', payload: Buffer.from('{}') }));
      assert.deepEqual(await device.nextJson('$aws/things/h1/shadow/name/echo/get/accepted'), { from: '', body: '{}' });
    } finally {
      await device.end();
    }
  });

  test('retained: kept, listed, read back, delivered to late subscribers, deleted by an empty payload', async () => {
    const before = Date.now();
    const userProperties = JSON.stringify([{ deviceName: 'alpha' }]);
    await data.send(new PublishCommand({ topic: 'conf/a', payload: Buffer.from('A'), qos: 1, retain: true, userProperties }));
    await data.send(new PublishCommand({ topic: 'conf/b', payload: Buffer.from('BB'), retain: true }));
    const got = await data.send(new GetRetainedMessageCommand({ topic: 'conf/a' }));
    assert.equal(got.topic, 'conf/a');
    assert.equal(Buffer.from(got.payload!).toString(), 'A');
    assert.equal(got.qos, 1);
    assert.ok(got.lastModifiedTime! >= before && got.lastModifiedTime! <= Date.now());
    assert.deepEqual(JSON.parse(Buffer.from(got.userProperties!).toString()), [{ deviceName: 'alpha' }]);

    const list = await data.send(new ListRetainedMessagesCommand({}));
    assert.deepEqual(
      list.retainedTopics?.map((t) => [t.topic, t.payloadSize, t.qos]),
      [
        ['conf/a', 1, 1],
        ['conf/b', 2, 0],
      ],
    );
    const page1 = await data.send(new ListRetainedMessagesCommand({ maxResults: 1 }));
    assert.deepEqual(
      page1.retainedTopics?.map((t) => t.topic),
      ['conf/a'],
    );
    const page2 = await data.send(new ListRetainedMessagesCommand({ maxResults: 1, nextToken: page1.nextToken }));
    assert.deepEqual(
      page2.retainedTopics?.map((t) => t.topic),
      ['conf/b'],
    );
    assert.equal(page2.nextToken, undefined);

    const late = await connectDevice(server.flotilla.mqttUrl!);
    try {
      await eventually(async () => {
        await late.subscribe('conf/a');
        const m = await late.next('conf/a', 500);
        assert.equal(m.payload.toString(), 'A');
        assert.equal(m.retain, true);
      });
    } finally {
      await late.end();
    }

    await data.send(new PublishCommand({ topic: 'conf/b', retain: true }));
    await expectError(() => data.send(new GetRetainedMessageCommand({ topic: 'conf/b' })), 'ResourceNotFoundException', 404);
  });

  test("a device's retained publish is listed by iot-data", async () => {
    const device = await connectDevice(server.flotilla.mqttUrl!);
    await device.publish('dev/state', 'on', { retain: true, qos: 1 });
    await device.end();
    const got = await eventually(() => data.send(new GetRetainedMessageCommand({ topic: 'dev/state' })));
    assert.equal(Buffer.from(got.payload!).toString(), 'on');
    assert.equal(got.qos, 1);
  });

  test("refusals: wildcards, the service's own topics, bad qos, bad tokens", async () => {
    await expectError(() => data.send(new PublishCommand({ topic: 'a/#' })), 'InvalidRequestException', 400, /Invalid topic/);
    await expectError(() => data.send(new PublishCommand({ topic: '$aws/things/t/shadow/update/accepted' })), 'UnauthorizedException', 401);
    await expectError(() => data.send(new PublishCommand({ topic: 'a', qos: 2 })), 'InvalidRequestException', 400);
    await expectError(() => data.send(new GetRetainedMessageCommand({ topic: 'never/retained' })), 'ResourceNotFoundException', 404);
    await expectError(() => data.send(new ListRetainedMessagesCommand({ nextToken: 'garbage' })), 'InvalidRequestException', 400);
  });
});
