// The embedded S3 endpoint's listings (ListObjectsV2 and V1 with prefix, delimiter, max-keys, continuation),
// versioning (versions, delete markers, suspended), and presigned URLs from @aws-sdk/s3-request-presigner.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join, sep } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  ListObjectsCommand,
  ListObjectVersionsCommand,
  ListObjectsV2Command,
  paginateListObjectsV2,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { assertErrorXml, s3Error, startS3Server, WHEN_REQUIRED, type S3TestServer } from './support/s3.ts';

let t: S3TestServer;
let s3: S3Client;
let s3Required: S3Client;
before(async () => {
  t = await startS3Server();
  ({ s3, s3Required } = t);
});
after(() => t.stop());

const walk = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));

describe('listing', () => {
  const keys = ['docs/a.txt', 'docs/b.txt', 'docs/sub/c.txt', 'img/1.png', 'img/2.png', 'readme.md', 'zeta'];
  before(async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'listing' }));
    for (const key of [...keys].reverse()) await s3Required.send(new PutObjectCommand({ Bucket: 'listing', Key: key, Body: key }));
  });

  const pages = async (input: { Prefix?: string; Delimiter?: string; StartAfter?: string }, pageSize: number) => {
    const out: { keys: string[]; prefixes: string[] }[] = [];
    for await (const page of paginateListObjectsV2({ client: s3, pageSize }, { Bucket: 'listing', ...input })) {
      out.push({ keys: (page.Contents ?? []).map((c) => c.Key!), prefixes: (page.CommonPrefixes ?? []).map((p) => p.Prefix!) });
      assert.equal(page.KeyCount, (page.Contents?.length ?? 0) + (page.CommonPrefixes?.length ?? 0));
    }
    return out;
  };

  test('ListObjectsV2 pages through keys in order with max-keys and continuation tokens', async () => {
    const all = await pages({}, 3);
    assert.deepEqual(
      all.map((p) => p.keys),
      [keys.slice(0, 3), keys.slice(3, 6), keys.slice(6)],
    );
    const first = await s3.send(new ListObjectsV2Command({ Bucket: 'listing' }));
    assert.equal(first.IsTruncated, false);
    assert.equal(first.Contents?.length, keys.length);
    assert.equal(first.Contents![0].Size, keys[0].length);
    assert.match(first.Contents![0].ETag!, /^"[0-9a-f]{32}"$/);
  });

  test('delimiter rolls keys up into CommonPrefixes, counted by max-keys', async () => {
    assert.deepEqual(await pages({ Delimiter: '/' }, 2), [
      { keys: [], prefixes: ['docs/', 'img/'] },
      { keys: ['readme.md', 'zeta'], prefixes: [] },
    ]);
    assert.deepEqual(await pages({ Delimiter: '/', Prefix: 'docs/' }, 1), [
      { keys: ['docs/a.txt'], prefixes: [] },
      { keys: ['docs/b.txt'], prefixes: [] },
      { keys: [], prefixes: ['docs/sub/'] },
    ]);
    assert.deepEqual(await pages({ StartAfter: 'img/1.png' }, 10), [{ keys: ['img/2.png', 'readme.md', 'zeta'], prefixes: [] }]);
    assert.deepEqual(await pages({ Prefix: 'i' }, 10), [{ keys: ['img/1.png', 'img/2.png'], prefixes: [] }]);
    assert.deepEqual(await pages({ Prefix: 'nothing/' }, 10), [{ keys: [], prefixes: [] }]);
    await s3Error(() => s3.send(new ListObjectsV2Command({ Bucket: 'listing', ContinuationToken: 'garbage!' })), 400, 'InvalidArgument');
  });

  test('ListObjects (V1) pages with Marker and NextMarker, skipping a common prefix named as marker', async () => {
    const first = await s3.send(new ListObjectsCommand({ Bucket: 'listing', Delimiter: '/', MaxKeys: 2 }));
    assert.deepEqual(
      first.CommonPrefixes?.map((p) => p.Prefix),
      ['docs/', 'img/'],
    );
    assert.equal(first.IsTruncated, true);
    assert.equal(first.NextMarker, 'img/');
    const second = await s3.send(new ListObjectsCommand({ Bucket: 'listing', Delimiter: '/', MaxKeys: 2, Marker: first.NextMarker }));
    assert.deepEqual(
      second.Contents?.map((c) => c.Key),
      ['readme.md', 'zeta'],
    );
    assert.equal(second.CommonPrefixes, undefined);
    assert.equal(second.IsTruncated, false);
  });
});

describe('versioning', () => {
  before(() => s3.send(new CreateBucketCommand({ Bucket: 'versioned' })));

  test('two PUTs make two versions; a delete marker hides the key; old versions stay readable', async () => {
    assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: 'versioned' }))).Status, undefined);
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'versioned', VersioningConfiguration: { Status: 'Enabled' } }));
    assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: 'versioned' }))).Status, 'Enabled');

    const v1 = await s3.send(new PutObjectCommand({ Bucket: 'versioned', Key: 'app.bin', Body: 'version one' }));
    const v2 = await s3.send(new PutObjectCommand({ Bucket: 'versioned', Key: 'app.bin', Body: 'version two' }));
    assert.ok(v1.VersionId && v2.VersionId && v1.VersionId !== v2.VersionId);
    const latest = await s3.send(new GetObjectCommand({ Bucket: 'versioned', Key: 'app.bin' }));
    assert.equal(await latest.Body!.transformToString(), 'version two');
    assert.equal(latest.VersionId, v2.VersionId);
    const old = await s3.send(new GetObjectCommand({ Bucket: 'versioned', Key: 'app.bin', VersionId: v1.VersionId }));
    assert.equal(await old.Body!.transformToString(), 'version one');
    assert.equal(old.VersionId, v1.VersionId);

    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: 'versioned' }));
    assert.deepEqual(
      versions.Versions?.map((v) => [v.VersionId, v.IsLatest]),
      [
        [v2.VersionId, true],
        [v1.VersionId, false],
      ],
    );

    const marker = await s3.send(new DeleteObjectCommand({ Bucket: 'versioned', Key: 'app.bin' }));
    assert.equal(marker.DeleteMarker, true);
    assert.ok(marker.VersionId);
    await s3Error(() => s3.send(new GetObjectCommand({ Bucket: 'versioned', Key: 'app.bin' })), 404, 'NoSuchKey');
    const res = await (await t.signed('GET', '/versioned/app.bin')).send();
    assert.equal(res.headers['x-amz-delete-marker'], 'true');
    assertErrorXml(res.body, 'NoSuchKey');
    await s3Error(() => s3.send(new GetObjectCommand({ Bucket: 'versioned', Key: 'app.bin', VersionId: marker.VersionId })), 405, 'MethodNotAllowed');
    assert.equal(
      await (await s3.send(new GetObjectCommand({ Bucket: 'versioned', Key: 'app.bin', VersionId: v1.VersionId }))).Body!.transformToString(),
      'version one',
    );
    assert.equal((await s3.send(new ListObjectsV2Command({ Bucket: 'versioned' }))).KeyCount, 0);

    const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: 'versioned' }));
    assert.deepEqual(
      listed.DeleteMarkers?.map((d) => [d.VersionId, d.IsLatest]),
      [[marker.VersionId, true]],
    );
    assert.equal(listed.Versions?.length, 2);

    // Paging versions one at a time visits marker, v2, v1.
    const seen: string[] = [];
    let keyMarker: string | undefined;
    let versionMarker: string | undefined;
    for (;;) {
      const page = await s3.send(new ListObjectVersionsCommand({ Bucket: 'versioned', MaxKeys: 1, KeyMarker: keyMarker, VersionIdMarker: versionMarker }));
      seen.push(...(page.DeleteMarkers ?? []).map((d) => d.VersionId!), ...(page.Versions ?? []).map((v) => v.VersionId!));
      if (!page.IsTruncated) break;
      keyMarker = page.NextKeyMarker;
      versionMarker = page.NextVersionIdMarker;
    }
    assert.deepEqual(seen, [marker.VersionId, v2.VersionId, v1.VersionId]);

    // Deleting the marker by version id brings the object back; deleting a version removes only it.
    const undone = await s3.send(new DeleteObjectCommand({ Bucket: 'versioned', Key: 'app.bin', VersionId: marker.VersionId }));
    assert.equal(undone.DeleteMarker, true);
    assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: 'versioned', Key: 'app.bin' }))).Body!.transformToString(), 'version two');
    await s3.send(new DeleteObjectCommand({ Bucket: 'versioned', Key: 'app.bin', VersionId: v2.VersionId }));
    const back = await s3.send(new GetObjectCommand({ Bucket: 'versioned', Key: 'app.bin' }));
    assert.equal(await back.Body!.transformToString(), 'version one');
    assert.equal(back.VersionId, v1.VersionId);
  });

  test('suspended versioning writes the null version, replacing the previous null one', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'suspended' }));
    await s3.send(new PutObjectCommand({ Bucket: 'suspended', Key: 'k', Body: 'unversioned' }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'suspended', VersioningConfiguration: { Status: 'Enabled' } }));
    const v = await s3.send(new PutObjectCommand({ Bucket: 'suspended', Key: 'k', Body: 'versioned' }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'suspended', VersioningConfiguration: { Status: 'Suspended' } }));
    await s3.send(new PutObjectCommand({ Bucket: 'suspended', Key: 'k', Body: 'null again' }));
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: 'suspended' }));
    assert.deepEqual(
      versions.Versions?.map((x) => [x.VersionId, x.IsLatest]),
      [
        ['null', true],
        [v.VersionId, false],
      ],
    );
    assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: 'suspended', Key: 'k', VersionId: 'null' }))).Body!.transformToString(), 'null again');
  });
});

describe('concurrent writers', () => {
  const files = () => walk(join(t.server.dataDir, 'objects')).filter((f) => !f.startsWith(join(t.server.dataDir, 'objects', 'tmp') + sep));

  test('concurrent PUTs of one key: one latest version, and replaced bytes are removed from disk', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'racing' }));
    const before = files().length;
    await Promise.all(Array.from({ length: 8 }, (_, i) => s3Required.send(new PutObjectCommand({ Bucket: 'racing', Key: 'k', Body: `writer ${i}` }))));
    const unversioned = await s3.send(new ListObjectVersionsCommand({ Bucket: 'racing' }));
    assert.deepEqual(
      unversioned.Versions?.map((v) => [v.VersionId, v.IsLatest]),
      [['null', true]],
    );
    assert.equal(files().length, before + 1, 'only the surviving null version keeps a file');

    await s3.send(new PutBucketVersioningCommand({ Bucket: 'racing', VersioningConfiguration: { Status: 'Enabled' } }));
    const puts = await Promise.all(
      Array.from({ length: 8 }, (_, i) => s3Required.send(new PutObjectCommand({ Bucket: 'racing', Key: 'k', Body: `version ${i}` }))),
    );
    const versions = (await s3.send(new ListObjectVersionsCommand({ Bucket: 'racing' }))).Versions!;
    assert.equal(versions.length, 9);
    assert.equal(versions.filter((v) => v.IsLatest).length, 1);
    assert.ok(puts.some((p) => p.VersionId === versions[0].VersionId));
    const latest = await s3.send(new GetObjectCommand({ Bucket: 'racing', Key: 'k' }));
    assert.equal(latest.VersionId, versions[0].VersionId);
    assert.equal(files().length, before + 9);
  });
});

describe('presigned URLs', () => {
  let presigner: S3Client;
  before(async () => {
    presigner = t.client(WHEN_REQUIRED);
    await s3.send(new CreateBucketCommand({ Bucket: 'presigned' }));
  });

  test('a presigned PUT uploads and a presigned GET downloads', async () => {
    const putUrl = await getSignedUrl(presigner, new PutObjectCommand({ Bucket: 'presigned', Key: 'fw/image.bin' }), { expiresIn: 300 });
    const body = randomBytes(100_000);
    const put = await fetch(putUrl, { method: 'PUT', body });
    assert.equal(put.status, 200, await put.text());
    const getUrl = await getSignedUrl(presigner, new GetObjectCommand({ Bucket: 'presigned', Key: 'fw/image.bin' }), { expiresIn: 300 });
    const got = await fetch(getUrl);
    assert.equal(got.status, 200);
    assert.deepEqual(Buffer.from(await got.arrayBuffer()), body);
    const ranged = await fetch(getUrl, { headers: { range: 'bytes=0-9' } });
    assert.equal(ranged.status, 206);
    assert.deepEqual(Buffer.from(await ranged.arrayBuffer()), body.subarray(0, 10));
  });

  test('a tampered presigned URL is SignatureDoesNotMatch; an expired one AccessDenied', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'presigned', Key: 'a', Body: 'a' }));
    await s3.send(new PutObjectCommand({ Bucket: 'presigned', Key: 'b', Body: 'b' }));
    const url = await getSignedUrl(presigner, new GetObjectCommand({ Bucket: 'presigned', Key: 'a' }), { expiresIn: 300 });
    for (const tampered of [
      url.replace('/presigned/a?', '/presigned/b?'),
      url.replace(/X-Amz-Signature=(.)/, (_m, c) => `X-Amz-Signature=${c === '0' ? '1' : '0'}`),
      url.replace('X-Amz-Expires=300', 'X-Amz-Expires=600'),
    ]) {
      const res = await fetch(tampered);
      assert.equal(res.status, 403);
      assertErrorXml(await res.text(), 'SignatureDoesNotMatch');
    }
    const expired = await getSignedUrl(presigner, new GetObjectCommand({ Bucket: 'presigned', Key: 'a' }), {
      expiresIn: 60,
      signingDate: new Date(Date.now() - 3600_000),
    });
    const res = await fetch(expired);
    assert.equal(res.status, 403);
    assertErrorXml(await res.text(), 'AccessDenied');
  });
});
