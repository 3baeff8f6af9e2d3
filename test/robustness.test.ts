// Hostile raw HTTP: every malformed request gets an AWS-shaped 4xx answer and the server keeps serving. Also the
// admin reset.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { CreatePackageCommand, CreatePackageVersionCommand, GetPackageCommand, ListPackagesCommand } from '@aws-sdk/client-iot';
import { awsError, POSTGRES_URL, startTestServer, type TestServer } from './support/server.ts';

interface Raw {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Send the body with chunked transfer encoding (no content-length). */
  chunked?: boolean;
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** One HTTP/1.1 request with node:http: the path goes out byte for byte, unnormalised. */
function raw(endpoint: string, r: Raw): Promise<Answer> {
  const url = new URL(endpoint);
  return new Promise((resolve, reject) => {
    const body = r.body === undefined ? undefined : Buffer.from(r.body);
    const headers = { ...r.headers, ...(body && !r.chunked ? { 'content-length': String(body.length) } : {}) };
    const req = request({ host: url.hostname, port: url.port, method: r.method ?? 'GET', path: r.path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(30_000, () => req.destroy(new Error(`no answer to ${r.method ?? 'GET'} ${r.path}`)));
    // The server may answer (413) and close before the whole body went out; the answer is what counts.
    req.on('error', (err: NodeJS.ErrnoException) => (err.code === 'EPIPE' || err.code === 'ECONNRESET' ? undefined : reject(err)));
    if (body && r.chunked) {
      for (let i = 0; i < body.length; i += 1024 * 1024) req.write(body.subarray(i, i + 1024 * 1024));
    } else if (body) {
      req.write(body);
    }
    req.end();
  });
}

/** Asserts AWS's error shape: a 4xx status, the error type header, a JSON body with a message. */
function assertAwsError(answer: Answer, status: number, type: string, message?: RegExp): void {
  const where = `${answer.status} ${answer.headers['x-amzn-errortype']} ${answer.text.slice(0, 300)}`;
  assert.ok(answer.status < 500, where);
  assert.equal(answer.status, status, where);
  assert.equal(answer.headers['x-amzn-errortype'], type, where);
  assert.match(String(answer.headers['content-type']), /^application\/json/, where);
  const body = JSON.parse(answer.text);
  assert.equal(typeof body.message, 'string', where);
  if (message) assert.match(body.message, message, where);
}

async function assertHealthy(server: TestServer): Promise<void> {
  const res = await fetch(`${server.endpoint}/_flotilla/health`);
  assert.equal(res.status, 200);
  assert.equal(((await res.json()) as Record<string, string>).status, 'ok');
}

const sigv4Header = (credential: string) => `AWS4-HMAC-SHA256 Credential=${credential}, SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`;
const amzDate = () => new Date().toISOString().replace(/[-:]|\.\d{3}/g, '');

type Case = [name: string, request: Raw, status: number, type: string, message?: RegExp];

const cases: Case[] = [
  [
    'malformed JSON',
    { method: 'PUT', path: '/packages/p1', body: '{"description": "x"' },
    400,
    'ValidationException',
    /Could not parse request body into json/,
  ],
  [
    'malformed JSON with a JSON content type',
    { method: 'PUT', path: '/packages/p1', headers: { 'content-type': 'application/json' }, body: '{oops' },
    400,
    'ValidationException',
    /json/,
  ],
  ['a JSON array body', { method: 'PUT', path: '/packages/p1', body: '[{"description":"x"}]' }, 400, 'ValidationException', /JSON object/],
  ['a JSON string body', { method: 'PUT', path: '/packages/p1', body: '"x"' }, 400, 'ValidationException', /JSON object/],
  ['a JSON null body', { method: 'PUT', path: '/packages/p1', body: 'null' }, 400, 'ValidationException', /JSON object/],
  [
    'a number where a string belongs',
    { method: 'PUT', path: '/packages/p1', body: '{"description":5}' },
    400,
    'ValidationException',
    /'description' must be a string/,
  ],
  ['a list where a map belongs', { method: 'PUT', path: '/packages/p1', body: '{"tags":["a"]}' }, 400, 'ValidationException', /'tags' must be a map/],
  [
    'a number inside a map of strings',
    { method: 'PUT', path: '/packages/p1', body: '{"tags":{"k":1}}' },
    400,
    'ValidationException',
    /'tags.k' must be a string/,
  ],
  [
    'a string where an enum belongs, wrongly',
    { method: 'PATCH', path: '/packages/p1/versions/v1', body: '{"action":"UNPUBLISH"}' },
    400,
    'ValidationException',
    /enum value set/,
  ],
  ['deeply nested arrays', { method: 'PUT', path: '/packages/p1', body: `{"tags":${'['.repeat(100_000)}${']'.repeat(100_000)}}` }, 400, 'ValidationException'],
  ['invalid UTF-8 in the body', { method: 'PUT', path: '/packages/p1', body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]) }, 400, 'ValidationException'],
  ['invalid percent-encoding in the path', { path: '/packages/%zz' }, 400, 'SerializationException'],
  ['a truncated UTF-8 percent-encoding in the path', { path: '/packages/%E0%A4%A' }, 400, 'SerializationException'],
  ['a NUL byte in a label', { path: '/packages/a%00b' }, 400, 'ValidationException', /regular expression pattern/],
  ['a label over its length limit', { path: `/packages/${'a'.repeat(129)}` }, 400, 'ValidationException', /length less than or equal to 128/],
  ['an unknown path', { path: '/no/such/thing' }, 404, 'UnknownOperationException', /GET \/no\/such\/thing/],
  ['a known path with a method it does not take', { method: 'POST', path: '/packages' }, 404, 'UnknownOperationException'],
  ['an empty label', { path: '/packages//versions' }, 400, 'ValidationException', /at 'packageName' .* length greater than or equal to 1/],
  ['a modelled operation that is not implemented', { path: '/policies' }, 400, 'InvalidRequestException', /ListPolicies/],
  [
    'another unimplemented operation, with a body',
    { method: 'POST', path: '/policies/p1', body: '{"policyDocument":"{}"}' },
    400,
    'InvalidRequestException',
    /CreatePolicy/,
  ],
  [
    'an unknown signing service',
    { path: '/packages', headers: { authorization: sigv4Header('AKID/20240101/us-east-1/dynamodb/aws4_request'), 'x-amz-date': amzDate() } },
    404,
    'UnknownOperationException',
    /signing service 'dynamodb'/,
  ],
  ['a garbage Authorization header', { path: '/packages', headers: { authorization: 'Bearer abc.def.ghi' } }, 403, 'IncompleteSignatureException'],
  ['the algorithm alone', { path: '/packages', headers: { authorization: 'AWS4-HMAC-SHA256' } }, 403, 'IncompleteSignatureException'],
  ['a credential with too few parts', { path: '/packages', headers: { authorization: sigv4Header('AKID/20240101/iot') } }, 403, 'IncompleteSignatureException'],
  [
    'fields without values',
    { path: '/packages', headers: { authorization: 'AWS4-HMAC-SHA256 Credential=, SignedHeaders=, Signature=' } },
    403,
    'IncompleteSignatureException',
  ],
  [
    'a huge Authorization header',
    { path: '/packages', headers: { authorization: `AWS4-HMAC-SHA256 ${'x='.repeat(4000)}` } },
    403,
    'IncompleteSignatureException',
  ],
  [
    'a presigned query without its signature',
    { path: '/packages?X-Amz-Credential=AKID%2F20240101%2Fus-east-1%2Fiot%2Faws4_request' },
    403,
    'IncompleteSignatureException',
  ],
  ['a query integer that is not a number', { path: '/packages?maxResults=abc' }, 400, 'ValidationException', /'abc' at 'maxResults' is not a valid integer/],
  ['a query integer with a fraction', { path: '/packages?maxResults=1.5' }, 400, 'ValidationException', /maxResults/],
  ['a query integer out of range', { path: '/packages?maxResults=0' }, 400, 'ValidationException', /greater than or equal to 1/],
  ['a query integer beyond any range', { path: '/packages?maxResults=99999999999999999999999' }, 400, 'ValidationException', /less than or equal to 100/],
  ['a bad integer on an operation with InvalidRequestException', { path: '/things?maxResults=lots' }, 400, 'InvalidRequestException', /maxResults/],
  ['a bad boolean', { path: '/thing-groups?recursive=yes' }, 400, 'InvalidRequestException', /recursive/],
  ['invalid percent-encoding in the query', { path: '/packages?maxResults=%zz' }, 400, 'ValidationException', /maxResults/],
  ['a garbage page token', { path: '/packages?nextToken=garbage' }, 400, 'ValidationException'],
];

describe('hostile requests', () => {
  let server: TestServer;
  before(async () => (server = await startTestServer()));
  after(() => server.stop());

  for (const [name, req, status, type, message] of cases) {
    test(name, async () => {
      assertAwsError(await raw(server.endpoint, req), status, type, message);
      await assertHealthy(server);
    });
  }

  test('a body over 8 MiB is 413 RequestEntityTooLargeException, with or without a content-length', async () => {
    const body = Buffer.alloc(8 * 1024 * 1024 + 1, 0x20);
    assertAwsError(await raw(server.endpoint, { method: 'PUT', path: '/packages/big', body }), 413, 'RequestEntityTooLargeException');
    await assertHealthy(server);
    assertAwsError(await raw(server.endpoint, { method: 'PUT', path: '/packages/big', body, chunked: true }), 413, 'RequestEntityTooLargeException');
    await assertHealthy(server);
    assert.equal((await awsError(() => server.iot().send(new GetPackageCommand({ packageName: 'big' })))).name, 'ResourceNotFoundException');
  });

  test('many hostile requests at once leave the server serving', async () => {
    const answers = await Promise.all(Array.from({ length: 60 }, (_, i) => raw(server.endpoint, cases[i % cases.length][1])));
    for (const [i, answer] of answers.entries()) assertAwsError(answer, cases[i % cases.length][2], cases[i % cases.length][3]);
    await assertHealthy(server);
  });

  test('none of the refused writes was applied; an unsigned request is served as iot in the default account', async () => {
    assert.deepEqual((await server.iot().send(new ListPackagesCommand({}))).packageSummaries, []);
    const res = await raw(server.endpoint, { method: 'PUT', path: '/packages/curl', body: '{"description":"from curl"}' });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers['x-amzn-errortype'], undefined);
    assert.equal(JSON.parse(res.text).packageArn, 'arn:aws:iot:us-east-1:000000000000:package/curl');
  });
});

describe('POST /_flotilla/reset', () => {
  /** Creates a package and a version, resets, and checks that nothing is left (and that the server still works). */
  async function assertResetWipes(server: TestServer): Promise<void> {
    const iot = server.iot();
    await iot.send(new CreatePackageCommand({ packageName: 'before-reset', tags: { k: 'v' } }));
    await iot.send(new CreatePackageVersionCommand({ packageName: 'before-reset', versionName: '1.0' }));
    const res = await fetch(`${server.endpoint}/_flotilla/reset`, { method: 'POST' });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 'reset' });
    assert.deepEqual((await iot.send(new ListPackagesCommand({}))).packageSummaries, []);
    await iot.send(new CreatePackageCommand({ packageName: 'before-reset' })); // no leftover version, tag or token
    assert.equal((await iot.send(new GetPackageCommand({ packageName: 'before-reset' }))).packageName, 'before-reset');
  }

  async function assertResetRefused(server: TestServer): Promise<void> {
    const iot = server.iot();
    await iot.send(new CreatePackageCommand({ packageName: 'kept' }));
    const res = await fetch(`${server.endpoint}/_flotilla/reset`, { method: 'POST' });
    assert.equal(res.status, 403);
    assert.match(((await res.json()) as Record<string, string>).message, /--allow-reset/);
    assert.equal((await iot.send(new GetPackageCommand({ packageName: 'kept' }))).packageName, 'kept');
  }

  test('wipes every row on the default SQLite store', { skip: POSTGRES_URL ? 'PostgreSQL allows reset only with allowReset' : false }, async () => {
    const server = await startTestServer();
    try {
      await assertResetWipes(server);
    } finally {
      await server.stop();
    }
  });

  test('is refused on PostgreSQL without allowReset', { skip: POSTGRES_URL ? false : 'SQLite allows reset by default' }, async () => {
    const server = await startTestServer();
    try {
      await assertResetRefused(server);
    } finally {
      await server.stop();
    }
  });

  test('wipes every row with allowReset: true, on either store', async () => {
    const server = await startTestServer({ allowReset: true });
    try {
      await assertResetWipes(server);
    } finally {
      await server.stop();
    }
  });

  test('is refused by default when signatures are required, since the endpoint is unauthenticated', async () => {
    const server = await startTestServer({ auth: 'sigv4', credentials: 'AKIDTEST:secret' });
    try {
      await assertResetRefused(server);
    } finally {
      await server.stop();
    }
  });
});
