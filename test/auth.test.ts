// SigV4 end to end: a server that verifies signatures (the real SDK, raw signed fetches, tampering), accounts from
// 12-digit access keys, and a server with auth off that still reads the signing scope.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Sha256 } from '@aws-crypto/sha256-js';
import { CreatePackageCommand, GetPackageCommand, ListPackagesCommand, type IoTClient } from '@aws-sdk/client-iot';
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
}

/** Signs a request with @smithy/signature-v4 as the SDK would, optionally tampers with it, and sends it with fetch. */
async function signedFetch(server: TestServer, call: RawCall): Promise<{ status: number; errorType: string | null; body: any }> {
  const url = new URL(server.endpoint);
  const signer = new SignatureV4({ service: call.service ?? 'iot', region: 'us-east-1', credentials: call.credentials ?? GOOD, sha256: Sha256 });
  const signed = await signer.sign({
    method: call.method ?? 'GET',
    protocol: 'http:',
    hostname: url.hostname,
    port: Number(url.port),
    path: call.path,
    query: {},
    headers: { host: url.host, ...(call.body !== undefined ? { 'content-type': 'application/json' } : {}), ...call.headers },
    body: call.body,
  });
  const req = { path: signed.path, body: call.body, headers: { ...signed.headers } as Record<string, string> };
  call.tamper?.(req);
  delete req.headers.host; // fetch sets it, to the same value
  const res = await fetch(server.endpoint + req.path, { method: call.method ?? 'GET', headers: req.headers, body: req.body });
  const text = await res.text();
  return { status: res.status, errorType: res.headers.get('x-amzn-errortype'), body: text ? JSON.parse(text) : undefined };
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

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
    for (const [method, path] of [['GET', '/packages'], ['PUT', '/packages/unsigned'], ['GET', '/no/such/route']]) {
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
    const evil = (req: { body?: string }) => void (req.body = '{"description":"evil"}');
    const plain = await signedFetch(server, { method: 'PUT', path: '/packages/tampered', body, tamper: evil });
    assert.deepEqual([plain.status, plain.errorType], [403, 'InvalidSignatureException']);
    const declared = await signedFetch(server, { method: 'PUT', path: '/packages/tampered', body, headers: { 'x-amz-content-sha256': sha256(body) }, tamper: evil });
    assert.deepEqual([declared.status, declared.errorType], [403, 'InvalidSignatureException']);
    assert.match(declared.body.message, /x-amz-content-sha256/);
    assert.equal((await awsError(() => good.send(new GetPackageCommand({ packageName: 'tampered' })))).name, 'ResourceNotFoundException');
  });

  test('a path, header or signature changed after signing is 403', async () => {
    const cases: RawCall['tamper'][] = [
      (req) => void (req.path = '/packages/other'),
      (req) => void (req.headers['x-flotilla-note'] = 'changed'),
      (req) => void (req.headers.authorization = req.headers.authorization.replace(/Signature=([0-9a-f])/, (_m, c) => `Signature=${c === '0' ? '1' : '0'}`)),
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
    const res = await signedFetch(server, { method: 'PUT', path: '/packages/unchecked', body: '{}', credentials: { accessKeyId: 'k', secretAccessKey: 's' }, tamper: (req) => void (req.body = '{"description":"changed"}') });
    assert.equal(res.status, 200, JSON.stringify(res.body));
  });

  test('an unsigned request is served in the default account and region', async () => {
    const res = await fetch(`${server.endpoint}/packages/unsigned`, { method: 'PUT', body: '{}' });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as Record<string, string>).packageArn, 'arn:aws:iot:us-east-1:000000000000:package/unsigned');
  });
});
