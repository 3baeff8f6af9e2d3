// Bounded input on the object-storage side: keys with U+0000 are refused alike on both stores, aws-chunked trailers
// have a cap, a documentSource read stops at the job-document limit whatever size the store advertises, and object
// files a crash left without a metadata row are swept at start.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateJobCommand, CreateThingCommand } from '@aws-sdk/client-iot';
import { startFlotilla } from '../src/index.ts';
import { cleanups, runCleanups } from './support/child.ts';
import { assertErrorXml, s3Error, startS3Server, type S3TestServer } from './support/s3.ts';
import { awsError, createTestDatabase, startTestServer } from './support/server.ts';

after(runCleanups);

describe('the S3 edge', () => {
  let t: S3TestServer;
  let s3: S3Client;

  before(async () => {
    t = await startS3Server();
    cleanups.push(() => t.stop());
    s3 = t.s3Required;
    await s3.send(new CreateBucketCommand({ Bucket: 'bounds' }));
  });

  test('a key or bucket holding U+0000 is 400 InvalidURI, and nothing is stored', async () => {
    const err = await s3Error(() => s3.send(new PutObjectCommand({ Bucket: 'bounds', Key: 'a\u0000b', Body: 'x' })), 400, 'InvalidURI');
    assert.match(err.message, /U\+0000/);
    await s3Error(() => s3.send(new GetObjectCommand({ Bucket: 'bounds', Key: 'nul\u0000' })), 400, 'InvalidURI');
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'bounds', Key: 'nul\u0000' })).catch((e) => e);
    assert.equal(head.$metadata?.httpStatusCode, 400, 'HEAD answers the same status, without a body');
    const raw = await (await t.signed('PUT', '/bou%00nds')).send();
    assert.equal(raw.status, 400);
    assertErrorXml(raw.body, 'InvalidURI');
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'bounds' }));
    assert.equal(listed.KeyCount, 0);
  });

  test('a query parameter holding U+0000 is 400 InvalidArgument', async () => {
    const err = await s3Error(() => s3.send(new ListObjectsV2Command({ Bucket: 'bounds', Prefix: 'a\u0000' })), 400, 'InvalidArgument');
    assert.match(err.message, /prefix/);
  });

  test('an aws-chunked trailer of more than 16 lines is 400 InvalidRequest', async () => {
    const trailer = Array.from({ length: 1000 }, (_, i) => `x-amz-meta-junk-${i}:${'v'.repeat(10)}\r\n`).join('');
    const body = Buffer.from(`5\r\nhello\r\n0\r\n${trailer}\r\n`);
    const headers = { 'content-encoding': 'aws-chunked', 'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', 'x-amz-decoded-content-length': '5' };
    const res = await (await t.signed('PUT', '/bounds/trailer', { headers, body })).send();
    assert.equal(res.status, 400, res.body);
    assertErrorXml(res.body, 'InvalidRequest');
    assert.match(res.body, /more than 16 lines/);

    const fine = Buffer.from('5\r\nhello\r\n0\r\nx-amz-meta-one:1\r\n\r\n');
    const ok = await (await t.signed('PUT', '/bounds/trailer', { headers, body: fine })).send();
    assert.equal(ok.status, 200, ok.body);
  });
});

describe('documentSource', () => {
  let fake: Server;
  let sent = 0;

  before(async () => {
    // An "S3" that answers every GET with a chunked body of no advertised length that goes on and on.
    fake = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', etag: '"x"' });
      const piece = Buffer.alloc(64 * 1024, 0x20);
      let left = 64 * 1024 * 1024;
      const pump = () => {
        while (left > 0 && !res.destroyed) {
          left -= piece.length;
          sent += piece.length;
          if (!res.write(piece)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => fake.close(resolve)));
    process.env.AWS_ACCESS_KEY_ID ??= 'AKIDTEST';
    process.env.AWS_SECRET_ACCESS_KEY ??= 'secret';
  });

  test('a read stops past the 32 KB document limit whatever the store advertises: InvalidRequestException', { timeout: 60_000 }, async () => {
    const address = fake.address();
    assert.ok(address && typeof address === 'object');
    const server = await startTestServer({ blob: `http://127.0.0.1:${address.port}` });
    cleanups.push(() => server.stop());
    fake.closeAllConnections();
    const iot = server.iot();
    const thing = await iot.send(new CreateThingCommand({ thingName: 'd1' }));
    const err = await awsError(() =>
      iot.send(new CreateJobCommand({ jobId: 'big', targets: [thing.thingArn!], documentSource: 'https://s3.us-east-1.amazonaws.com/docs/job.json' })),
    );
    assert.equal(err.name, 'InvalidRequestException', err.message);
    assert.match(err.message, /at most 32768/);
    assert.ok(sent < 16 * 1024 * 1024, `the server read only a bounded prefix (${sent} bytes were sent)`);
  });
});

test('object files without a metadata row, older than a minute, are swept at start', { timeout: 60_000 }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'flotilla-orphans-'));
  const db = await createTestDatabase(dataDir);
  cleanups.push(async () => {
    await db.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const start = () => startFlotilla({ port: 0, mqttPort: 0, dataDir, database: db.url, logLevel: 'error' });
  let flotilla = await start();
  const s3 = new S3Client({
    endpoint: flotilla.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'x' },
    maxAttempts: 1,
  });
  cleanups.push(() => s3.destroy());
  await s3.send(new CreateBucketCommand({ Bucket: 'kept' }));
  await s3.send(new PutObjectCommand({ Bucket: 'kept', Key: 'real', Body: 'real bytes' }));
  await flotilla.stop();

  // What a crash between the rename into place and the commit of the row leaves behind.
  const objects = join(dataDir, 'objects');
  mkdirSync(join(objects, 'ab'), { recursive: true });
  const old = join(objects, 'ab', 'ab00000000000000000000000000orphan');
  const fresh = join(objects, 'ab', 'ab00000000000000000000000000recent');
  writeFileSync(old, 'orphaned');
  writeFileSync(fresh, 'maybe about to commit');
  const twoMinutesAgo = new Date(Date.now() - 120_000);
  utimesSync(old, twoMinutesAgo, twoMinutesAgo);

  flotilla = await start();
  cleanups.push(() => flotilla.stop());
  assert.equal(existsSync(old), false, 'the old orphan is gone');
  assert.equal(existsSync(fresh), true, 'a young file is left alone');
  const s3b = new S3Client({
    endpoint: flotilla.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'x' },
    maxAttempts: 1,
  });
  cleanups.push(() => s3b.destroy());
  const got = await s3b.send(new GetObjectCommand({ Bucket: 'kept', Key: 'real' }));
  assert.equal(await got.Body!.transformToString(), 'real bytes', 'objects with rows are kept, even older than a minute');
});
