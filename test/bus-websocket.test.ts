// MQTT over WebSocket at /mqtt on the API port: the `mqtt` subprotocol, SigV4 query parameters as AWS IoT takes them.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { connectDevice } from './support/mqtt.ts';
import { startTestServer, type TestServer } from './support/server.ts';

const wsUrl = (endpoint: string, query = '') => `${endpoint.replace(/^http/, 'ws')}/mqtt${query}`;

/** A presigned /mqtt URL as AWS IoT's device SDKs build it (service iotdevicegateway; session token added after signing). */
async function presigned(endpoint: string, secretAccessKey: string, sessionToken?: string): Promise<string> {
  const url = new URL(endpoint);
  const signer = new SignatureV4({
    service: 'iotdevicegateway',
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey },
    sha256: Sha256,
  });
  const request = { method: 'GET', protocol: 'ws:', hostname: url.hostname, port: Number(url.port), path: '/mqtt', query: {}, headers: { host: url.host } };
  const signed = await signer.presign(request, { expiresIn: 3600 });
  const query = new URLSearchParams(signed.query as Record<string, string>);
  if (sessionToken) query.set('X-Amz-Security-Token', sessionToken);
  return wsUrl(endpoint, `?${query}`);
}

/** The HTTP status a WebSocket upgrade request to `url` gets (101 when it is switched). */
function upgradeStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url.replace(/^ws/, 'http'), {
      headers: {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
        'sec-websocket-protocol': 'mqtt',
      },
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve(res.statusCode ?? 0);
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('MQTT over WebSocket', () => {
  let server: TestServer;
  before(async () => (server = await startTestServer()));
  after(() => server?.stop());

  for (const protocolVersion of [4, 5] as const) {
    test(`a WebSocket client and a TCP client talk through one broker (MQTT ${protocolVersion === 4 ? '3.1.1' : '5'})`, async () => {
      const ws = await connectDevice(wsUrl(server.endpoint), { protocolVersion });
      const tcp = await connectDevice(server.flotilla.mqttUrl!);
      try {
        await ws.subscribe('room/1');
        await tcp.publish('room/1', 'over tcp');
        assert.equal((await ws.next('room/1')).payload.toString(), 'over tcp');
        await tcp.subscribe('room/2');
        await ws.publish('room/2', 'over ws');
        assert.equal((await tcp.next('room/2')).payload.toString(), 'over ws');
      } finally {
        await ws.end();
        await tcp.end();
      }
    });
  }

  test('SigV4 query parameters are accepted with --auth off', async () => {
    const device = await connectDevice(await presigned(server.endpoint, 'anything', 'token'));
    await device.end();
  });

  test('the WebSocket lives at /mqtt only', async () => {
    assert.equal(await upgradeStatus(wsUrl(server.endpoint)), 101);
    assert.equal(await upgradeStatus(wsUrl(server.endpoint).replace('/mqtt', '/other')), 404);
  });
});

describe('MQTT over WebSocket with --auth sigv4', () => {
  let server: TestServer;
  before(async () => (server = await startTestServer({ auth: 'sigv4', credentials: 'AKIDTEST:secret' })));
  after(() => server?.stop());

  test('a correctly presigned URL connects, with or without a session token appended', async () => {
    for (const token of [undefined, 'session-token']) {
      const device = await connectDevice(await presigned(server.endpoint, 'secret', token));
      await device.subscribe('x');
      await device.end();
    }
  });

  test('a wrong signature or none is refused with 403 before the upgrade', async () => {
    for (const url of [await presigned(server.endpoint, 'wrong-secret'), wsUrl(server.endpoint)]) {
      assert.equal(await upgradeStatus(url), 403);
    }
  });
});
