// The SBOM operations end to end: every fixture of test/fixtures/sbom/ uploaded to the embedded S3 endpoint (a
// versioned bucket), associated with a package version and validated in the background; the verdicts checked
// against MANIFEST.tsv through GetPackageVersion and ListSbomValidationResults; errors, re-association,
// disassociation, filters, pagination, size limits and the full report of the extension route.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Sha256 } from '@aws-crypto/sha256-js';
import { CreateBucketCommand, PutBucketVersioningCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  AssociateSbomWithPackageVersionCommand,
  CreatePackageCommand,
  CreatePackageVersionCommand,
  DeletePackageVersionCommand,
  DisassociateSbomFromPackageVersionCommand,
  GetPackageVersionCommand,
  ListSbomValidationResultsCommand,
  type IoTClient,
  type SbomValidationResultSummary,
} from '@aws-sdk/client-iot';
import { SignatureV4 } from '@smithy/signature-v4';
import { KEY, OTHER, startS3Server, type S3TestServer } from './support/s3.ts';
import { expectError, startTestServer, type TestServer } from './support/server.ts';
import { sbomFixture, sbomManifest } from './support/sbom-fixtures.ts';

const TEST = { timeout: 120_000 };
const BUCKET = 'sboms';
const PKG = 'firmware';

const rows = sbomManifest();
/** Version names are [a-zA-Z0-9-_.]+: the fixture's name with anything else replaced. */
const versionOf = (file: string) => `v-${file.replace(/[^a-zA-Z0-9-_.]/g, '_')}`.slice(0, 64);

/** Polls GetPackageVersion until the SBOM validation is no longer IN_PROGRESS (bounded; fails when it never ends). */
async function settled(iot: IoTClient, packageName: string, versionName: string, waitMs = 60_000): Promise<string | undefined> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const v = await iot.send(new GetPackageVersionCommand({ packageName, versionName }));
    if (v.sbomValidationStatus !== 'IN_PROGRESS') return v.sbomValidationStatus;
    if (Date.now() > deadline) assert.fail(`${packageName}/${versionName} still IN_PROGRESS after ${waitMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function allResults(
  iot: IoTClient,
  packageName: string,
  versionName: string,
  extra: { validationResult?: 'FAILED' | 'SUCCEEDED'; maxResults?: number } = {},
) {
  const out: SbomValidationResultSummary[] = [];
  let nextToken: string | undefined;
  let pages = 0;
  do {
    const page = await iot.send(new ListSbomValidationResultsCommand({ packageName, versionName, nextToken, ...extra }));
    out.push(...(page.validationResultSummaries ?? []));
    nextToken = page.nextToken;
    pages++;
  } while (nextToken);
  return { results: out, pages };
}

let t: S3TestServer;
let s3: S3Client;
let iot: IoTClient;
const versionIds = new Map<string, string>();

before(async () => {
  t = await startS3Server({ sbomConcurrency: 2 });
  s3 = t.s3;
  iot = t.server.iot(KEY);
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await s3.send(new PutBucketVersioningCommand({ Bucket: BUCKET, VersioningConfiguration: { Status: 'Enabled' } }));
  await iot.send(new CreatePackageCommand({ packageName: PKG }));
  for (const r of rows) {
    const put = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `fixtures/${r.file}`, Body: sbomFixture(r.file) }));
    versionIds.set(r.file, put.VersionId!);
    await iot.send(new CreatePackageVersionCommand({ packageName: PKG, versionName: versionOf(r.file) }));
  }
});
after(() => t.stop());

describe('every fixture, associated and validated in the background', () => {
  test('Associate answers IN_PROGRESS with the object version pinned', TEST, async () => {
    for (const r of rows) {
      const out = await iot.send(
        new AssociateSbomWithPackageVersionCommand({
          packageName: PKG,
          versionName: versionOf(r.file),
          sbom: { s3Location: { bucket: BUCKET, key: `fixtures/${r.file}` } },
        }),
      );
      assert.equal(out.packageName, PKG);
      assert.equal(out.versionName, versionOf(r.file));
      assert.equal(out.sbomValidationStatus, 'IN_PROGRESS');
      assert.deepEqual(out.sbom, { s3Location: { bucket: BUCKET, key: `fixtures/${r.file}`, version: versionIds.get(r.file) } });
    }
  });

  test('each ends with the verdict MANIFEST.tsv gives it', TEST, async () => {
    for (const r of rows) {
      const versionName = versionOf(r.file);
      const status = await settled(iot, PKG, versionName);
      assert.equal(status, r.expected === 'valid' ? 'SUCCEEDED' : 'FAILED', r.file);
      const v = await iot.send(new GetPackageVersionCommand({ packageName: PKG, versionName }));
      assert.deepEqual(v.sbom, { s3Location: { bucket: BUCKET, key: `fixtures/${r.file}`, version: versionIds.get(r.file) } });
      const { results } = await allResults(iot, PKG, versionName);
      if (r.file.endsWith('.zip')) {
        const members = r.source_path
          .replace(/^members:\s*/, '')
          .split(/\s+/)
          .filter(Boolean);
        assert.deepEqual(results.map((x) => x.fileName).sort(), [...members].sort());
        const [good, bad] = members;
        assert.equal(results.find((x) => x.fileName === good)?.validationResult, 'SUCCEEDED');
        const failed = results.find((x) => x.fileName === bad);
        assert.equal(failed?.validationResult, 'FAILED');
        assert.equal(failed?.errorCode, 'INCOMPATIBLE_FORMAT');
        assert.ok(failed?.errorMessage);
        continue;
      }
      assert.equal(results.length, 1, r.file);
      const [only] = results;
      assert.equal(only!.fileName, `fixtures/${r.file}`);
      if (r.expected === 'valid') {
        assert.deepEqual(only, { fileName: `fixtures/${r.file}`, validationResult: 'SUCCEEDED' });
      } else {
        assert.equal(only!.validationResult, 'FAILED', r.file);
        assert.equal(only!.errorCode, r.errorCode, r.file);
        assert.ok(only!.errorMessage && only!.errorMessage.length <= 1024, r.file);
      }
    }
  });
});

describe('errors', () => {
  const loc = (key: string, extra: object = {}) => ({ s3Location: { bucket: BUCKET, key, ...extra } });

  test('a missing package or version is ResourceNotFoundException (404) for all three operations', TEST, async () => {
    for (const [packageName, versionName] of [
      [PKG, 'nope'],
      ['no-such-package', '1.0'],
    ] as const) {
      await expectError(
        () => iot.send(new AssociateSbomWithPackageVersionCommand({ packageName, versionName, sbom: loc('fixtures/cdx-1.4-laravel.json') })),
        'ResourceNotFoundException',
        404,
      );
      await expectError(() => iot.send(new DisassociateSbomFromPackageVersionCommand({ packageName, versionName })), 'ResourceNotFoundException', 404);
      await expectError(() => iot.send(new ListSbomValidationResultsCommand({ packageName, versionName })), 'ResourceNotFoundException', 404);
    }
  });

  test('a missing object, bucket or object version is ValidationException (400) naming it', TEST, async () => {
    const versionName = versionOf('cdx-1.4-laravel.json');
    await expectError(
      () => iot.send(new AssociateSbomWithPackageVersionCommand({ packageName: PKG, versionName, sbom: loc('fixtures/missing.json') })),
      'ValidationException',
      400,
      /s3:\/\/sboms\/fixtures\/missing\.json/,
    );
    await expectError(
      () =>
        iot.send(
          new AssociateSbomWithPackageVersionCommand({ packageName: PKG, versionName, sbom: { s3Location: { bucket: 'no-such-bucket', key: 'x.json' } } }),
        ),
      'ValidationException',
      400,
      /s3:\/\/no-such-bucket\/x\.json/,
    );
    await expectError(
      () =>
        iot.send(
          new AssociateSbomWithPackageVersionCommand({
            packageName: PKG,
            versionName,
            sbom: loc('fixtures/cdx-1.4-laravel.json', { version: '0000000000000000000000000000aaaa' }),
          }),
        ),
      'ValidationException',
      400,
      /version 0000000000000000000000000000aaaa/,
    );
    await expectError(
      () => iot.send(new AssociateSbomWithPackageVersionCommand({ packageName: PKG, versionName, sbom: { s3Location: { bucket: BUCKET } } })),
      'ValidationException',
      400,
    );
    // Nothing changed: the earlier association stands.
    assert.equal(await settled(iot, PKG, versionName), 'SUCCEEDED');
  });

  test('a bad validationResult filter or maxResults is ValidationException (400)', TEST, async () => {
    const versionName = versionOf('zip-mixed.zip');
    await expectError(
      () => iot.send(new ListSbomValidationResultsCommand({ packageName: PKG, versionName, validationResult: 'MAYBE' as any })),
      'ValidationException',
      400,
    );
    await expectError(() => iot.send(new ListSbomValidationResultsCommand({ packageName: PKG, versionName, maxResults: 0 })), 'ValidationException', 400);
    await expectError(() => iot.send(new ListSbomValidationResultsCommand({ packageName: PKG, versionName, maxResults: 101 })), 'ValidationException', 400);
    await expectError(
      () => iot.send(new ListSbomValidationResultsCommand({ packageName: PKG, versionName, nextToken: 'garbage' })),
      'ValidationException',
      400,
    );
  });
});

describe('listing', () => {
  test('filter by validationResult, and pages of maxResults 1', TEST, async () => {
    const versionName = versionOf('zip-mixed.zip');
    const all = await allResults(iot, PKG, versionName, { maxResults: 1 });
    assert.equal(all.results.length, 2);
    assert.equal(all.pages, 2);
    const failed = await allResults(iot, PKG, versionName, { validationResult: 'FAILED' });
    assert.deepEqual(
      failed.results.map((r) => r.validationResult),
      ['FAILED'],
    );
    const succeeded = await allResults(iot, PKG, versionName, { validationResult: 'SUCCEEDED', maxResults: 1 });
    assert.deepEqual(
      succeeded.results.map((r) => r.fileName),
      ['cdx-1.4-laravel.json'],
    );
    // A token of the unfiltered listing is refused by the filtered one.
    const first = await iot.send(new ListSbomValidationResultsCommand({ packageName: PKG, versionName, maxResults: 1 }));
    assert.ok(first.nextToken);
    await expectError(
      () => iot.send(new ListSbomValidationResultsCommand({ packageName: PKG, versionName, validationResult: 'FAILED', nextToken: first.nextToken })),
      'ValidationException',
      400,
    );
  });

  test('another account sees neither the version nor its results', TEST, async () => {
    const other = t.server.iot(OTHER);
    await expectError(
      () => other.send(new ListSbomValidationResultsCommand({ packageName: PKG, versionName: versionOf('zip-mixed.zip') })),
      'ResourceNotFoundException',
      404,
    );
  });
});

describe('re-association, disassociation, deletion', () => {
  test('re-associating replaces the location, the status and the results', TEST, async () => {
    const versionName = versionOf('cdx-1.5-trivy-artifact.json');
    assert.equal(await settled(iot, PKG, versionName), 'SUCCEEDED');
    const out = await iot.send(
      new AssociateSbomWithPackageVersionCommand({ packageName: PKG, versionName, sbom: { s3Location: { bucket: BUCKET, key: 'fixtures/zip-mixed.zip' } } }),
    );
    assert.equal(out.sbomValidationStatus, 'IN_PROGRESS');
    assert.equal(await settled(iot, PKG, versionName), 'FAILED');
    const { results } = await allResults(iot, PKG, versionName);
    assert.deepEqual(results.map((r) => r.fileName).sort(), ['bad-spdx-2.2-missing-creationinfo.spdx.json', 'cdx-1.4-laravel.json']);
  });

  test('a later object version is pinned; the pinned one is validated even after the key changes', TEST, async () => {
    const versionName = versionOf('cdx-1.6-cbom-certificate.json');
    const put = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'moving.json', Body: sbomFixture('bad-not-sbom-tiny.json') }));
    const out = await iot.send(
      new AssociateSbomWithPackageVersionCommand({ packageName: PKG, versionName, sbom: { s3Location: { bucket: BUCKET, key: 'moving.json' } } }),
    );
    assert.equal(out.sbom?.s3Location?.version, put.VersionId);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'moving.json', Body: sbomFixture('cdx-1.4-laravel.json') }));
    assert.equal(await settled(iot, PKG, versionName), 'FAILED');
    // An explicit version is read exactly.
    const later = await iot.send(
      new AssociateSbomWithPackageVersionCommand({
        packageName: PKG,
        versionName,
        sbom: { s3Location: { bucket: BUCKET, key: 'moving.json', version: put.VersionId } },
      }),
    );
    assert.equal(later.sbom?.s3Location?.version, put.VersionId);
    assert.equal(await settled(iot, PKG, versionName), 'FAILED');
  });

  test('disassociating clears the SBOM, its status and its results; twice is fine', TEST, async () => {
    const versionName = versionOf('spdx-2.3-example11.spdx.json');
    assert.equal(await settled(iot, PKG, versionName), 'SUCCEEDED');
    await iot.send(new DisassociateSbomFromPackageVersionCommand({ packageName: PKG, versionName }));
    const v = await iot.send(new GetPackageVersionCommand({ packageName: PKG, versionName }));
    assert.equal(v.sbom, undefined);
    assert.equal(v.sbomValidationStatus, undefined);
    assert.deepEqual((await allResults(iot, PKG, versionName)).results, []);
    await iot.send(new DisassociateSbomFromPackageVersionCommand({ packageName: PKG, versionName }));
  });

  test('disassociating while a validation runs drops its results', TEST, async () => {
    const versionName = versionOf('spdx-2.3-chainguard.spdx.json');
    await iot.send(
      new AssociateSbomWithPackageVersionCommand({
        packageName: PKG,
        versionName,
        sbom: { s3Location: { bucket: BUCKET, key: 'fixtures/spdx-2.3-chainguard.spdx.json' } },
      }),
    );
    await iot.send(new DisassociateSbomFromPackageVersionCommand({ packageName: PKG, versionName }));
    // Give the validator time to finish whatever it claimed: it must write nothing.
    await settled(iot, PKG, versionOf('cdx-1.4-laravel.json'));
    await new Promise((r) => setTimeout(r, 1500));
    const v = await iot.send(new GetPackageVersionCommand({ packageName: PKG, versionName }));
    assert.equal(v.sbomValidationStatus, undefined);
    assert.deepEqual((await allResults(iot, PKG, versionName)).results, []);
  });

  test('DeletePackageVersion deletes the results; a new version of that name starts clean', TEST, async () => {
    const versionName = versionOf('bad-cdx-1.2-cern.json');
    assert.equal(await settled(iot, PKG, versionName), 'FAILED');
    await iot.send(new DeletePackageVersionCommand({ packageName: PKG, versionName }));
    await iot.send(new CreatePackageVersionCommand({ packageName: PKG, versionName }));
    assert.deepEqual((await allResults(iot, PKG, versionName)).results, []);
    const v = await iot.send(new GetPackageVersionCommand({ packageName: PKG, versionName }));
    assert.equal(v.sbomValidationStatus, undefined);
  });
});

describe('the full report: GET /_flotilla/sbom-report/{packageName}/{versionName}', () => {
  const signedGet = async (path: string, credentials = KEY) => {
    const url = new URL(t.server.endpoint);
    const signer = new SignatureV4({ service: 'iot', region: 'us-east-1', credentials, sha256: Sha256 });
    const req = await signer.sign({
      method: 'GET',
      protocol: 'http:',
      hostname: url.hostname,
      port: Number(url.port),
      path,
      query: {},
      headers: { host: url.host },
    });
    return fetch(new URL(path, url), { headers: req.headers as Record<string, string> });
  };

  test('lists every file with its errors (JSON pointers) and warnings', TEST, async () => {
    const doc = {
      bomFormat: 'CycloneDX',
      specVersion: '1.5',
      version: 1,
      components: [
        { type: 'library', name: 'a', version: '1', 'bom-ref': 'a' },
        { type: 'library', name: 'b', version: '1', 'bom-ref': 'a' },
      ],
      dependencies: [{ ref: 'a', dependsOn: ['zzz'] }],
    };
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'warned.json', Body: JSON.stringify(doc) }));
    const warned = versionOf('cdx-1.5-mature-example.json');
    await iot.send(
      new AssociateSbomWithPackageVersionCommand({ packageName: PKG, versionName: warned, sbom: { s3Location: { bucket: BUCKET, key: 'warned.json' } } }),
    );
    assert.equal(await settled(iot, PKG, warned), 'SUCCEEDED');

    const res = await signedGet(`/_flotilla/sbom-report/${PKG}/${warned}`);
    assert.equal(res.status, 200);
    const report = (await res.json()) as any;
    assert.equal(report.packageName, PKG);
    assert.equal(report.versionName, warned);
    assert.equal(report.sbomValidationStatus, 'SUCCEEDED');
    assert.equal(report.sbom.s3Location.key, 'warned.json');
    assert.equal(report.files.length, 1);
    const [file] = report.files;
    assert.equal(file.fileName, 'warned.json');
    assert.equal(file.validationResult, 'SUCCEEDED');
    assert.equal(file.format, 'cyclonedx-json-1.5');
    assert.deepEqual(file.errors, []);
    assert.ok(
      file.warnings.some((w: any) => w.path === '/components/1/bom-ref' && /duplicate bom-ref/.test(w.message)),
      JSON.stringify(file.warnings),
    );
    assert.ok(file.warnings.some((w: any) => w.path === '/dependencies/0/dependsOn/0'));

    const bad = (await (await signedGet(`/_flotilla/sbom-report/${PKG}/${versionOf('bad-cdx-1.5-license-choice.json')}`)).json()) as any;
    assert.equal(bad.sbomValidationStatus, 'FAILED');
    assert.equal(bad.files[0].errorCode, 'INCOMPATIBLE_FORMAT');
    assert.ok(bad.files[0].errors.length >= 1);
    assert.ok(
      bad.files[0].errors.some((e: any) => e.path.startsWith('/components/0')),
      JSON.stringify(bad.files[0].errors),
    );
  });

  test('is authenticated and scoped as the AWS API', TEST, async () => {
    const path = `/_flotilla/sbom-report/${PKG}/${versionOf('zip-mixed.zip')}`;
    const unsigned = await fetch(new URL(path, t.server.endpoint));
    assert.ok(unsigned.status === 403 || unsigned.status === 401, `unsigned: ${unsigned.status}`);
    const wrongSecret = await signedGet(path, { accessKeyId: KEY.accessKeyId, secretAccessKey: 'wrong' });
    assert.equal(wrongSecret.status, 403);
    const other = await signedGet(path, OTHER);
    assert.equal(other.status, 404);
    assert.equal(other.headers.get('x-amzn-errortype'), 'ResourceNotFoundException');
    const missing = await signedGet(`/_flotilla/sbom-report/${PKG}/nope`);
    assert.equal(missing.status, 404);
  });
});

describe('limits and settings', () => {
  let small: TestServer;
  let smallS3: S3Client;
  let smallIot: IoTClient;
  before(async () => {
    small = await startTestServer({ sbomMaxObjectSize: 4096, sbomFormats: 'cyclonedx-json-1.4,cyclonedx-json-1.5,cyclonedx-json-1.6' });
    smallS3 = new S3Client({
      endpoint: small.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'x' },
      maxAttempts: 1,
    });
    smallIot = small.iot();
    await smallS3.send(new CreateBucketCommand({ Bucket: 'bkt' }));
    await smallIot.send(new CreatePackageCommand({ packageName: 'p' }));
    for (const v of ['big', 'spdx']) await smallIot.send(new CreatePackageVersionCommand({ packageName: 'p', versionName: v }));
  });
  after(async () => {
    smallS3.destroy();
    await small.stop();
  });

  test('an object over --sbom-max-object-size is one FAILED FILE_SIZE_LIMIT_EXCEEDED row named after the key', TEST, async () => {
    const body = sbomFixture('cdx-1.5-mature-example.json');
    assert.ok(body.length > 4096);
    await smallS3.send(new PutObjectCommand({ Bucket: 'bkt', Key: 'dir/big.json', Body: body }));
    await smallIot.send(
      new AssociateSbomWithPackageVersionCommand({ packageName: 'p', versionName: 'big', sbom: { s3Location: { bucket: 'bkt', key: 'dir/big.json' } } }),
    );
    assert.equal(await settled(smallIot, 'p', 'big'), 'FAILED');
    const { results } = await allResults(smallIot, 'p', 'big');
    assert.equal(results.length, 1);
    assert.equal(results[0]!.fileName, 'dir/big.json');
    assert.equal(results[0]!.errorCode, 'FILE_SIZE_LIMIT_EXCEEDED');
  });

  test('--sbom-formats narrows the accepted set', TEST, async () => {
    // A minimal, schema-valid SPDX 2.3 document: valid by default, not accepted with CycloneDX JSON only.
    const doc = {
      spdxVersion: 'SPDX-2.3',
      dataLicense: 'CC0-1.0',
      SPDXID: 'SPDXRef-DOCUMENT',
      name: 'x',
      documentNamespace: 'https://example.com/x',
      creationInfo: { created: '2024-01-01T00:00:00Z', creators: ['Tool: x'] },
    };
    await smallS3.send(new PutObjectCommand({ Bucket: 'bkt', Key: 'small.spdx.json', Body: JSON.stringify(doc) }));
    await smallIot.send(
      new AssociateSbomWithPackageVersionCommand({ packageName: 'p', versionName: 'spdx', sbom: { s3Location: { bucket: 'bkt', key: 'small.spdx.json' } } }),
    );
    assert.equal(await settled(smallIot, 'p', 'spdx'), 'FAILED');
    const { results } = await allResults(smallIot, 'p', 'spdx');
    assert.equal(results[0]!.errorCode, 'INCOMPATIBLE_FORMAT');
    assert.match(results[0]!.errorMessage!, /SPDX/);
  });
});
