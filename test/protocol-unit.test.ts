// Unit tests of the pure protocol pieces: Router, restJson1 codec, SigV4 verification (with @smithy/signature-v4 as
// the signing oracle).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { BindError, bindInput, compilePattern, encodeOutput, validateInput, validationMessage, type HttpRequestParts } from '../src/protocol/codec.ts';
import { ServiceError } from '../src/protocol/errors.ts';
import { loadModel, SERVICE_FILES, type ServiceModel, type ServiceName, type Shape } from '../src/protocol/model.ts';
import { Router } from '../src/protocol/router.ts';
import { MAX_SKEW_MS, uriEscape, verifySignature, type SignedRequest } from '../src/protocol/sigv4.ts';

// ---------------------------------------------------------------- Router

/** A model of only operations (method + URI); the router reads nothing else. */
function routesModel(routes: Record<string, string>): ServiceModel {
  const operations = Object.fromEntries(
    Object.entries(routes).map(([name, route]) => {
      const [method, uri] = route.split(' ');
      return [name, { method, uri, errors: [] }];
    }),
  );
  return { signingName: 'test', apiVersion: '1', operations, shapes: {} };
}

describe('Router', () => {
  const router = new Router(
    routesModel({
      Literal: 'GET /items/special',
      Label: 'GET /items/{name}',
      LabelChild: 'GET /items/{name}/parts',
      Put: 'PUT /items/{name}',
      Greedy: 'GET /files/{key+}',
      FileLiteral: 'GET /files/index',
      Root: 'GET /items',
    }),
  );
  const iot = new Router(loadModel('iot'));
  const jobs = new Router(loadModel('iot-jobs-data'));

  test('a literal segment beats a label at the same position, in either declaration order', () => {
    assert.deepEqual(router.match('GET', '/items/special'), { operation: 'Literal', labels: {} });
    assert.deepEqual(router.match('GET', '/items/other'), { operation: 'Label', labels: { name: 'other' } });
    const reversed = new Router(routesModel({ Label: 'GET /items/{name}', Literal: 'GET /items/special' }));
    assert.equal(reversed.match('GET', '/items/special')?.operation, 'Literal');
  });

  test('a literal that leads nowhere falls back to the label', () => {
    assert.deepEqual(router.match('GET', '/items/special/parts'), { operation: 'LabelChild', labels: { name: 'special' } });
    assert.equal(iot.match('POST', '/thing-groups/addThingToThingGroup')?.operation, 'CreateThingGroup');
    assert.equal(iot.match('PUT', '/thing-groups/addThingToThingGroup')?.operation, 'AddThingToThingGroup');
  });

  test('labels are URL-decoded: names with ":" and "$next"', () => {
    assert.deepEqual(iot.match('GET', '/things/my%3Athing'), { operation: 'DescribeThing', labels: { thingName: 'my:thing' } });
    assert.deepEqual(iot.match('GET', '/things/my:thing'), { operation: 'DescribeThing', labels: { thingName: 'my:thing' } });
    assert.deepEqual(router.match('GET', '/items/a%20b%2Fc'), { operation: 'Label', labels: { name: 'a b/c' } });
    // $next is a literal of StartNextPendingJobExecution, whether or not the client escapes the '$'.
    for (const path of ['/things/t1/jobs/$next', '/things/t1/jobs/%24next']) {
      assert.deepEqual(jobs.match('PUT', path), { operation: 'StartNextPendingJobExecution', labels: { thingName: 't1' } });
    }
    // ... while GET treats it as a job id, as AWS's DescribeJobExecution does.
    assert.deepEqual(jobs.match('GET', '/things/t1/jobs/%24next'), { operation: 'DescribeJobExecution', labels: { thingName: 't1', jobId: '$next' } });
  });

  test('greedy labels take the rest of the path, slashes included; literals still win', () => {
    assert.deepEqual(router.match('GET', '/files/a/b%20c/d'), { operation: 'Greedy', labels: { key: 'a/b c/d' } });
    assert.deepEqual(router.match('GET', '/files/index'), { operation: 'FileLiteral', labels: {} });
    assert.deepEqual(router.match('GET', '/files/index/more'), { operation: 'Greedy', labels: { key: 'index/more' } });
    const arn = 'arn:aws:iot:us-east-1:123456789012:destination/http/abc';
    assert.deepEqual(iot.match('GET', `/destinations/${arn}`), { operation: 'GetTopicRuleDestination', labels: { arn } });
  });

  test('an empty segment binds an empty label, so the member length rule can refuse it', () => {
    assert.deepEqual(router.match('PUT', '/items/'), { operation: 'Put', labels: { name: '' } });
    assert.deepEqual(iot.match('PUT', '/packages/'), { operation: 'CreatePackage', labels: { packageName: '' } });
  });

  test('no match is undefined: unknown paths, undecodable segments, method mismatch', () => {
    assert.equal(router.match('GET', '/nothing'), undefined);
    assert.equal(router.match('GET', '/items/%E0%A4%A'), undefined);
    assert.equal(router.match('GET', '/items/%zz'), undefined);
    assert.equal(router.match('DELETE', '/items/x'), undefined);
    assert.equal(router.match('POST', '/items'), undefined);
    assert.deepEqual(router.match('PUT', '/items/x'), { operation: 'Put', labels: { name: 'x' } });
    assert.equal(iot.match('GET', '/packages/p/versions/v/nope'), undefined);
    assert.equal(iot.match('PATCH', '/packages'), undefined);
  });

  test('the root and repeated slashes', () => {
    assert.equal(router.match('GET', '/items')?.operation, 'Root');
    assert.equal(router.match('GET', '//items')?.operation, 'Root');
    assert.equal(router.match('GET', '/'), undefined);
  });
});

// ---------------------------------------------------------------- codec

const shapes: Record<string, Shape> = {
  Input: {
    type: 'structure',
    required: ['name', 'kind'],
    members: {
      name: { shape: 'Name', location: 'uri', locationName: 'name' },
      limit: { shape: 'Limit', location: 'querystring', locationName: 'maxResults' },
      ratio: { shape: 'Ratio', location: 'querystring', locationName: 'ratio' },
      recursive: { shape: 'Bool', location: 'querystring', locationName: 'recursive' },
      ids: { shape: 'Ids', location: 'querystring', locationName: 'id' },
      since: { shape: 'Time', location: 'querystring', locationName: 'since' },
      trace: { shape: 'Text', location: 'header', locationName: 'X-Trace-Id' },
      kind: { shape: 'Kind' },
      description: { shape: 'Graph' },
      code: { shape: 'Code' },
      note: { shape: 'NoCntrl' },
      tags: { shape: 'Tags' },
      ids2: { shape: 'Ids' },
      nested: { shape: 'Nested' },
      count: { shape: 'Limit' },
    },
  },
  Nested: { type: 'structure', required: ['inner'], members: { inner: { shape: 'Name' }, when: { shape: 'Time' }, blob: { shape: 'Blob' } } },
  Output: {
    type: 'structure',
    members: {
      requestId: { shape: 'Text', location: 'header', locationName: 'x-request-id' },
      name: { shape: 'Text' },
      created: { shape: 'Time' },
      nested: { shape: 'Nested' },
      times: { shape: 'Times' },
      byName: { shape: 'NestedMap' },
      tags: { shape: 'Tags' },
      count: { shape: 'Limit' },
      flag: { shape: 'Bool' },
    },
  },
  Name: { type: 'string', min: 1, max: 8, pattern: '[a-z0-9:]+' },
  Text: { type: 'string' },
  Kind: { type: 'string', enum: ['A', 'B'] },
  Graph: { type: 'string', max: 40, pattern: '[\\p{Graph}\\x20]*' },
  Code: { type: 'string', pattern: '[\\p{Upper}\\p{Digit}_]+' },
  NoCntrl: { type: 'string', pattern: '[^\\p{Cntrl}]*' },
  Limit: { type: 'integer', min: 1, max: 100 },
  Ratio: { type: 'double', min: 0, max: 1 },
  Bool: { type: 'boolean' },
  Time: { type: 'timestamp' },
  Blob: { type: 'blob', max: 4 },
  Ids: { type: 'list', member: 'Name', min: 1, max: 2 },
  Times: { type: 'list', member: 'Time' },
  Tags: { type: 'map', key: 'Name', value: 'Text', min: 1, max: 2 },
  NestedMap: { type: 'map', key: 'Text', value: 'Nested' },
};
const model: ServiceModel = { signingName: 'test', apiVersion: '1', operations: {}, shapes };

function parts(p: { labels?: Record<string, string>; query?: string; headers?: HttpRequestParts['headers']; body?: string } = {}): HttpRequestParts {
  return { labels: p.labels ?? { name: 'n1' }, query: new URLSearchParams(p.query ?? ''), headers: p.headers ?? {}, body: Buffer.from(p.body ?? '') };
}
const bind = (p: Parameters<typeof parts>[0]) => bindInput(model, 'Input', parts(p));
const problems = (input: Record<string, unknown>) => validateInput(model, 'Input', { name: 'n1', kind: 'A', ...input });

describe('codec: bindInput', () => {
  test('query integers, numbers, booleans, lists and timestamps; labels and headers', () => {
    const input = bind({
      labels: { name: 'a:b' },
      query: 'maxResults=25&ratio=0.5&recursive=false&id=x&id=y&since=1700000000.5',
      headers: { 'x-trace-id': 'trace-1' },
      body: '{"kind":"A"}',
    });
    assert.deepEqual(input, {
      name: 'a:b',
      limit: 25,
      ratio: 0.5,
      recursive: false,
      ids: ['x', 'y'],
      since: new Date(1700000000500),
      trace: 'trace-1',
      kind: 'A',
    });
    assert.equal(bind({ query: 'recursive=true' }).recursive, true);
    assert.equal(bind({ query: 'maxResults=-3' }).limit, -3);
    assert.deepEqual(bind({ query: 'since=2024-01-02T03:04:05Z' }).since, new Date('2024-01-02T03:04:05Z'));
  });

  test('bad query values are BindErrors naming the member', () => {
    for (const query of [
      'maxResults=abc',
      'maxResults=1.5',
      'maxResults=',
      'maxResults=1e3',
      'maxResults=%201',
      'ratio=x',
      'ratio=',
      'recursive=TRUE',
      'recursive=1',
      'recursive=',
      'since=never',
    ]) {
      assert.throws(
        () => bind({ query }),
        (err: Error) => err instanceof BindError && /at '(limit|ratio|recursive|since)'/.test(err.message),
        query,
      );
    }
  });

  test('bodies: empty is {}, nulls are dropped, non-objects and wrong member types are BindErrors', () => {
    assert.deepEqual(bind({ body: '' }), { name: 'n1' });
    assert.deepEqual(bind({ body: '{"kind":null,"description":"d","unknown":1}' }), { name: 'n1', description: 'd' });
    const bad: [string, RegExp][] = [
      ['{oops', /Could not parse request body into json/],
      ['[1,2]', /must be a JSON object/],
      ['"text"', /must be a JSON object/],
      ['null', /must be a JSON object/],
      ['{"kind":5}', /'kind' must be a string/],
      ['{"count":1.5}', /'count' must be an integer/],
      ['{"count":"7"}', /'count' must be an integer/],
      ['{"tags":["a"]}', /'tags' must be a map/],
      ['{"ids2":{"a":1}}', /'ids2' must be a list/],
      ['{"ids2":["a",3]}', /'ids2.2' must be a string/],
      ['{"nested":"x"}', /'nested' must be an object/],
      ['{"nested":{"inner":true}}', /'nested.inner' must be a string/],
      ['{"nested":{"when":true}}', /'nested.when' must be a timestamp/],
      ['{"tags":{"k":1}}', /'tags.k' must be a string/],
    ];
    for (const [body, message] of bad)
      assert.throws(
        () => bind({ body }),
        (err: Error) => err instanceof BindError && message.test(err.message),
        body,
      );
  });

  test('a map keeps every key, "__proto__" included', () => {
    const input = bind({ body: '{"tags":{"__proto__":"v","constructor":"c"}}' });
    assert.deepEqual(Object.entries(input.tags as object), [
      ['__proto__', 'v'],
      ['constructor', 'c'],
    ]);
  });
});

describe('codec: validateInput', () => {
  test('a valid input has no problems', () => {
    assert.deepEqual(problems({ limit: 100, ids: ['a'], tags: { k: 'v' }, description: 'Hello, world! ~{}', code: 'ABC_1', nested: { inner: 'x' } }), []);
  });

  test('required members, in nested structures too', () => {
    assert.deepEqual(validateInput(model, 'Input', {}), [
      "Value null at 'name' failed to satisfy constraint: Member must not be null",
      "Value null at 'kind' failed to satisfy constraint: Member must not be null",
    ]);
    assert.deepEqual(problems({ nested: {} }), ["Value null at 'nested.inner' failed to satisfy constraint: Member must not be null"]);
  });

  test('string length, pattern and enum', () => {
    assert.deepEqual(problems({ name: '' }), [
      "Value '' at 'name' failed to satisfy constraint: Member must have length greater than or equal to 1",
      "Value '' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-z0-9:]+",
    ]);
    assert.deepEqual(problems({ name: 'abcdefghi' }), [
      "Value 'abcdefghi' at 'name' failed to satisfy constraint: Member must have length less than or equal to 8",
    ]);
    // Anchored: a value that merely contains a match is refused.
    assert.deepEqual(problems({ name: 'ab cd' }), [
      "Value 'ab cd' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-z0-9:]+",
    ]);
    assert.deepEqual(problems({ kind: 'C' }), ["Value 'C' at 'kind' failed to satisfy constraint: Member must satisfy enum value set: [A, B]"]);
  });

  test('Java POSIX classes: \\p{Graph} is printable ASCII, \\p{Upper}, \\p{Digit}, \\p{Cntrl}', () => {
    for (const ok of ['', 'plain text', '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~']) assert.deepEqual(problems({ description: ok }), [], ok);
    for (const bad of ['tab\there', 'new\nline', 'café', 'emoji 🙂', '\u00a0']) assert.equal(problems({ description: bad }).length, 1, bad);
    assert.deepEqual(problems({ code: 'AB_09' }), []);
    for (const bad of ['ab', 'A-B', 'Ä', '']) assert.equal(problems({ code: bad }).length, 1, bad);
    assert.deepEqual(problems({ note: 'café 🙂 ok' }), []);
    for (const bad of ['bell\u0007', 'del\u007f']) assert.equal(problems({ note: bad }).length, 1, JSON.stringify(bad));
    // U+0000 also breaks the rule every string has (no store keeps it).
    assert.deepEqual(
      problems({ note: 'nul\u0000' }).map((p) => p.replace(/.*constraint: /, '')),
      ['Member must satisfy regular expression pattern: [^\\p{Cntrl}]*', 'Member must not contain the character U+0000 (NUL)'],
    );
    assert.ok(compilePattern('[\\p{Graph}\\x20]*').test('a b'));
  });

  test('every pattern of the three AWS models compiles as a Unicode regex', () => {
    for (const service of Object.keys(SERVICE_FILES) as ServiceName[]) {
      for (const [name, shape] of Object.entries(loadModel(service).shapes)) {
        if (shape.pattern) assert.ok(compilePattern(shape.pattern).flags.includes('u'), `${service} ${name}: ${shape.pattern}`);
      }
    }
  });

  test('list and map sizes, members and keys', () => {
    assert.deepEqual(problems({ ids: [] }), ["Value list of 0 at 'ids' failed to satisfy constraint: Member must have length greater than or equal to 1"]);
    assert.deepEqual(problems({ ids: ['a', 'b', 'c'] }), [
      "Value list of 3 at 'ids' failed to satisfy constraint: Member must have length less than or equal to 2",
    ]);
    assert.deepEqual(problems({ ids: ['a', null] }), ["Value null at 'ids.2' failed to satisfy constraint: Member must not be null"]);
    assert.deepEqual(problems({ ids: ['A'] }), [
      "Value 'A' at 'ids.1' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-z0-9:]+",
    ]);
    assert.deepEqual(problems({ tags: {} }), ["Value map at 'tags' failed to satisfy constraint: Member must have length greater than or equal to 1"]);
    assert.deepEqual(problems({ tags: { a: '1', b: '2', c: '3' } }), [
      "Value map at 'tags' failed to satisfy constraint: Member must have length less than or equal to 2",
    ]);
    assert.deepEqual(problems({ tags: { BAD: 'v' } }), [
      "Value 'BAD' at 'tags.key' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-z0-9:]+",
    ]);
    assert.deepEqual(problems({ tags: { k: null } }), ["Value null at 'tags.k' failed to satisfy constraint: Member must not be null"]);
  });

  test('numeric ranges, and blob length', () => {
    assert.deepEqual(problems({ limit: 1, count: 100, ratio: 0 }), []);
    assert.deepEqual(problems({ limit: 0 }), ["Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"]);
    assert.deepEqual(problems({ count: 101 }), ["Value '101' at 'count' failed to satisfy constraint: Member must have value less than or equal to 100"]);
    assert.deepEqual(problems({ ratio: 1.5 }), ["Value '1.5' at 'ratio' failed to satisfy constraint: Member must have value less than or equal to 1"]);
    assert.equal(problems({ nested: { inner: 'x', blob: Buffer.alloc(5) } }).length, 1);
  });

  test('validationMessage summarises', () => {
    assert.equal(validationMessage(['a']), '1 validation error detected: a');
    assert.equal(validationMessage(['a', 'b']), '2 validation errors detected: a; b');
  });
});

describe('codec: encodeOutput', () => {
  test('dates are epoch seconds with fractions, undefined and null are dropped, headers leave the body', () => {
    const out = encodeOutput(model, 'Output', {
      requestId: 'r-1',
      name: 'n',
      created: new Date(1700000000123),
      nested: { inner: 'i', when: new Date(1700000000000), blob: undefined },
      times: [new Date(1500), new Date(2000)],
      byName: { x: { inner: 'y', when: new Date(250), blob: Buffer.from('hi') } },
      tags: { k: 'v' },
      count: 0,
      flag: false,
      unmodelled: 'dropped',
    } as Record<string, unknown>);
    assert.deepEqual(out.headers, { 'x-request-id': 'r-1' });
    assert.deepEqual(JSON.parse(out.body as string), {
      name: 'n',
      created: 1700000000.123,
      nested: { inner: 'i', when: 1700000000 },
      times: [1.5, 2],
      byName: { x: { inner: 'y', when: 0.25, blob: 'aGk=' } },
      tags: { k: 'v' },
      count: 0,
      flag: false,
    });
    assert.equal(encodeOutput(model, 'Output', { name: undefined, created: null } as Record<string, unknown>).body, '{}');
    assert.equal(encodeOutput(model, undefined, { name: 'x' }).body, '{}');
  });
});

// ---------------------------------------------------------------- SigV4

const SECRETS: Record<string, string> = { AKIDEXAMPLE: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const secretFor = (key: string) => SECRETS[key];
const HOST = '127.0.0.1:4580';

interface ToSign {
  method?: string;
  path: string; // as sent on the wire (already percent-encoded by the client)
  query?: Record<string, string | string[]>;
  headers?: Record<string, string>;
  body?: string;
}

function signer(service: string, secretAccessKey = SECRETS.AKIDEXAMPLE, accessKeyId = 'AKIDEXAMPLE') {
  return new SignatureV4({ service, region: 'eu-west-1', credentials: { accessKeyId, secretAccessKey }, sha256: Sha256, uriEscapePath: service !== 's3' });
}

/** The query as a client writes it: RFC 3986 escaped, in the order given. */
function queryString(query: Record<string, string | string[] | null | undefined>): string {
  return Object.entries(query)
    .flatMap(([k, v]) => (Array.isArray(v) ? v : [v ?? '']).map((item) => `${uriEscape(k)}=${uriEscape(item)}`))
    .join('&');
}

function httpRequest(r: ToSign) {
  return {
    method: r.method ?? 'GET',
    protocol: 'http:',
    hostname: '127.0.0.1',
    port: 4580,
    path: r.path,
    query: r.query ?? {},
    headers: { host: HOST, ...r.headers },
    body: r.body,
  };
}

async function signed(service: string, r: ToSign, opts: { secret?: string; key?: string; date?: Date } = {}): Promise<SignedRequest> {
  const s = await signer(service, opts.secret, opts.key).sign(httpRequest(r), { signingDate: opts.date ?? new Date() });
  return { method: s.method, rawPath: s.path, rawQuery: queryString(s.query ?? {}), headers: lower(s.headers), body: Buffer.from(r.body ?? '') };
}

async function presigned(service: string, r: ToSign, opts: { expiresIn?: number; date?: Date; unsignableHeaders?: Set<string> } = {}): Promise<SignedRequest> {
  const s = await signer(service).presign(httpRequest(r), {
    expiresIn: opts.expiresIn ?? 300,
    signingDate: opts.date ?? new Date(),
    unsignableHeaders: opts.unsignableHeaders,
  });
  return { method: s.method, rawPath: s.path, rawQuery: queryString(s.query ?? {}), headers: lower(s.headers), body: Buffer.from(r.body ?? '') };
}

const lower = (headers: Record<string, string>) => Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
const verify = (req: SignedRequest, now = Date.now()) => verifySignature(req, secretFor, now);
const refusedWith = (code: string, message?: RegExp) => (err: unknown) =>
  err instanceof ServiceError && err.code === code && (!message || message.test(err.message));
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('sigv4: verifySignature', () => {
  const tricky: [string, ToSign][] = [
    ['plain', { path: '/packages' }],
    ['encoded label', { path: '/things/my%3Athing/jobs/%24next' }],
    ['space and plus in path', { path: '/packages/a%20b%2Bc' }],
    ['unescaped path chars', { path: "/things/a:b@c!d'e(f)*" }],
    ['trailing slash and dot segments', { path: '/a/./b/../c/' }],
    ['query with spaces, plus, unicode, reserved', { path: '/packages', query: { q: 'a b+c', 'u n': 'é/ü?&=', empty: '', star: "*!'()" } }],
    ['repeated keys, unsorted', { path: '/packages', query: { z: '1', id: ['b', 'a', 'c'], a: 'x' } }],
    [
      'JSON body with extra headers',
      {
        method: 'PUT',
        path: '/packages/p1',
        query: { clientToken: 'x'.repeat(36) },
        headers: { 'content-type': 'application/json', 'x-amz-meta': '  spaced   out  ' },
        body: '{"description":"d"}',
      },
    ],
  ];
  for (const [name, r] of tricky) {
    test(`accepts the SDK signer's signature for iot: ${name}`, async () => {
      const req = await signed('iot', r);
      const date = String(req.headers['x-amz-date']).slice(0, 8);
      assert.deepEqual(verify(req), { accessKeyId: 'AKIDEXAMPLE', date, region: 'eu-west-1', service: 'iot' });
    });
  }

  test('accepts s3 path-style signatures (the path is signed as sent, not normalised)', async () => {
    for (const path of ['/bucket/key%20with%20space/a%2Bb', '/bucket/a/./b/../c', '/bucket/dir/']) {
      assert.equal(verify(await signed('s3', { path, headers: { 'x-amz-content-sha256': sha256('') } })).service, 's3');
    }
    const body = 'object bytes';
    assert.equal(verify(await signed('s3', { method: 'PUT', path: '/bucket/obj', headers: { 'x-amz-content-sha256': sha256(body) }, body })).service, 's3');
  });

  test('accepts a query sent in another order or escaping than the signed one', async () => {
    const req = await signed('iot', { path: '/packages', query: { b: 'x:y', a: 'p q' } });
    assert.ok(verify({ ...req, rawQuery: 'b=x:y&a=p%20q' }));
  });

  test('refuses a wrong secret, an unknown key, a changed path, query, header or method', async () => {
    const wrongSecret = await signed('iot', { path: '/packages' }, { secret: 'not-the-secret' });
    assert.throws(() => verify(wrongSecret), refusedWith('InvalidSignatureException', /does not match/));
    const unknownKey = await signed('iot', { path: '/packages' }, { key: 'AKIDUNKNOWN' });
    assert.throws(() => verify(unknownKey), refusedWith('UnrecognizedClientException'));
    const req = await signed('iot', { path: '/packages/p1', query: { a: '1' }, headers: { 'x-amz-target': 't' } });
    assert.throws(() => verify({ ...req, rawPath: '/packages/p2' }), refusedWith('InvalidSignatureException'));
    assert.throws(() => verify({ ...req, rawQuery: 'a=2' }), refusedWith('InvalidSignatureException'));
    assert.throws(() => verify({ ...req, headers: { ...req.headers, 'x-amz-target': 'u' } }), refusedWith('InvalidSignatureException'));
    assert.throws(() => verify({ ...req, method: 'DELETE' }), refusedWith('InvalidSignatureException'));
  });

  test('refuses a tampered body, with or without x-amz-content-sha256', async () => {
    const body = '{"description":"original"}';
    const withHash = await signed('iot', { method: 'PUT', path: '/packages/p1', headers: { 'x-amz-content-sha256': sha256(body) }, body });
    assert.ok(verify(withHash));
    assert.throws(() => verify({ ...withHash, body: Buffer.from('{"description":"evil"}') }), refusedWith('InvalidSignatureException', /x-amz-content-sha256/));
    const withoutHash = await signed('iot', { method: 'PUT', path: '/packages/p1', body });
    assert.throws(() => verify({ ...withoutHash, body: Buffer.from('{"description":"evil"}') }), refusedWith('InvalidSignatureException'));
  });

  test('refuses a clock skew beyond 15 minutes either way, accepts within', async () => {
    const now = Date.now();
    const at = (offset: number) => signed('iot', { path: '/packages' }, { date: new Date(now + offset) });
    assert.ok(verify(await at(-MAX_SKEW_MS + 60_000), now));
    assert.ok(verify(await at(MAX_SKEW_MS - 60_000), now));
    const old = await at(-MAX_SKEW_MS - 60_000);
    assert.throws(() => verify(old, now), refusedWith('InvalidSignatureException', /^Signature expired: .* - 15 min\.\)$/));
    const ahead = await at(MAX_SKEW_MS + 60_000);
    assert.throws(() => verify(ahead, now), refusedWith('InvalidSignatureException', /^Signature not yet current: .* \+ 15 min\.\)$/));
  });

  test('refuses unsigned, incomplete and unsupported authorizations', () => {
    const base = { method: 'GET', rawPath: '/packages', rawQuery: '', body: Buffer.alloc(0) };
    assert.throws(() => verify({ ...base, headers: { host: HOST } }), refusedWith('MissingAuthenticationTokenException'));
    for (const authorization of [
      'Bearer abc',
      'AWS4-HMAC-SHA256',
      'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/us-east-1/iot, SignedHeaders=host, Signature=00',
    ]) {
      assert.throws(() => verify({ ...base, headers: { host: HOST, authorization } }), refusedWith('IncompleteSignatureException'), authorization);
    }
    const noDate = 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/us-east-1/iot/aws4_request, SignedHeaders=host, Signature=00';
    assert.throws(() => verify({ ...base, headers: { host: HOST, authorization: noDate } }), refusedWith('IncompleteSignatureException'));
    assert.throws(
      () => verify({ ...base, headers: {}, rawQuery: 'X-Amz-Credential=AKIDEXAMPLE%2F20240101%2Fus-east-1%2Fiot%2Faws4_request' }),
      refusedWith('IncompleteSignatureException'),
    );
  });
});

describe('sigv4: presigned URLs', () => {
  test('accepts a valid presigned URL for iot (empty-payload hash) and for s3 (UNSIGNED-PAYLOAD)', async () => {
    const iot = await presigned('iot', { path: '/mqtt', query: { 'x y': 'a+b' } });
    assert.equal(iot.headers.authorization, undefined);
    assert.equal(verify(iot).service, 'iot');
    const s3 = await presigned(
      's3',
      { method: 'PUT', path: '/bucket/key', headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' }, body: 'data' },
      { unsignableHeaders: new Set(['x-amz-content-sha256']) },
    );
    delete s3.headers['x-amz-content-sha256']; // the header only chose the payload hash; the URL does not carry it
    assert.equal(verify(s3).service, 's3');
  });

  test('refuses an expired URL, and a URL with a changed query', async () => {
    const now = Date.now();
    const req = await presigned('iot', { path: '/mqtt' }, { expiresIn: 60, date: new Date(now - 120_000) });
    assert.throws(() => verify(req, now), refusedWith('InvalidSignatureException', /expired/i));
    assert.ok(verify(req, now - 90_000)); // the same URL, while it was still valid
    const fresh = await presigned('iot', { path: '/mqtt', query: { a: '1' } });
    assert.throws(() => verify({ ...fresh, rawQuery: fresh.rawQuery.replace('a=1', 'a=2') }), refusedWith('InvalidSignatureException'));
  });

  test('refuses an X-Amz-Expires that is not a number of seconds up to 7 days', async () => {
    const req = await presigned('iot', { path: '/mqtt' });
    for (const expires of ['soon', '-1', '604801', '']) {
      const rawQuery = req.rawQuery.replace(/X-Amz-Expires=\d+/, `X-Amz-Expires=${expires}`);
      assert.throws(() => verify({ ...req, rawQuery }), refusedWith('IncompleteSignatureException', /X-Amz-Expires/), expires);
    }
  });
});
