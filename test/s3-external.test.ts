// The BlobStore interface over both stores, and crash safety of the embedded one. The "external S3" is a second
// Flotilla, a real child process verifying SigV4, reached over real sockets; a third Flotilla runs with
// `blob: <its url>`. The crash test SIGKILLs a Flotilla in the middle of an upload and restarts it.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, utimesSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { BlobStore } from '../src/blob/blob.ts';
import { ExternalBlobStore } from '../src/blob/external.ts';
import { cleanups, runCleanups, spawnFlotilla, tempPlace, type Child } from './support/child.ts';
import { startTestServer, type TestServer } from './support/server.ts';

const EXT = { accessKeyId: 'EXTKEY', secretAccessKey: 'extsecret' };
const SCOPE = { account: '000000000000', region: 'us-east-1' };
const TEST = { timeout: 120_000 };

after(runCleanups);

function s3Client(endpoint: string, credentials = EXT): S3Client {
  const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials, maxAttempts: 1 });
  cleanups.push(() => client.destroy());
  return client;
}

const text = async (stream: Readable) => {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
};

/** What every BlobStore must do, given objects seeded in bucket `artifacts` (versioned) and `plain`. */
async function exerciseBlobStore(blob: BlobStore, seeded: { v1: string; v2: string }, signaturesChecked = true) {
  const head = await blob.head(SCOPE, { bucket: 'artifacts', key: 'fw/app.bin' });
  assert.deepEqual(head, {
    size: 'second version'.length,
    etag: `"${createHash('md5').update('second version').digest('hex')}"`,
    versionId: seeded.v2,
    contentType: 'application/octet-stream',
  });
  assert.equal((await blob.head(SCOPE, { bucket: 'artifacts', key: 'fw/app.bin', version: seeded.v1 }))?.size, 'first'.length);
  assert.equal(await blob.head(SCOPE, { bucket: 'artifacts', key: 'missing' }), undefined);
  assert.equal(await blob.head(SCOPE, { bucket: 'no-such-bucket', key: 'x' }), undefined);
  assert.equal(await blob.head(SCOPE, { bucket: 'artifacts', key: 'gone' }), undefined, 'a delete marker reads as absent');
  assert.equal(await blob.head(SCOPE, { bucket: 'artifacts', key: 'fw/app.bin', version: '0000000000000000000000000000aaaa' }), undefined);

  const latest = await blob.get(SCOPE, { bucket: 'artifacts', key: 'fw/app.bin' });
  assert.ok(latest);
  assert.equal(latest.size, 'second version'.length);
  assert.equal(latest.versionId, seeded.v2);
  assert.equal(await text(latest.stream), 'second version');
  const first = await blob.get(SCOPE, { bucket: 'artifacts', key: 'fw/app.bin', version: seeded.v1 });
  assert.equal(await text(first!.stream), 'first');
  assert.equal(await blob.get(SCOPE, { bucket: 'artifacts', key: 'missing' }), undefined);

  const plain = await blob.head(SCOPE, { bucket: 'plain', key: 'dir/readme.txt' });
  assert.equal(plain?.versionId, undefined);
  assert.equal(plain?.contentType, 'text/plain');

  const url = await blob.presignGet(SCOPE, { bucket: 'plain', key: 'dir/readme.txt' }, 300);
  const res = await fetch(url);
  assert.equal(res.status, 200, await res.clone().text());
  assert.equal(await res.text(), 'read me');
  const versionUrl = await blob.presignGet(SCOPE, { bucket: 'artifacts', key: 'fw/app.bin', version: seeded.v1 }, 300);
  assert.equal(await (await fetch(versionUrl)).text(), 'first');
  const tampered = await fetch(url.replace('/dir/readme.txt', '/dir/other.txt'));
  assert.equal(tampered.status, signaturesChecked ? 403 : 404); // with --auth off any signature passes
}

/** Seeds the objects exerciseBlobStore expects through an S3 client. */
async function seed(client: S3Client): Promise<{ v1: string; v2: string }> {
  await client.send(new CreateBucketCommand({ Bucket: 'artifacts' }));
  await client.send(new PutBucketVersioningCommand({ Bucket: 'artifacts', VersioningConfiguration: { Status: 'Enabled' } }));
  const v1 = await client.send(new PutObjectCommand({ Bucket: 'artifacts', Key: 'fw/app.bin', Body: 'first', ContentType: 'application/octet-stream' }));
  const v2 = await client.send(
    new PutObjectCommand({ Bucket: 'artifacts', Key: 'fw/app.bin', Body: 'second version', ContentType: 'application/octet-stream' }),
  );
  await client.send(new PutObjectCommand({ Bucket: 'artifacts', Key: 'gone', Body: 'x' }));
  await client.send(new DeleteObjectCommand({ Bucket: 'artifacts', Key: 'gone' }));
  await client.send(new CreateBucketCommand({ Bucket: 'plain' }));
  await client.send(new PutObjectCommand({ Bucket: 'plain', Key: 'dir/readme.txt', Body: 'read me', ContentType: 'text/plain' }));
  return { v1: v1.VersionId!, v2: v2.VersionId! };
}

describe('external S3: another Flotilla process', () => {
  let other: Child;
  let seeded: { v1: string; v2: string };
  before(async () => {
    const place = await tempPlace('flotilla-s3-');
    other = await spawnFlotilla(place.dataDir, place.database, ['--auth', 'sigv4', '--credentials', `${EXT.accessKeyId}:${EXT.secretAccessKey}`]);
    seeded = await seed(s3Client(other.endpoint));
    // The external store takes its credentials from the standard AWS chain.
    process.env.AWS_ACCESS_KEY_ID = EXT.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = EXT.secretAccessKey;
  });

  test('ExternalBlobStore: head, get and presignGet against the other endpoint', TEST, async () => {
    const blob = new ExternalBlobStore(other.endpoint, 'us-east-1', 5000);
    cleanups.push(() => blob.close());
    assert.equal(blob.kind, 'external');
    await exerciseBlobStore(blob, seeded);
  });

  test('a Flotilla started with blob: <url> serves its BlobStore from the other one', TEST, async () => {
    const server = await startTestServer({ blob: other.endpoint });
    cleanups.push(() => server.stop());
    assert.equal(server.flotilla.config.blob, other.endpoint);
    assert.equal(server.flotilla.blob.kind, 'external');
    await exerciseBlobStore(server.flotilla.blob, seeded);
    // It keeps no objects of its own.
    assert.ok(!existsSync(join(server.dataDir, 'objects')));
  });
});

describe('embedded BlobStore', () => {
  const servers: Record<string, TestServer> = {};
  for (const [name, options] of [
    ['auth off', {}],
    ['sigv4', { auth: 'sigv4' as const, credentials: `${EXT.accessKeyId}:${EXT.secretAccessKey}` }],
  ] as const) {
    test(`head, get and presignGet (${name})`, TEST, async () => {
      const server = await startTestServer(options);
      servers[name] = server;
      cleanups.push(() => server.stop());
      const seeded = await seed(s3Client(server.endpoint));
      assert.equal(server.flotilla.blob.kind, 'embedded');
      await exerciseBlobStore(server.flotilla.blob, seeded, name === 'sigv4');
    });
  }

  test('buckets are per account: another account sees nothing, and its presigned URLs read its own objects', TEST, async () => {
    const server = servers['auth off'];
    const blob = server.flotilla.blob;
    const account = { account: '123456789012', region: 'us-east-1' };
    assert.equal(await blob.head(account, { bucket: 'plain', key: 'dir/readme.txt' }), undefined);
    const client = s3Client(server.endpoint, { accessKeyId: account.account, secretAccessKey: 'any' });
    await client.send(new CreateBucketCommand({ Bucket: 'plain' }));
    await client.send(new PutObjectCommand({ Bucket: 'plain', Key: 'dir/readme.txt', Body: 'account two' }));
    assert.equal(await (await fetch(await blob.presignGet(account, { bucket: 'plain', key: 'dir/readme.txt' }, 60))).text(), 'account two');
    assert.equal(await (await fetch(await blob.presignGet(SCOPE, { bucket: 'plain', key: 'dir/readme.txt' }, 60))).text(), 'read me');
  });
});

describe('crash safety', () => {
  test('an upload cut off by SIGKILL leaves nothing visible, and its temp file is removed on restart', TEST, async () => {
    const place = await tempPlace('flotilla-s3-');
    const first = await spawnFlotilla(place.dataDir, place.database);
    const client = s3Client(first.endpoint);
    await client.send(new CreateBucketCommand({ Bucket: 'crash' }));
    await client.send(new PutObjectCommand({ Bucket: 'crash', Key: 'committed', Body: 'safe' }));

    // Half of a 1 MiB upload, then the server dies.
    const url = new URL(first.endpoint);
    const tmp = join(place.dataDir, 'objects', 'tmp');
    const upload = request({
      host: url.hostname,
      port: url.port,
      method: 'PUT',
      path: '/crash/partial',
      headers: {
        authorization: `AWS4-HMAC-SHA256 Credential=AKIDTEST/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=${'0'.repeat(64)}`,
        'x-amz-date': '20260101T000000Z',
        'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
        'content-length': String(1024 * 1024),
      },
    });
    upload.on('error', () => {}); // the connection dies with the server
    upload.write(Buffer.alloc(512 * 1024, 1));
    for (let i = 0; i < 300 && readdirSync(tmp).length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    first.process.kill('SIGKILL');
    await first.exited;
    const leftovers = readdirSync(tmp);
    assert.equal(leftovers.length, 1, 'the half upload is in a temp file');
    // With PostgreSQL, replicas may share the data dir, so only temp files idle for an hour are removed: age it.
    const old = new Date(Date.now() - 2 * 3600_000);
    utimesSync(join(tmp, leftovers[0]), old, old);

    const second = await spawnFlotilla(place.dataDir, place.database);
    assert.deepEqual(readdirSync(tmp), []);
    const restarted = s3Client(second.endpoint);
    const listed = await restarted.send(new ListObjectsV2Command({ Bucket: 'crash' }));
    assert.deepEqual(
      listed.Contents?.map((c) => c.Key),
      ['committed'],
    );
    await assert.rejects(restarted.send(new HeadObjectCommand({ Bucket: 'crash', Key: 'partial' })), { name: 'NotFound' });
    second.process.kill('SIGTERM');
    await second.exited;
  });
});
