// SigV4 end to end: a server that verifies signatures (the real SDK, raw signed fetches, tampering), accounts from
// 12-digit access keys, and a server with auth off that still reads the signing scope.
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Sha256 } from '@aws-crypto/sha256-js';
import { CreatePackageCommand, GetPackageCommand, ListPackagesCommand, type IoTClient } from '@aws-sdk/client-iot';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SignatureV4 } from '@smithy/signature-v4';
import { awsError, startTestServer, type TestServer } from './support/server.ts';

const GOOD = { accessKeyId: 'AKIDGOOD', secretAccessKey: 'goodsecret' };
const ACCOUNT_KEY = { accessKeyId: '111111111111', secretAccessKey: 'othersecret' };

interface RawCall {
  method?: string;
  path: string;
  body?: string;
  headers?: Record<string, string>;
  /** Changes the request after it was signed. */
  tamper?: (req: { path: string; body?: string; headers: Record<string, string> }) => void;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  service?: string;
  signingDate?: Date;
}

/** Signs a request with @smithy/signature-v4 as the SDK would, optionally tampers with it, and sends it with fetch. */
async function signedFetch(server: TestServer, call: RawCall): Promise<{ status: number; errorType: string | null; body: any }> {
  const url = new URL(server.endpoint);
  const signer = new SignatureV4({ service: call.service ?? 'iot', region: 'us-east-1', credentials: call.credentials ?? GOOD, sha256: Sha256 });
  const signed = await signer.sign(
    {
      method: call.method ?? 'GET',
      protocol: 'http:',
      hostname: url.hostname,
      port: Number(url.port),
      path: call.path,
      query: {},
      headers: { host: url.host, ...(call.body !== undefined ? { 'content-type': 'application/json' } : {}), ...call.headers },
      body: call.body,
    },
    { signingDate: call.signingDate },
  );
  const req = { path: signed.path, body: call.body, headers: { ...signed.headers } as Record<string, string> };
  call.tamper?.(req);
  delete req.headers.host; // fetch sets it, to the same value
  const res = await fetch(server.endpoint + req.path, { method: call.method ?? 'GET', headers: req.headers, body: req.body });
  const text = await res.text();
  return { status: res.status, errorType: res.headers.get('x-amzn-errortype'), body: text ? JSON.parse(text) : undefined };
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();

/** A GET signed by hand with a credential scope of `scopeDate` while X-Amz-Date says now (no SDK signs that way). */
async function getWithScopeDate(server: TestServer, path: string, scopeDate: string) {
  const host = new URL(server.endpoint).host;
  const amzDate = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  const scope = `${scopeDate}/us-east-1/iot/aws4_request`;
  const canonical = ['GET', path, '', `host:${host}\nx-amz-date:${amzDate}\n`, 'host;x-amz-date', sha256('')].join('\n');
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${GOOD.secretAccessKey}`, scopeDate), 'us-east-1'), 'iot'), 'aws4_request');
  const authorization = `AWS4-HMAC-SHA256 Credential=${GOOD.accessKeyId}/${scope}, SignedHeaders=host;x-amz-date, Signature=${createHmac('sha256', key).update(stringToSign).digest('hex')}`;
  const res = await fetch(server.endpoint + path, { headers: { 'x-amz-date': amzDate, authorization } });
  return { status: res.status, errorType: res.headers.get('x-amzn-errortype'), body: (await res.json()) as { message: string } };
}

describe('--auth sigv4', () => {
  let server: TestServer;
  let good: IoTClient;
  let account: IoTClient;
  before(async () => {
    server = await startTestServer({ auth: 'sigv4', credentials: 'AKIDGOOD:goodsecret,111111111111:othersecret' });
    good = server.iot(GOOD);
    account = server.iot(ACCOUNT_KEY);
  });
  after(() => server.stop());

  test('the SDK with a configured key works', async () => {
    const created = await good.send(new CreatePackageCommand({ packageName: 'signed', description: 'through SigV4' }));
    assert.equal(created.packageArn, 'arn:aws:iot:us-east-1:000000000000:package/signed');
    const got = await good.send(new GetPackageCommand({ packageName: 'signed' }));
    assert.equal(got.description, 'through SigV4');
  });

  test('a wrong secret is 403 InvalidSignatureException', async () => {
    const err = await awsError(() => server.iot({ accessKeyId: 'AKIDGOOD', secretAccessKey: 'wrong' }).send(new ListPackagesCommand({})));
    assert.equal(err.name, 'InvalidSignatureException');
    assert.equal(err.status, 403);
    assert.match(err.message, /signature we calculated does not match/);
  });

  test('an unknown access key is 403 UnrecognizedClientException', async () => {
    const err = await awsError(() => server.iot({ accessKeyId: 'AKIDNOBODY', secretAccessKey: 'goodsecret' }).send(new ListPackagesCommand({})));
    assert.equal(err.name, 'UnrecognizedClientException');
    assert.equal(err.status, 403);
  });

  test('an unsigned request is 403 MissingAuthenticationTokenException, and changes nothing', async () => {
    for (const [method, path] of [
      ['GET', '/packages'],
      ['PUT', '/packages/unsigned'],
      ['GET', '/no/such/route'],
    ]) {
      const res = await fetch(`${server.endpoint}${path}`, { method, body: method === 'PUT' ? '{}' : undefined });
      assert.equal(res.status, 403, `${method} ${path}`);
      assert.equal(res.headers.get('x-amzn-errortype'), 'MissingAuthenticationTokenException');
      assert.equal(((await res.json()) as Record<string, string>).message, 'Missing Authentication Token');
    }
    assert.equal((await awsError(() => good.send(new GetPackageCommand({ packageName: 'unsigned' })))).name, 'ResourceNotFoundException');
  });

  test('a raw request signed like the SDK is accepted', async () => {
    const res = await signedFetch(server, { method: 'PUT', path: '/packages/raw-signed', body: '{"description":"raw"}' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.packageName, 'raw-signed');
  });

  test('a body changed after signing is 403 and is not applied', async () => {
    const body = '{"description":"honest"}';
    const evil = (req: { body?: string }) => {
      req.body = '{"description":"evil"}';
    };
    const plain = await signedFetch(server, { method: 'PUT', path: '/packages/tampered', body, tamper: evil });
    assert.deepEqual([plain.status, plain.errorType], [403, 'InvalidSignatureException']);
    const declared = await signedFetch(server, {
      method: 'PUT',
      path: '/packages/tampered',
      body,
      headers: { 'x-amz-content-sha256': sha256(body) },
      tamper: evil,
    });
    assert.deepEqual([declared.status, declared.errorType], [403, 'InvalidSignatureException']);
    assert.match(declared.body.message, /x-amz-content-sha256/);
    assert.equal((await awsError(() => good.send(new GetPackageCommand({ packageName: 'tampered' })))).name, 'ResourceNotFoundException');
  });

  test('a path, header or signature changed after signing is 403', async () => {
    const cases: RawCall['tamper'][] = [
      (req) => {
        req.path = '/packages/other';
      },
      (req) => {
        req.headers['x-flotilla-note'] = 'changed';
      },
      (req) => {
        req.headers.authorization = req.headers.authorization.replace(/Signature=([0-9a-f])/, (_m, c) => `Signature=${c === '0' ? '1' : '0'}`);
      },
    ];
    for (const tamper of cases) {
      const res = await signedFetch(server, { path: '/packages/signed', headers: { 'x-flotilla-note': 'signed' }, tamper });
      assert.deepEqual([res.status, res.errorType], [403, 'InvalidSignatureException']);
    }
  });

  test('a 12-digit access key id is the account: its data is invisible to other keys', async () => {
    const created = await account.send(new CreatePackageCommand({ packageName: 'mine' }));
    assert.equal(created.packageArn, 'arn:aws:iot:us-east-1:111111111111:package/mine');
    assert.equal((await account.send(new GetPackageCommand({ packageName: 'mine' }))).packageName, 'mine');

    assert.equal((await awsError(() => good.send(new GetPackageCommand({ packageName: 'mine' })))).name, 'ResourceNotFoundException');
    const goodNames = (await good.send(new ListPackagesCommand({}))).packageSummaries?.map((p) => p.packageName);
    assert.ok(!goodNames?.includes('mine'));
    assert.ok(goodNames?.includes('signed'));
    const accountNames = (await account.send(new ListPackagesCommand({}))).packageSummaries?.map((p) => p.packageName);
    assert.deepEqual(accountNames, ['mine']);

    // The same name in the default account is a different package, not a conflict.
    assert.equal((await good.send(new CreatePackageCommand({ packageName: 'mine' }))).packageArn, 'arn:aws:iot:us-east-1:000000000000:package/mine');
  });
});

describe('--auth sigv4 is as strict as AWS', () => {
  let server: TestServer;
  before(async () => (server = await startTestServer({ auth: 'sigv4', credentials: 'AKIDGOOD:goodsecret,111111111111:othersecret' })));
  after(() => server.stop());

  test('UNSIGNED-PAYLOAD and STREAMING-* payload hashes are refused for the JSON APIs: the body could be swapped', async () => {
    for (const declared of ['UNSIGNED-PAYLOAD', 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD']) {
      const swapped = await signedFetch(server, {
        method: 'PUT',
        path: '/packages/unsigned-body',
        body: '{"description":"honest"}',
        headers: { 'x-amz-content-sha256': declared },
        tamper: (req) => {
          req.body = '{"description":"swapped"}';
        },
      });
      assert.deepEqual([swapped.status, swapped.errorType], [403, 'InvalidSignatureException'], declared);
      assert.match(swapped.body.message, /accepted by S3 only/);
    }
    // The data planes too (signed for iot-jobs-data and iotdata).
    for (const [service, path] of [
      ['iotdata', '/things/t/shadow'],
      ['iot-jobs-data', '/things/t/jobs'],
    ]) {
      const res = await signedFetch(server, { path, service, headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } });
      assert.deepEqual([res.status, res.errorType], [403, 'InvalidSignatureException'], service);
    }
    assert.equal((await awsError(() => server.iot(GOOD).send(new GetPackageCommand({ packageName: 'unsigned-body' })))).name, 'ResourceNotFoundException');
  });

  test('a credential scope dated another day than X-Amz-Date is refused', async () => {
    const today = new Date().toISOString().slice(0, 10).replace(/-/g, '');
    assert.equal((await getWithScopeDate(server, '/packages', today)).status, 200);
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10).replace(/-/g, '');
    const res = await getWithScopeDate(server, '/packages', yesterday);
    assert.deepEqual([res.status, res.errorType], [403, 'InvalidSignatureException']);
    assert.match(
      res.body.message,
      new RegExp(`^Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${yesterday}' != '${today}'`),
    );
  });

  test('a signature older or newer than 15 minutes is 403 with AWS message', async () => {
    const old = await signedFetch(server, { path: '/packages', signingDate: new Date(Date.now() - 20 * 60_000) });
    assert.deepEqual([old.status, old.errorType], [403, 'InvalidSignatureException']);
    assert.match(old.body.message, /^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 15 min\.\)$/);
    const ahead = await signedFetch(server, { path: '/packages', signingDate: new Date(Date.now() + 20 * 60_000) });
    assert.deepEqual([ahead.status, ahead.errorType], [403, 'InvalidSignatureException']);
    assert.match(ahead.body.message, /^Signature not yet current: \d{8}T\d{6}Z is still later than \d{8}T\d{6}Z \(\d{8}T\d{6}Z \+ 15 min\.\)$/);
  });

  test('presigned (query string) authentication is refused for the JSON API operations', async () => {
    const url = new URL(server.endpoint);
    const signer = new SignatureV4({ service: 'iot', region: 'us-east-1', credentials: GOOD, sha256: Sha256 });
    const presigned = await signer.presign(
      { method: 'GET', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: '/packages', query: {}, headers: { host: url.host } },
      { expiresIn: 300 },
    );
    const query = new URLSearchParams(presigned.query as Record<string, string>).toString();
    const res = await fetch(`${server.endpoint}/packages?${query}`);
    assert.equal(res.status, 403);
    assert.equal(res.headers.get('x-amzn-errortype'), 'MissingAuthenticationTokenException');
    assert.match(((await res.json()) as { message: string }).message, /presigned/);
  });

  test("requests signed for 'execute-api' reach the iot control plane, as AWS serves older botocore", async () => {
    const created = await signedFetch(server, {
      method: 'PUT',
      path: '/packages/via-execute-api',
      body: '{"description":"old botocore"}',
      service: 'execute-api',
    });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const got = await signedFetch(server, { path: '/packages/via-execute-api', service: 'execute-api' });
    assert.deepEqual([got.status, got.body.description], [200, 'old botocore']);
    const bad = await signedFetch(server, { path: '/packages', service: 'execute-api', credentials: { accessKeyId: 'AKIDGOOD', secretAccessKey: 'wrong' } });
    assert.deepEqual([bad.status, bad.errorType], [403, 'InvalidSignatureException']);
  });

  test("presigned object URLs are signed with a key of the scope's own account, or refused", async () => {
    const s3 = new S3Client({ endpoint: server.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: ACCOUNT_KEY, maxAttempts: 1 });
    try {
      await s3.send(new CreateBucketCommand({ Bucket: 'own' }));
      await s3.send(new PutObjectCommand({ Bucket: 'own', Key: 'fw.bin', Body: 'account one' }));
    } finally {
      s3.destroy();
    }
    const url = await server.flotilla.blob.presignGet({ account: '111111111111', region: 'us-east-1' }, { bucket: 'own', key: 'fw.bin' }, 60);
    assert.match(url, /X-Amz-Credential=111111111111%2F/);
    assert.equal(await (await fetch(url)).text(), 'account one');
    await assert.rejects(
      server.flotilla.blob.presignGet({ account: '222222222222', region: 'us-east-1' }, { bucket: 'own', key: 'fw.bin' }, 60),
      /no --credentials key belongs to it/,
    );
  });
});

describe('--auth off', () => {
  let server: TestServer;
  before(async () => (server = await startTestServer({ auth: 'off' })));
  after(() => server.stop());

  test('any key and secret are accepted; the key still chooses the account', async () => {
    const anyone = server.iot({ accessKeyId: 'whoever', secretAccessKey: 'whatever' });
    assert.equal((await anyone.send(new CreatePackageCommand({ packageName: 'open' }))).packageArn, 'arn:aws:iot:us-east-1:000000000000:package/open');
    const other = server.iot({ accessKeyId: '222222222222', secretAccessKey: 'x' });
    assert.equal((await other.send(new CreatePackageCommand({ packageName: 'open' }))).packageArn, 'arn:aws:iot:us-east-1:222222222222:package/open');
  });

  test("the signature's region is honoured: a package in eu-west-1 is not visible in us-east-1", async () => {
    const eu = server.iot({ region: 'eu-west-1' });
    const us = server.iot({ region: 'us-east-1' });
    const created = await eu.send(new CreatePackageCommand({ packageName: 'regional' }));
    assert.equal(created.packageArn, 'arn:aws:iot:eu-west-1:000000000000:package/regional');
    assert.equal((await eu.send(new GetPackageCommand({ packageName: 'regional' }))).packageArn, created.packageArn);
    assert.equal((await awsError(() => us.send(new GetPackageCommand({ packageName: 'regional' })))).name, 'ResourceNotFoundException');
    assert.ok(!(await us.send(new ListPackagesCommand({}))).packageSummaries?.some((p) => p.packageName === 'regional'));
  });

  test('a body changed after signing is served: signatures are not checked', async () => {
    const res = await signedFetch(server, {
      method: 'PUT',
      path: '/packages/unchecked',
      body: '{}',
      credentials: { accessKeyId: 'k', secretAccessKey: 's' },
      tamper: (req) => {
        req.body = '{"description":"changed"}';
      },
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
  });

  test("requests signed for 'execute-api' reach the iot control plane", async () => {
    const res = await signedFetch(server, {
      method: 'PUT',
      path: '/packages/execute-api-off',
      body: '{}',
      service: 'execute-api',
      credentials: { accessKeyId: '333333333333', secretAccessKey: 's' },
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.packageArn, 'arn:aws:iot:us-east-1:333333333333:package/execute-api-off');
  });

  test('an unsigned request is served in the default account and region', async () => {
    const res = await fetch(`${server.endpoint}/packages/unsigned`, { method: 'PUT', body: '{}' });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as Record<string, string>).packageArn, 'arn:aws:iot:us-east-1:000000000000:package/unsigned');
  });
});
