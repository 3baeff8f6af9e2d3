// Background SBOM validation across a crash, and against an external S3. A `flotilla serve` child process is
// SIGKILLed while validations are IN_PROGRESS (large generated SBOMs queued behind --sbom-concurrency 1) and
// started again on the same data: every version must end SUCCEEDED or FAILED. Then a Flotilla with
// `blob: <url of another Flotilla's embedded S3 endpoint>` associates and validates SBOMs stored there.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { CreateBucketCommand, PutBucketVersioningCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  AssociateSbomWithPackageVersionCommand,
  CreatePackageCommand,
  CreatePackageVersionCommand,
  GetPackageVersionCommand,
  IoTClient,
  ListSbomValidationResultsCommand,
} from '@aws-sdk/client-iot';
import { cleanups, runCleanups, spawnFlotilla, tempPlace } from './support/child.ts';
import { expectError, startTestServer } from './support/server.ts';

const DIR = new URL('./fixtures/sbom/', import.meta.url);
const TEST = { timeout: 240_000 };
const CREDS = { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' };

after(runCleanups);

function clients(endpoint: string, credentials = CREDS) {
  const s3 = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials, maxAttempts: 1 });
  const iot = new IoTClient({ endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
  cleanups.push(() => {
    s3.destroy();
    iot.destroy();
  });
  return { s3, iot };
}

/** A schema-valid CycloneDX 1.5 document of `n` components (about 110 bytes each). */
function bigSbom(n: number, seed: number): Buffer {
  const components = Array.from({ length: n }, (_, i) => ({
    type: 'library',
    name: `pkg-${seed}-${i}`,
    version: '1.0.0',
    purl: `pkg:npm/pkg-${seed}-${i}@1.0.0`,
    'bom-ref': `ref-${i}`,
  }));
  return Buffer.from(JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.5', version: 1, components }));
}

async function settled(iot: IoTClient, packageName: string, versionName: string, waitMs: number): Promise<string | undefined> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const v = await iot.send(new GetPackageVersionCommand({ packageName, versionName }));
    if (v.sbomValidationStatus !== 'IN_PROGRESS') return v.sbomValidationStatus;
    if (Date.now() > deadline) assert.fail(`${packageName}/${versionName} still IN_PROGRESS after ${waitMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('a validation interrupted by SIGKILL resumes after restart', () => {
  test('every version ends SUCCEEDED or FAILED', TEST, async () => {
    const place = await tempPlace('flotilla-sbom-');
    const args = ['--sbom-concurrency', '1'];
    const first = await spawnFlotilla(place.dataDir, place.database, args);
    const { s3, iot } = clients(first.endpoint);
    await s3.send(new CreateBucketCommand({ Bucket: 'sboms' }));
    await iot.send(new CreatePackageCommand({ packageName: 'fw' }));
    const versions = ['a', 'b', 'c', 'd', 'e', 'bad'];
    for (const [i, v] of versions.entries()) {
      const body = v === 'bad' ? readFileSync(new URL('bad-cdx-1.4-email-format.json', DIR)) : bigSbom(60_000, i);
      await s3.send(new PutObjectCommand({ Bucket: 'sboms', Key: `${v}.json`, Body: body }));
      await iot.send(new CreatePackageVersionCommand({ packageName: 'fw', versionName: v }));
    }
    for (const v of versions) {
      await iot.send(
        new AssociateSbomWithPackageVersionCommand({ packageName: 'fw', versionName: v, sbom: { s3Location: { bucket: 'sboms', key: `${v}.json` } } }),
      );
    }
    const before = await Promise.all(versions.map((v) => iot.send(new GetPackageVersionCommand({ packageName: 'fw', versionName: v }))));
    const inProgress = before.filter((v) => v.sbomValidationStatus === 'IN_PROGRESS').length;
    assert.ok(inProgress >= 1, 'some validation is still running or queued when the process is killed');
    first.process.kill('SIGKILL');
    await first.exited;

    const second = await spawnFlotilla(place.dataDir, place.database, args);
    const again = clients(second.endpoint).iot;
    for (const v of versions) {
      // A claim of the killed process holds on PostgreSQL until its lease (15 s) expires; SQLite drops it at start.
      const status = await settled(again, 'fw', v, 120_000);
      assert.equal(status, v === 'bad' ? 'FAILED' : 'SUCCEEDED', v);
      const results = await again.send(new ListSbomValidationResultsCommand({ packageName: 'fw', versionName: v }));
      assert.equal(results.validationResultSummaries?.length, 1, v);
      assert.equal(results.validationResultSummaries?.[0]?.fileName, `${v}.json`);
    }
  });
});

describe('external S3: the SBOM lives in another Flotilla', () => {
  test('associate pins the version, validation reads it from the external endpoint', TEST, async () => {
    const EXT = { accessKeyId: 'EXTKEY', secretAccessKey: 'extsecret' };
    const place = await tempPlace('flotilla-sbom-');
    const other = await spawnFlotilla(place.dataDir, place.database, ['--auth', 'sigv4', '--credentials', `${EXT.accessKeyId}:${EXT.secretAccessKey}`]);
    const { s3 } = clients(other.endpoint, EXT);
    await s3.send(new CreateBucketCommand({ Bucket: 'ext-sboms' }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'ext-sboms', VersioningConfiguration: { Status: 'Enabled' } }));
    const zip = await s3.send(new PutObjectCommand({ Bucket: 'ext-sboms', Key: 'bundle.zip', Body: readFileSync(new URL('zip-mixed.zip', DIR)) }));
    await s3.send(new PutObjectCommand({ Bucket: 'ext-sboms', Key: 'ok.json', Body: readFileSync(new URL('spdx-2.3-example11.spdx.json', DIR)) }));

    // The external store takes its credentials from the standard AWS chain.
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    process.env.AWS_ACCESS_KEY_ID = EXT.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = EXT.secretAccessKey;
    const server = await startTestServer({ blob: other.endpoint });
    cleanups.push(() => server.stop());
    const restore = () => {
      for (const [k, v] of [
        ['AWS_ACCESS_KEY_ID', saved.id],
        ['AWS_SECRET_ACCESS_KEY', saved.secret],
      ] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    };
    cleanups.push(restore);
    const iot = server.iot();
    await iot.send(new CreatePackageCommand({ packageName: 'fw' }));
    for (const v of ['zip', 'ok', 'missing']) await iot.send(new CreatePackageVersionCommand({ packageName: 'fw', versionName: v }));

    const out = await iot.send(
      new AssociateSbomWithPackageVersionCommand({ packageName: 'fw', versionName: 'zip', sbom: { s3Location: { bucket: 'ext-sboms', key: 'bundle.zip' } } }),
    );
    assert.equal(out.sbom?.s3Location?.version, zip.VersionId);
    await iot.send(
      new AssociateSbomWithPackageVersionCommand({ packageName: 'fw', versionName: 'ok', sbom: { s3Location: { bucket: 'ext-sboms', key: 'ok.json' } } }),
    );
    await expectError(
      () =>
        iot.send(
          new AssociateSbomWithPackageVersionCommand({
            packageName: 'fw',
            versionName: 'missing',
            sbom: { s3Location: { bucket: 'ext-sboms', key: 'nope.json' } },
          }),
        ),
      'ValidationException',
      400,
      /s3:\/\/ext-sboms\/nope\.json/,
    );

    assert.equal(await settled(iot, 'fw', 'zip', 60_000), 'FAILED');
    const zipResults = await iot.send(new ListSbomValidationResultsCommand({ packageName: 'fw', versionName: 'zip' }));
    assert.deepEqual(zipResults.validationResultSummaries?.map((r) => [r.fileName, r.validationResult]).sort(), [
      ['bad-spdx-2.2-missing-creationinfo.spdx.json', 'FAILED'],
      ['cdx-1.4-laravel.json', 'SUCCEEDED'],
    ]);
    assert.equal(await settled(iot, 'fw', 'ok', 60_000), 'SUCCEEDED');
  });
});
