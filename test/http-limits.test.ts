// Every input from outside has a size and a time limit, answered in AWS's error shape: headers over 16 KiB,
// headers or a body that do not arrive in time, malformed HTTP. Raw sockets, so nothing on the client side fixes
// the request up.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { ListPackagesCommand } from '@aws-sdk/client-iot';
import { startTestServer, type TestServer } from './support/server.ts';

let server: TestServer;
before(async () => (server = await startTestServer({ requestTimeoutMs: 1500 })));
after(() => server.stop());

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Milliseconds from the first byte sent to the connection's end. */
  ms: number;
}

/** Writes `parts` (waiting `gapMs` between them), then reads until the server closes the connection. */
function rawExchange(parts: string[], gapMs = 0, giveUpMs = 15_000): Promise<Answer> {
  const url = new URL(server.endpoint);
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect(Number(url.port), url.hostname);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('the server never closed the connection'));
    }, giveUpMs);
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', () => {}); // a reset after the answer is fine; the answer is what counts
    socket.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('utf8');
      const [head = '', body = ''] = text.split('\r\n\r\n');
      const [statusLine = '', ...lines] = head.split('\r\n');
      const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body, ms: Date.now() - started });
    });
    socket.on('connect', async () => {
      for (const [i, part] of parts.entries()) {
        if (i > 0 && gapMs) await new Promise((r) => setTimeout(r, gapMs));
        if (!socket.destroyed) socket.write(part);
      }
    });
  });
}

function assertAwsError(answer: Answer, status: number, type: string, message: RegExp) {
  assert.equal(answer.status, status, JSON.stringify(answer));
  assert.equal(answer.headers['x-amzn-errortype'], type);
  assert.match(answer.headers['content-type'] ?? '', /^application\/json/);
  assert.match((JSON.parse(answer.body) as { message: string }).message, message);
}

test('headers over 16 KiB: 431 RequestHeaderSectionTooLarge in AWS shape', async () => {
  const answer = await rawExchange([`GET /packages HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(17 * 1024)}\r\n\r\n`]);
  assertAwsError(answer, 431, 'RequestHeaderSectionTooLarge', /exceeds the maximum allowed size of 16384 bytes/);
});

test('headers that never end: 408 RequestTimeoutException within the headers deadline', async () => {
  const answer = await rawExchange(['GET /packages HTTP/1.1\r\n', 'Host: x\r\n'], 100);
  assertAwsError(answer, 408, 'RequestTimeoutException', /not received in time/);
  assert.ok(answer.ms < 6000, `${answer.ms} ms`);
});

test('a body that never completes: 408 once the request deadline passes', async () => {
  const answer = await rawExchange(['PUT /packages/slow HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n', '{"desc'], 100);
  assertAwsError(answer, 408, 'RequestTimeoutException', /within 1500 ms/);
  assert.ok(answer.ms < 6000, `${answer.ms} ms`);
});

test('malformed HTTP (a NUL in a header): 400 SerializationException in AWS shape', async () => {
  const answer = await rawExchange(['GET /packages HTTP/1.1\r\nHost: x\r\nX-Bad: a\u0000b\r\n\r\n']);
  assertAwsError(answer, 400, 'SerializationException', /Malformed HTTP request/);
});

test('the server keeps serving after all of that', async () => {
  assert.ok((await server.iot().send(new ListPackagesCommand({}))).packageSummaries);
});
