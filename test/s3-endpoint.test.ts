// The embedded S3 endpoint through the real @aws-sdk/client-s3, on a server that verifies SigV4: buckets, objects
// with the SDK's default aws-chunked uploads and with WHEN_REQUIRED, multi-MiB bodies, ranges, integrity checks,
// signed chunks, and S3's XML errors. Listings, versioning and presigned URLs: s3-listing.test.ts.
import assert from 'node:assert/strict';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join, sep } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketLocationCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { assertErrorXml, bytes, KEY, OTHER, s3Error, sha256Hex, startS3Server, type RawResponse, type S3TestServer } from './support/s3.ts';

const MAX_OBJECT = 20 * 1024 * 1024;

let t: S3TestServer;
let s3: S3Client;
let s3Required: S3Client;
before(async () => {
  t = await startS3Server({ maxObjectSize: MAX_OBJECT });
  ({ s3, s3Required } = t);
});
after(() => t.stop());

const walk = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));

describe('buckets', () => {
  test('create, head, list, delete; names are checked; buckets belong to an account', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'lifecycle' }));
    const head = await s3.send(new HeadBucketCommand({ Bucket: 'lifecycle' }));
    assert.equal(head.$metadata.httpStatusCode, 200);
    assert.equal(head.BucketRegion, 'us-east-1');
    const list = await s3.send(new ListBucketsCommand({}));
    assert.ok(list.Buckets?.some((b) => b.Name === 'lifecycle' && b.CreationDate instanceof Date));

    assert.equal((await s3.send(new GetBucketLocationCommand({ Bucket: 'lifecycle' }))).LocationConstraint, undefined); // us-east-1
    await s3Error(() => s3.send(new CreateBucketCommand({ Bucket: 'lifecycle' })), 409, 'BucketAlreadyOwnedByYou');
    await s3.send(new CreateBucketCommand({ Bucket: 'in-ireland', CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }));
    assert.equal((await s3.send(new HeadBucketCommand({ Bucket: 'in-ireland' }))).BucketRegion, 'eu-west-1');
    assert.equal((await s3.send(new GetBucketLocationCommand({ Bucket: 'in-ireland' }))).LocationConstraint, 'eu-west-1');
    for (const bad of ['ab', 'UpperCase', 'under_score', '-dash', '192.168.0.1', 'a..b']) {
      await s3Error(() => s3.send(new CreateBucketCommand({ Bucket: bad })), 400, 'InvalidBucketName');
    }

    // Another account does not see the bucket and may have one of the same name.
    const other = t.client({ credentials: OTHER });
    assert.ok(!(await other.send(new ListBucketsCommand({}))).Buckets?.some((b) => b.Name === 'lifecycle'));
    await s3Error(() => other.send(new HeadBucketCommand({ Bucket: 'lifecycle' })), 404, 'NotFound');
    await other.send(new CreateBucketCommand({ Bucket: 'lifecycle' }));
    await other.send(new DeleteBucketCommand({ Bucket: 'lifecycle' }));

    await s3.send(new PutObjectCommand({ Bucket: 'lifecycle', Key: 'k', Body: 'x' }));
    await s3Error(() => s3.send(new DeleteBucketCommand({ Bucket: 'lifecycle' })), 409, 'BucketNotEmpty');
    await s3.send(new DeleteObjectCommand({ Bucket: 'lifecycle', Key: 'k' }));
    await s3.send(new DeleteBucketCommand({ Bucket: 'lifecycle' }));
    await s3Error(() => s3.send(new HeadBucketCommand({ Bucket: 'lifecycle' })), 404, 'NotFound');
    await s3Error(() => s3.send(new DeleteBucketCommand({ Bucket: 'lifecycle' })), 404, 'NoSuchBucket');
    await s3Error(() => s3.send(new PutObjectCommand({ Bucket: 'lifecycle', Key: 'k', Body: 'x' })), 404, 'NoSuchBucket');
  });
});

describe('objects', () => {
  before(() => s3.send(new CreateBucketCommand({ Bucket: 'objects' })));

  test('SDK defaults: a streamed upload (aws-chunked + CRC32 trailer) stores exactly the object bytes', async () => {
    const parts = [Buffer.from('hello '), Buffer.from('stream'), randomBytes(70_000)];
    const expected = Buffer.concat(parts);
    const put = await s3.send(
      new PutObjectCommand({
        Bucket: 'objects',
        Key: 'dir/streamed.bin',
        Body: Readable.from(parts),
        ContentLength: expected.length,
        ContentType: 'application/x-test',
        Metadata: { origin: 'test', n: '1' },
      }),
    );
    assert.equal(put.ETag, `"${createHash('md5').update(expected).digest('hex')}"`);
    assert.ok(put.ChecksumCRC32);

    const got = await s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'dir/streamed.bin' }));
    assert.deepEqual(await bytes(got.Body), expected);
    assert.equal(got.ContentType, 'application/x-test');
    assert.deepEqual(got.Metadata, { origin: 'test', n: '1' });
    assert.equal(got.ChecksumCRC32, put.ChecksumCRC32); // and the SDK validated the body against it
    assert.equal(got.ContentLength, expected.length);
    assert.ok(got.LastModified instanceof Date);

    // On disk: the object's bytes, not the aws-chunked framing.
    const objectsDir = join(t.server.dataDir, 'objects');
    const files = walk(objectsDir).filter((f) => !f.startsWith(join(objectsDir, 'tmp') + sep));
    assert.ok(
      files.some((f) => readFileSync(f).equals(expected)),
      'a file under objects/ holds exactly the object',
    );

    const head = await s3.send(new HeadObjectCommand({ Bucket: 'objects', Key: 'dir/streamed.bin' }));
    assert.equal(head.ContentLength, expected.length);
    assert.equal(head.ETag, put.ETag);
    assert.equal(head.VersionId, undefined);
  });

  test('SDK defaults with a Buffer, and WHEN_REQUIRED with a Buffer and a stream', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'objects', Key: 'buffer-default', Body: Buffer.from('default buffer') }));
    assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'buffer-default' }))).Body!.transformToString(), 'default buffer');

    await s3Required.send(new PutObjectCommand({ Bucket: 'objects', Key: 'buffer-required', Body: Buffer.from('required buffer') }));
    assert.equal(
      await (await s3Required.send(new GetObjectCommand({ Bucket: 'objects', Key: 'buffer-required' }))).Body!.transformToString(),
      'required buffer',
    );

    await s3Required.send(
      new PutObjectCommand({
        Bucket: 'objects',
        Key: 'stream-required',
        Body: Readable.from([Buffer.from('required '), Buffer.from('stream')]),
        ContentLength: 15,
      }),
    );
    assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'stream-required' }))).Body!.transformToString(), 'required stream');

    await s3.send(new PutObjectCommand({ Bucket: 'objects', Key: 'empty', Body: '' }));
    const empty = await s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'empty' }));
    assert.equal(empty.ContentLength, 0);
    assert.equal((await bytes(empty.Body)).length, 0);

    const odd = 'odd key/with spaces+plus/ünïcödé/%41?&=#.txt';
    await s3.send(new PutObjectCommand({ Bucket: 'objects', Key: odd, Body: 'odd' }));
    assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: 'objects', Key: odd }))).Body!.transformToString(), 'odd');
  });

  test('multi-MiB bodies beyond the 8 MiB API limit, streamed and buffered', async () => {
    const big = randomBytes(12 * 1024 * 1024 + 17);
    await s3.send(
      new PutObjectCommand({
        Bucket: 'objects',
        Key: 'big-streamed',
        Body: Readable.from([big.subarray(0, 5_000_000), big.subarray(5_000_000)]),
        ContentLength: big.length,
      }),
    );
    await s3Required.send(new PutObjectCommand({ Bucket: 'objects', Key: 'big-buffered', Body: big }));
    for (const key of ['big-streamed', 'big-buffered']) {
      const got = await s3.send(new GetObjectCommand({ Bucket: 'objects', Key: key }));
      assert.equal(sha256Hex(await bytes(got.Body)), sha256Hex(big), key);
    }
  });

  test('conditional GETs, and keys up to 1024 bytes', async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket: 'objects', Key: 'conditional', Body: 'c' }));
    await assert.rejects(
      s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'conditional', IfNoneMatch: put.ETag })),
      (err: any) => err.$metadata.httpStatusCode === 304,
    );
    await s3Error(() => s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'conditional', IfMatch: '"0000"' })), 412, 'PreconditionFailed');
    assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'conditional', IfMatch: put.ETag }))).Body!.transformToString(), 'c');
    const longest = `${'k/'.repeat(300)}${'x'.repeat(424)}`;
    assert.equal(Buffer.byteLength(longest), 1024);
    await s3.send(new PutObjectCommand({ Bucket: 'objects', Key: longest, Body: 'long' }));
    assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: 'objects', Key: longest }))).Body!.transformToString(), 'long');
    await s3Error(() => s3.send(new PutObjectCommand({ Bucket: 'objects', Key: `${longest}y`, Body: 'too long' })), 400, 'KeyTooLongError');
  });

  test('Range answers 206 with Content-Range; an unsatisfiable one is InvalidRange', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'objects', Key: 'digits', Body: '0123456789' }));
    const cases: [string, string, string][] = [
      ['bytes=0-3', '0123', 'bytes 0-3/10'],
      ['bytes=7-', '789', 'bytes 7-9/10'],
      ['bytes=-2', '89', 'bytes 8-9/10'],
      ['bytes=5-100', '56789', 'bytes 5-9/10'],
    ];
    for (const [range, body, contentRange] of cases) {
      const got = await s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'digits', Range: range }));
      assert.equal(got.$metadata.httpStatusCode, 206);
      assert.equal(got.ContentRange, contentRange);
      assert.equal(await got.Body!.transformToString(), body);
    }
    await s3Error(() => s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'digits', Range: 'bytes=10-' })), 416, 'InvalidRange');
    const res = await (await t.signed('GET', '/objects/digits', { headers: { range: 'bytes=20-30' } })).send();
    assert.equal(res.status, 416);
    assert.equal(res.headers['content-range'], 'bytes */10');
    assertErrorXml(res.body, 'InvalidRange');
  });

  test('missing keys, buckets and delete are S3 errors in S3 XML', async () => {
    await s3Error(() => s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'nope' })), 404, 'NoSuchKey');
    await s3Error(() => s3.send(new HeadObjectCommand({ Bucket: 'objects', Key: 'nope' })), 404, 'NotFound');
    await s3Error(() => s3.send(new GetObjectCommand({ Bucket: 'no-such-bucket', Key: 'k' })), 404, 'NoSuchBucket');
    await s3Error(() => s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'digits', VersionId: 'v1' })), 404, 'NoSuchVersion');
    for (const [method, path, code, status] of [
      ['GET', '/objects/nope', 'NoSuchKey', 404],
      ['GET', '/no-such-bucket', 'NoSuchBucket', 404],
      ['PUT', '/Bad_Name', 'InvalidBucketName', 400],
      ['PATCH', '/objects/digits', 'MethodNotAllowed', 405],
      ['GET', '/objects/digits?tagging=', 'NotImplemented', 501],
    ] as const) {
      const [p, q] = path.split('?');
      const res = await (await t.signed(method, p, { query: q ? Object.fromEntries(new URLSearchParams(q)) : undefined })).send();
      assert.equal(res.status, status, `${method} ${path}: ${res.body}`);
      assertErrorXml(res.body, code);
    }
    await s3Error(() => s3.send(new PutObjectTaggingCommand({ Bucket: 'objects', Key: 'digits', Tagging: { TagSet: [] } })), 501, 'NotImplemented');
    await s3Error(() => s3.send(new DeleteObjectsCommand({ Bucket: 'objects', Delete: { Objects: [{ Key: 'digits' }] } })), 501, 'NotImplemented');

    await s3.send(new PutObjectCommand({ Bucket: 'objects', Key: 'doomed', Body: 'x' }));
    const deleted = await s3.send(new DeleteObjectCommand({ Bucket: 'objects', Key: 'doomed' }));
    assert.equal(deleted.$metadata.httpStatusCode, 204);
    assert.equal(deleted.DeleteMarker, undefined);
    await s3Error(() => s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'doomed' })), 404, 'NoSuchKey');
    await s3.send(new DeleteObjectCommand({ Bucket: 'objects', Key: 'doomed' })); // deleting nothing is fine
  });

  test('Content-MD5, x-amz-checksum-* and x-amz-content-sha256 are verified against the bytes', async () => {
    const body = Buffer.from('checked body');
    const md5 = createHash('md5').update(body).digest('base64');
    await s3Required.send(new PutObjectCommand({ Bucket: 'objects', Key: 'md5-ok', Body: body, ContentMD5: md5 }));
    const wrongMd5 = createHash('md5').update('other').digest('base64');
    await s3Error(() => s3Required.send(new PutObjectCommand({ Bucket: 'objects', Key: 'md5-bad', Body: body, ContentMD5: wrongMd5 })), 400, 'BadDigest');
    await s3Error(() => s3Required.send(new PutObjectCommand({ Bucket: 'objects', Key: 'crc-bad', Body: body, ChecksumCRC32: 'AAAAAA==' })), 400, 'BadDigest');
    await s3Required.send(
      new PutObjectCommand({ Bucket: 'objects', Key: 'sha1-ok', Body: body, ChecksumSHA1: createHash('sha1').update(body).digest('base64') }),
    );
    await s3Error(
      () =>
        s3Required.send(
          new PutObjectCommand({ Bucket: 'objects', Key: 'sha256-bad', Body: body, ChecksumSHA256: createHash('sha256').update('x').digest('base64') }),
        ),
      400,
      'BadDigest',
    );
    for (const algorithm of ['CRC32C', 'SHA256', 'SHA1', 'CRC32'] as const) {
      const put = await s3.send(
        new PutObjectCommand({
          Bucket: 'objects',
          Key: `algo-${algorithm}`,
          Body: Readable.from([body]),
          ContentLength: body.length,
          ChecksumAlgorithm: algorithm,
        }),
      );
      const got = await s3.send(new GetObjectCommand({ Bucket: 'objects', Key: `algo-${algorithm}` }));
      assert.deepEqual(await bytes(got.Body), body, algorithm);
      assert.equal(got[`Checksum${algorithm}`], put[`Checksum${algorithm}`], algorithm);
    }

    // A signed x-amz-content-sha256 that is not the body's hash.
    const lying = await t.signed('PUT', '/objects/lying', { body, headers: { 'x-amz-content-sha256': sha256Hex('something else') } });
    const res = await lying.send();
    assert.equal(res.status, 400);
    assertErrorXml(res.body, 'XAmzContentSHA256Mismatch');
    await s3Error(() => s3.send(new HeadObjectCommand({ Bucket: 'objects', Key: 'lying' })), 404, 'NotFound');
    const bad = await (await t.signed('PUT', '/objects/md5-raw', { body, headers: { 'content-md5': wrongMd5 } })).send();
    assertErrorXml(bad.body, 'BadDigest');
  });

  test('a declared size above the configured cap is EntityTooLarge before any byte is read', async () => {
    const req = await t.signed('PUT', '/objects/too-big', {
      headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', 'content-length': String(MAX_OBJECT + 1), expect: '100-continue' },
    });
    const url = new URL(t.server.endpoint);
    const res = await new Promise<RawResponse>((resolve, reject) => {
      const r = request({ host: url.hostname, port: url.port, method: 'PUT', path: req.path, headers: req.headers }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (c) => chunks.push(c));
        response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, body: Buffer.concat(chunks).toString() }));
      });
      r.on('error', reject);
      r.flushHeaders(); // the body is never sent
    });
    assert.equal(res.status, 400);
    assertErrorXml(res.body, 'EntityTooLarge');
  });

  test('a signed aws-chunked upload (STREAMING-AWS4-HMAC-SHA256-PAYLOAD) has every chunk signature checked', async () => {
    const data = randomBytes(150_000);
    const upload = async (key: string, tamper: boolean) => {
      const sizes = [65536, 65536, data.length - 131072];
      const encodedLength = sizes.reduce((n, s) => n + s.toString(16).length + 17 + 64 + 2 + s + 2, 0) + 1 + 17 + 64 + 4;
      const req = await t.signed('PUT', `/objects/${key}`, {
        headers: {
          'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
          'content-encoding': 'aws-chunked',
          'x-amz-decoded-content-length': String(data.length),
          'content-length': String(encodedLength),
        },
      });
      const auth = req.headers.authorization;
      const seed = /Signature=([0-9a-f]{64})/.exec(auth)![1];
      const amzDate = req.headers['x-amz-date'];
      const scope = `${amzDate.slice(0, 8)}/us-east-1/s3/aws4_request`;
      const hmac = (k: string | Buffer, d: string) => createHmac('sha256', k).update(d).digest();
      const signingKey = hmac(hmac(hmac(hmac(`AWS4${KEY.secretAccessKey}`, amzDate.slice(0, 8)), 'us-east-1'), 's3'), 'aws4_request');
      let previous = seed;
      const frames: Buffer[] = [];
      let offset = 0;
      for (const size of [...sizes, 0]) {
        const chunk = data.subarray(offset, offset + size);
        offset += size;
        const toSign = ['AWS4-HMAC-SHA256-PAYLOAD', amzDate, scope, previous, sha256Hex(''), sha256Hex(chunk)].join('\n');
        let signature = createHmac('sha256', signingKey).update(toSign).digest('hex');
        previous = signature;
        if (tamper && size === 65536 && offset === 131072) signature = signature.replace(/^./, (c) => (c === '0' ? '1' : '0'));
        frames.push(Buffer.from(`${size.toString(16)};chunk-signature=${signature}\r\n`), chunk, Buffer.from('\r\n'));
      }
      const body = Buffer.concat(frames);
      assert.equal(body.length, encodedLength);
      return t.send('PUT', req.path, req.headers, body);
    };
    const ok = await upload('signed-chunks', false);
    assert.equal(ok.status, 200, ok.body);
    assert.deepEqual(await bytes((await s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'signed-chunks' }))).Body), data);
    const bad = await upload('tampered-chunks', true);
    assert.equal(bad.status, 403);
    assertErrorXml(bad.body, 'SignatureDoesNotMatch');
    await s3Error(() => s3.send(new HeadObjectCommand({ Bucket: 'objects', Key: 'tampered-chunks' })), 404, 'NotFound');
  });

  test('a wrong secret is SignatureDoesNotMatch; an unknown key InvalidAccessKeyId', async () => {
    await s3Error(() => t.client({ credentials: { ...KEY, secretAccessKey: 'wrong' } }).send(new ListBucketsCommand({})), 403, 'SignatureDoesNotMatch');
    await s3Error(() => t.client({ credentials: { accessKeyId: 'NOBODY', secretAccessKey: 'x' } }).send(new ListBucketsCommand({})), 403, 'InvalidAccessKeyId');
  });
});
