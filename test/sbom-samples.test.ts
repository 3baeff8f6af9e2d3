// Every sample in test/fixtures/sbom/ (real SBOMs and upstream test fixtures, see its README.md)
// through validateSbom, checked against MANIFEST.tsv; a few of them through the worker pool too.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { SbomValidatorPool } from '../src/sbom/pool.ts';
import { MAX_MESSAGE_CHARS, SBOM_FORMATS, validateSbom, type FileReport, type SbomFormat } from '../src/sbom/validate.ts';
import { sbomFixture, sbomManifest, SBOM_FIXTURES, type ManifestRow } from './support/sbom-fixtures.ts';

const rows = sbomManifest();

/** The format id we expect to be detected for a row, when the manifest names one we know. */
function expectedFormat(r: ManifestRow): string | undefined {
  if (r.format === 'cyclonedx-json' || r.format === 'cyclonedx-xml' || r.format === 'spdx-json') return `${r.format}-${r.specVersion}`;
  return undefined;
}

function checkReport(rep: FileReport): void {
  assert.ok(rep.fileName, 'fileName set');
  if (rep.validationResult === 'FAILED') {
    assert.ok(rep.errorCode, `${rep.fileName}: FAILED with an errorCode`);
    assert.ok(rep.errorMessage && rep.errorMessage.length <= MAX_MESSAGE_CHARS, `${rep.fileName}: errorMessage ≤ 1 KB`);
    assert.ok(rep.errors.length >= 1, `${rep.fileName}: at least one error listed`);
  } else {
    assert.equal(rep.errorCode, undefined);
    assert.equal(rep.errorMessage, undefined);
    assert.deepEqual(rep.errors, []);
  }
}

test('the manifest lists every fixture file and nothing else', () => {
  const files = readdirSync(SBOM_FIXTURES)
    .filter((f) => f !== 'MANIFEST.tsv' && f !== 'README.md')
    .sort();
  assert.deepEqual(rows.map((r) => r.file).sort(), files);
  assert.equal(rows.length, 20);
});

describe('each sample gets the verdict MANIFEST.tsv gives it (default policy)', () => {
  for (const r of rows) {
    test(`${r.file}: ${r.expected}${r.errorCode ? ` (${r.errorCode})` : ''} [${r.policy}]`, async () => {
      const reports = await validateSbom(sbomFixture(r.file), r.file);
      for (const rep of reports) checkReport(rep);
      if (r.format === 'zip') {
        // e.g. note "entries: SUCCEEDED, FAILED", members listed in source_path "members: a b"
        const members = r.source_path.replace(/^members:\s*/, '').split(/\s+/);
        const verdicts = /entries:\s*(.*)$/.exec(r.note)![1]!.split(/,\s*/);
        assert.deepEqual(
          reports.map((x) => x.fileName),
          members,
        );
        assert.deepEqual(
          reports.map((x) => x.validationResult),
          verdicts,
        );
        for (const [i, m] of members.entries()) {
          const alone = await validateSbom(sbomFixture(m), m);
          assert.deepEqual(reports[i], alone[0], `${m}: same report inside the zip as on its own`);
        }
        return;
      }
      assert.equal(reports.length, 1);
      const [rep] = reports;
      assert.equal(rep!.fileName, r.file);
      assert.equal(rep!.validationResult, r.expected === 'valid' ? 'SUCCEEDED' : 'FAILED', rep!.errorMessage);
      if (r.expected === 'invalid') assert.equal(rep!.errorCode, r.errorCode);
      const fmt = expectedFormat(r);
      if (fmt) assert.equal(rep!.format, fmt);
    });
  }
});

test('schema failures name the failing JSON path and the rule', async () => {
  const [email] = await validateSbom(sbomFixture('bad-cdx-1.4-email-format.json'), 'x');
  assert.match(
    email!.errorMessage!,
    /^CycloneDX 1\.4 schema: \/metadata\/supplier\/contact\/0\/email must match format "idn-email" \[format at #\/definitions\//,
  );
  assert.equal(email!.errors[0]!.path, '/metadata/supplier/contact/0/email');
  const [creators] = await validateSbom(sbomFixture('bad-spdx-2.3-empty-creators.spdx.json'), 'x');
  assert.match(creators!.errorMessage!, /^SPDX 2\.3 schema: \/creationInfo\/creators must NOT have fewer than 1 items \[minItems at /);
  const [missing] = await validateSbom(sbomFixture('bad-spdx-2.2-missing-creationinfo.spdx.json'), 'x');
  assert.match(missing!.errorMessage!, /^SPDX 2\.2 schema: \/ must have required property 'creationInfo' \[required at #\/required\]/);
});

test('rejections by format say why', async () => {
  const msg = async (f: string) => (await validateSbom(sbomFixture(f), f))[0]!.errorMessage!;
  assert.match(await msg('bad-spdx-2.2-tagvalue.spdx'), /tag-value/);
  assert.match(await msg('bad-spdx-3.0-has-sbom.json'), /SPDX 3/);
  assert.match(await msg('bad-cdx-1.2-cern.json'), /specVersion "1\.2" is not supported/);
  assert.match(await msg('bad-not-sbom-tiny.json'), /neither CycloneDX .* nor SPDX/);
});

describe('the policy column: narrowing the accepted set flips exactly those rows', () => {
  const without = (...drop: SbomFormat[]) => SBOM_FORMATS.filter((f) => !drop.includes(f));
  test('xml: without CycloneDX XML, the XML samples fail as INCOMPATIBLE_FORMAT', async () => {
    for (const r of rows.filter((x) => x.policy === 'xml')) {
      const [rep] = await validateSbom(sbomFixture(r.file), r.file, { accepted: without('cyclonedx-xml-1.4', 'cyclonedx-xml-1.5', 'cyclonedx-xml-1.6') });
      assert.equal(rep!.validationResult, 'FAILED');
      assert.equal(rep!.errorCode, 'INCOMPATIBLE_FORMAT');
      assert.match(rep!.errorMessage!, /CycloneDX XML 1\.\d is not accepted/);
    }
  });
  test('spdx22: without SPDX 2.2, the 2.2 sample fails', async () => {
    for (const r of rows.filter((x) => x.policy === 'spdx22')) {
      const [rep] = await validateSbom(sbomFixture(r.file), r.file, { accepted: without('spdx-json-2.2') });
      assert.equal(rep!.validationResult, 'FAILED');
      assert.match(rep!.errorMessage!, /SPDX JSON 2\.2 is not accepted/);
    }
  });
  test('lenient23: with the released 2.3 enums only, the underscore sample fails on referenceCategory', async () => {
    for (const r of rows.filter((x) => x.policy === 'lenient23')) {
      const [rep] = await validateSbom(sbomFixture(r.file), r.file, { lenientSpdx23: false });
      assert.equal(rep!.validationResult, 'FAILED');
      assert.match(rep!.errorMessage!, /referenceCategory must be equal to one of the allowed values/);
    }
  });
  test('core rows do not depend on the accepted set beyond their own format', async () => {
    for (const r of rows.filter((x) => x.policy === 'core')) {
      const [rep] = await validateSbom(sbomFixture(r.file), r.file, { lenientSpdx23: false });
      assert.equal(rep!.validationResult, r.expected === 'valid' ? 'SUCCEEDED' : 'FAILED', r.file);
    }
  });
});

describe('through the worker pool', () => {
  const pool = new SbomValidatorPool({ concurrency: 2 });
  after(() => pool.close());
  for (const f of ['cdx-1.6-local-workspaces.xml', 'zip-mixed.zip', 'bad-cdx-1.4-email-format.json', 'spdx-2.3-underscore-refcategory.spdx.json']) {
    test(`${f}: same reports as in-process`, async () => {
      const direct = await validateSbom(sbomFixture(f), f);
      const viaPool = await pool.validate(sbomFixture(f), f);
      assert.deepEqual(viaPool, direct);
    });
  }
  test('a worker that put a big XML document through libxml2 is replaced afterwards', async () => {
    const small = new SbomValidatorPool({ recycleAboveXmlBytes: 50_000 });
    try {
      for (const f of ['cdx-1.4-laravel.xml', 'cdx-1.4-laravel.json', 'cdx-1.6-local-workspaces.xml', 'cdx-1.4-laravel.xml']) {
        const [r] = await small.validate(sbomFixture(f), f);
        assert.equal(r!.validationResult, 'SUCCEEDED', f);
      }
      // laravel.xml (125 kB) retires its worker, twice; the JSON and the 9 kB XML do not.
      assert.deepEqual(small.stats(), { workersStarted: 2, recycled: 2, timedOut: 0, crashed: 0 });
    } finally {
      await small.close();
    }
  });

  test('the input buffer is transferred, not copied', async () => {
    const own = new Uint8Array(sbomFixture('cdx-1.5-trivy-artifact.json')); // a view over its own ArrayBuffer
    const done = pool.validate(own, 'trivy.json');
    assert.equal(own.byteLength, 0, 'detached after validate()');
    assert.equal((await done)[0]!.validationResult, 'SUCCEEDED');
  });
});
