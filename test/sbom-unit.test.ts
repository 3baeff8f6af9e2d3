// Unit tests of the SBOM library's parts: detection, the linear uniqueItems keyword (checked
// against ajv's own), the lenient SPDX 2.3 enums, integrity warnings, the license-expression parser.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, test } from 'node:test';
import { Ajv } from 'ajv';
import { classifyJson, classifyXmlNamespace, sniff } from '../src/sbom/detect.ts';
import { integrityWarnings } from '../src/sbom/integrity.ts';
import { idnEmail, linearErrorMerge, withFastUniqueItems, withLenientSpdx23Enums } from '../src/sbom/json-schemas.ts';
import { firstDuplicate, jsonEqual } from '../src/sbom/unique-items.ts';
import { parseLicenseExpression } from '../src/sbom/license-expr.ts';
import { MAX_FINDINGS, overallStatus, validateSbom, type FileReport, type SbomFormat } from '../src/sbom/validate.ts';
import { estimateParseHeap } from '../src/sbom/heap-guard.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const json = (v: unknown) => enc(JSON.stringify(v));
const fixtureJson = (f: string) => JSON.parse(readFileSync(new URL(`./fixtures/sbom/${f}`, import.meta.url), 'utf8'));
const one = async (bytes: Uint8Array, opts?: Parameters<typeof validateSbom>[2]): Promise<FileReport> => {
  const r = await validateSbom(bytes, 'doc', opts);
  assert.equal(r.length, 1);
  return r[0]!;
};

const cdx = (extra: Record<string, unknown> = {}, specVersion = '1.5') => ({ bomFormat: 'CycloneDX', specVersion, version: 1, ...extra });
const spdx = (extra: Record<string, unknown> = {}, spdxVersion = 'SPDX-2.3') => ({
  spdxVersion,
  dataLicense: 'CC0-1.0',
  SPDXID: 'SPDXRef-DOCUMENT',
  name: 'unit',
  documentNamespace: 'https://example.com/unit',
  creationInfo: { created: '2026-01-01T00:00:00Z', creators: ['Tool: unit'] },
  ...extra,
});
/** A seeded generator of whole numbers below n: the same "random" cases on every run. */
function seededRandom(seed: number): (n: number) => number {
  return (n) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
}
const pkg = (id: string, extra: Record<string, unknown> = {}) => ({
  SPDXID: id,
  name: id,
  downloadLocation: 'NOASSERTION',
  licenseConcluded: 'MIT',
  licenseDeclared: 'MIT',
  copyrightText: 'NOASSERTION',
  ...extra,
});

describe('detection', () => {
  test('zip by magic bytes, whatever the name', () => {
    assert.deepEqual(sniff(new Uint8Array([0x50, 0x4b, 3, 4, 0])), { kind: 'zip' });
    assert.deepEqual(sniff(new Uint8Array([0x50, 0x4b, 5, 6, 0])), { kind: 'zip' });
    assert.equal(sniff(new Uint8Array([0x50, 0x4b, 7, 8])).kind, 'unknown');
  });
  test('JSON and XML after a UTF-8 BOM and whitespace', () => {
    assert.deepEqual(sniff(new Uint8Array([0xef, 0xbb, 0xbf, 0x20, 0x0a, 0x7b])), { kind: 'json', offset: 5 });
    assert.deepEqual(sniff(enc('\r\n\t<?xml version="1.0"?><bom/>')), { kind: 'xml', offset: 3 });
  });
  test('specific messages for tag-value, YAML, arrays, UTF-16, gzip and empty files', () => {
    const msg = (b: Uint8Array) => {
      const s = sniff(b);
      assert.equal(s.kind, 'unknown');
      return (s as { message: string }).message;
    };
    assert.match(msg(enc('SPDXVersion: SPDX-2.2\nDataLicense: CC0-1.0\n')), /tag-value/);
    assert.match(msg(enc('## comment\nSPDXVersion: SPDX-2.3\n')), /tag-value/);
    assert.match(msg(enc('spdxVersion: SPDX-2.3\n')), /YAML/);
    assert.match(msg(enc('[{"a":1}]')), /JSON array/);
    assert.match(msg(new Uint8Array([0xfe, 0xff, 0, 0x7b])), /UTF-16/);
    assert.match(msg(new Uint8Array([0x1f, 0x8b, 8, 0])), /gzip/);
    assert.match(msg(enc('  \n ')), /empty/);
    assert.match(msg(enc('hello')), /starts with 'h'/);
  });
  test('JSON dispatch on bomFormat/specVersion and spdxVersion', () => {
    for (const v of ['1.4', '1.5', '1.6']) assert.deepEqual(classifyJson(cdx({}, v)), { ok: true, format: `cyclonedx-json-${v}`, label: `CycloneDX ${v}` });
    assert.deepEqual(classifyJson(spdx({}, 'SPDX-2.2')), { ok: true, format: 'spdx-json-2.2', label: 'SPDX 2.2' });
    assert.equal((classifyJson(spdx()) as { format: string }).format, 'spdx-json-2.3');
    for (const [doc, re] of [
      [cdx({}, '1.7'), /specVersion "1\.7" is not supported/],
      [cdx({}, '1.3'), /specVersion "1\.3" is not supported/],
      [{ bomFormat: 'CycloneDX' }, /specVersion missing/],
      [{ bomFormat: 'SWID', specVersion: '1.5' }, /bomFormat is "SWID"/],
      [spdx({}, 'SPDX-2.1'), /"SPDX-2\.1" is not supported/],
      [{ '@context': 'https://spdx.org/rdf/3.0.1/spdx-context.jsonld', '@graph': [] }, /SPDX 3/],
      [{ '@context': 'https://schema.org' }, /JSON-LD/],
      [{ name: 'x' }, /neither CycloneDX/],
      [[1], /not an object/],
    ] as const) {
      const c = classifyJson(doc);
      assert.equal(c.ok, false);
      assert.match((c as { message: string }).message, re);
    }
  });
  test('XML dispatch on the root namespace', () => {
    assert.equal((classifyXmlNamespace('bom', 'http://cyclonedx.org/schema/bom/1.6') as { format: string }).format, 'cyclonedx-xml-1.6');
    assert.match((classifyXmlNamespace('bom', 'http://cyclonedx.org/schema/bom/1.3') as { message: string }).message, /1\.3 is not supported/);
    assert.match((classifyXmlNamespace('RDF', 'http://www.w3.org/1999/02/22-rdf-syntax-ns#') as { message: string }).message, /RDF/);
    assert.match((classifyXmlNamespace('project', '') as { message: string }).message, /not a CycloneDX BOM/);
  });
  test('XML that is not well-formed names the line', async () => {
    const r = await one(enc('<?xml version="1.0"?>\n<bom xmlns="http://cyclonedx.org/schema/bom/1.5">\n<components>\n</bom>'));
    assert.match(r.errorMessage!, /^not well-formed XML at line 4: /);
  });
  test('XML schema errors name the line', async () => {
    const r = await one(
      enc(
        '<?xml version="1.0"?>\n<bom xmlns="http://cyclonedx.org/schema/bom/1.5" version="1">\n<components>\n<component type="nope"><name>x</name></component>\n</components>\n</bom>',
      ),
    );
    assert.equal(r.format, 'cyclonedx-xml-1.5');
    assert.match(r.errorMessage!, /^CycloneDX XML 1\.5 schema: line 4: .*'nope'/);
    assert.equal(r.errors[0]!.path, 'line 4');
  });
  test('malformed JSON names line and column', async () => {
    const r = await one(enc('{\n  "bomFormat": "CycloneDX",\n  "specVersion": "1.5" \n  "version": 1\n}'));
    assert.match(r.errorMessage!, /^not valid JSON \(line 4, column 3\)/);
  });
  test('overallStatus: SUCCEEDED only when every file did', () => {
    const ok = { fileName: 'a', validationResult: 'SUCCEEDED', errors: [], warnings: [] } as FileReport;
    assert.equal(overallStatus([ok, ok]), 'SUCCEEDED');
    assert.equal(overallStatus([ok, { ...ok, validationResult: 'FAILED' }]), 'FAILED');
    assert.equal(overallStatus([]), 'FAILED');
  });
});

describe('uniqueItems, linear', () => {
  const component = (name: string, extra: Record<string, unknown> = {}) => ({ type: 'library', name, version: '1.0.0', ...extra });

  test('duplicate components (keys in a different order) fail the file', async () => {
    const a = component('a', { hashes: [{ alg: 'SHA-256', content: 'a'.repeat(64) }] });
    const reordered = { hashes: [{ content: 'a'.repeat(64), alg: 'SHA-256' }], version: '1.0.0', name: 'a', type: 'library' };
    const comps = [a, ...Array.from({ length: 30 }, (_, i) => component(`c${i}`)), reordered];
    const r = await one(json(cdx({ components: comps })));
    assert.equal(r.validationResult, 'FAILED');
    assert.match(
      r.errorMessage!,
      /^CycloneDX 1\.5 schema: \/components must NOT have duplicate items \(items ## 0 and 31 are identical\) \[uniqueItems at #\/properties\/components\/uniqueItems\]/,
    );
  });

  test('components alike on the surface but different deeper are not duplicates', async () => {
    // Same shallow members in all 40 (forces the deep-hash path), different hashes.
    const comps = Array.from({ length: 40 }, (_, i) => component('same', { hashes: [{ alg: 'SHA-256', content: i.toString(16).padStart(64, '0') }] }));
    assert.equal((await one(json(cdx({ components: comps })))).validationResult, 'SUCCEEDED');
    comps.push(structuredClone(comps[17]!));
    assert.deepEqual(firstDuplicate(comps), [17, 40]);
  });

  test('the schema copies carry no ajv uniqueItems; the files on disk are untouched', () => {
    const raw = readFileSync(new URL('../src/sbom/schemas/bom-1.6.schema.json', import.meta.url), 'utf8');
    const patched = JSON.stringify(withFastUniqueItems(JSON.parse(raw)));
    assert.ok(raw.includes('"uniqueItems": true'));
    assert.ok(!patched.includes('"uniqueItems":true'));
    assert.equal((patched.match(/"uniqueItemsFast":true/g) ?? []).length, (raw.match(/"uniqueItems": true/g) ?? []).length);
  });

  test('same verdicts as ajv`s own uniqueItems on random arrays', () => {
    const ajv = new Ajv();
    const stock = ajv.compile({ type: 'array', uniqueItems: true });
    const rnd = seededRandom(42);
    const value = (depth: number): unknown => {
      switch (rnd(depth > 2 ? 5 : 7)) {
        case 0:
          return rnd(3);
        case 1:
          return String(rnd(3));
        case 2:
          return rnd(2) === 0;
        case 3:
          return null;
        case 4:
          return rnd(2) ? 1.5 : -0;
        case 5:
          return Array.from({ length: rnd(3) }, () => value(depth + 1));
        default: {
          const o: Record<string, unknown> = {};
          for (const k of ['b', 'a', 'c'].slice(0, rnd(4))) o[k] = value(depth + 1);
          return rnd(2) ? o : Object.fromEntries(Object.entries(o).reverse());
        }
      }
    };
    let dups = 0;
    for (let t = 0; t < 3000; t++) {
      const arr = Array.from({ length: rnd(24) }, () => value(0));
      const expected = !stock(arr);
      const dup = firstDuplicate(arr);
      assert.equal(dup !== null, expected, JSON.stringify(arr));
      if (dup) {
        assert.ok(jsonEqual(arr[dup[0]], arr[dup[1]]));
        dups++;
      }
    }
    assert.ok(dups > 500 && dups < 2900, `both outcomes exercised (${dups} duplicates)`);
  });

  test('the allErrors error merge, rewritten to append in place, lists the same errors as stock ajv', () => {
    const schema = {
      definitions: {
        node: {
          type: 'object',
          required: ['name'],
          properties: { name: { type: 'string', minLength: 2 }, kids: { type: 'array', items: { $ref: '#/definitions/node' } }, tag: { enum: ['a', 'b'] } },
        },
      },
      type: 'object',
      properties: { roots: { type: 'array', items: { $ref: '#/definitions/node' } }, alt: { oneOf: [{ $ref: '#/definitions/node' }, { type: 'string' }] } },
    };
    const stock = new Ajv({ allErrors: true }).compile(schema);
    const linear = new Ajv({ allErrors: true, code: { process: linearErrorMerge } }).compile(schema);
    const rnd = seededRandom(7);
    const node = (depth: number): unknown => {
      if (rnd(8) === 0) return rnd(2) ? 'x' : 3;
      const o: Record<string, unknown> = {};
      if (rnd(5)) o.name = rnd(4) ? 'ok-name' : rnd(2) ? 'x' : 7;
      if (rnd(3) === 0) o.tag = rnd(2) ? 'a' : 'z';
      if (depth < 3 && rnd(2)) o.kids = Array.from({ length: rnd(4) }, () => node(depth + 1));
      return o;
    };
    let withErrors = 0;
    for (let t = 0; t < 300; t++) {
      const doc = { roots: Array.from({ length: rnd(6) }, () => node(0)), ...(rnd(2) ? { alt: node(0) } : {}) };
      assert.equal(linear(doc), stock(doc));
      assert.deepEqual(linear.errors, stock.errors);
      if (stock.errors) withErrors++;
    }
    assert.ok(withErrors > 100);
  });

  test('primitives: 1 and "1" differ, 0 and -0 do not; array order matters, key order does not', () => {
    assert.equal(firstDuplicate([1, '1', 2, 3, 4, 5, 6, 7, 8, 9]), null);
    assert.deepEqual(firstDuplicate([0, 1, 2, 3, 4, 5, 6, 7, 8, -0]), [0, 9]);
    assert.equal(
      firstDuplicate([
        [1, 2],
        [2, 1],
      ]),
      null,
    );
    assert.deepEqual(
      firstDuplicate([
        { a: 1, b: [1] },
        { b: [1], a: 1 },
      ]),
      [0, 1],
    );
  });

  test('a large array of distinct records by a distinct key, and one duplicate at the very end', () => {
    const arr = Array.from({ length: 5000 }, (_, i) => ({ 'bom-ref': `r${i}`, name: 'x', n: i }));
    assert.equal(firstDuplicate(arr), null);
    arr.push({ n: 4999, name: 'x', 'bom-ref': 'r4999' });
    assert.deepEqual(firstDuplicate(arr), [4999, 5000]);
  });
});

describe('bounded work on hostile but well-formed JSON', () => {
  test('20,000 components with a bad license id: every error found in linear time, the list capped', async () => {
    const comps = Array.from({ length: 20_000 }, (_, i) => ({ type: 'library', name: `c${i}`, licenses: [{ license: { id: 'NOT-A-LICENSE' } }] }));
    const r = await one(json(cdx({ components: comps })));
    assert.equal(r.validationResult, 'FAILED');
    assert.match(
      r.errorMessage!,
      /^CycloneDX 1\.5 schema: \/components\/0\/licenses\/0\/license\/id must be equal to one of the allowed values \(\d+ allowed values\)/,
    );
    assert.equal(r.errors.length, MAX_FINDINGS);
  });

  test('the JSON.parse heap estimate is an upper bound of what V8 keeps, for the costliest shapes', () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const n = 100_000;
    const key = (i: number) => (Math.imul(i, 2654435761) >>> 0).toString(36);
    const shapes: Record<string, string> = {
      emptyObjects: `[${'{},'.repeat(n)}{}]`,
      emptyArrays: `[${'[],'.repeat(n)}[]]`,
      nested: `${'['.repeat(n)}${']'.repeat(n)}`,
      smallRecords: `[${'{"a":[1]},'.repeat(n)}{}]`,
      numbers: `[${'1.5,'.repeat(n)}1]`,
      ownKeys: `[${Array.from({ length: n }, (_, i) => `{"${key(i)}":1}`).join(',')}]`,
      bigObject: `{${Array.from({ length: n }, (_, i) => `"${key(i)}":[]`).join(',')}}`,
    };
    for (const [name, text] of Object.entries(shapes)) {
      gc();
      const before = getHeapStatistics().used_heap_size;
      const doc = JSON.parse(text);
      gc();
      const kept = getHeapStatistics().used_heap_size - before;
      assert.ok(doc);
      const estimate = estimateParseHeap(enc(text));
      assert.ok(estimate >= kept, `${name}: estimate ${estimate} < ${kept} kept`);
    }
  });
});

describe('SPDX 2.3 enum spellings (lenient23)', () => {
  const withRef = (category: string) =>
    spdx({ packages: [pkg('SPDXRef-a', { externalRefs: [{ referenceCategory: category, referenceType: 'purl', referenceLocator: 'pkg:npm/a@1' }] })] });
  for (const category of ['PACKAGE-MANAGER', 'PACKAGE_MANAGER', 'PERSISTENT-ID', 'PERSISTENT_ID', 'SECURITY', 'OTHER']) {
    test(`2.3 accepts referenceCategory ${category}`, async () => {
      assert.equal((await one(json(withRef(category)))).validationResult, 'SUCCEEDED');
    });
  }
  test('both spellings of primaryPackagePurpose OPERATING_SYSTEM / OPERATING-SYSTEM', async () => {
    for (const p of ['OPERATING_SYSTEM', 'OPERATING-SYSTEM']) {
      assert.equal((await one(json(spdx({ packages: [pkg('SPDXRef-a', { primaryPackagePurpose: p })] })))).validationResult, 'SUCCEEDED', p);
    }
  });
  test('still an enum: other spellings fail', async () => {
    const r = await one(json(withRef('PACKAGE MANAGER')));
    assert.match(
      r.errorMessage!,
      /referenceCategory must be equal to one of the allowed values \("OTHER", "PERSISTENT-ID", "SECURITY", "PACKAGE-MANAGER", "PERSISTENT_ID", "PACKAGE_MANAGER"\)/,
    );
  });
  test('strict when lenientSpdx23 is off, and SPDX 2.2 always strict', async () => {
    assert.equal((await one(json(withRef('PACKAGE_MANAGER')), { lenientSpdx23: false })).validationResult, 'FAILED');
    assert.equal((await one(json(withRef('PACKAGE-MANAGER')), { lenientSpdx23: false })).validationResult, 'SUCCEEDED');
    // The released 2.2 schema (and tools-java's, identical) spells it PACKAGE_MANAGER only.
    assert.equal((await one(json({ ...withRef('PACKAGE_MANAGER'), spdxVersion: 'SPDX-2.2' }))).validationResult, 'SUCCEEDED');
    assert.equal((await one(json({ ...withRef('PACKAGE-MANAGER'), spdxVersion: 'SPDX-2.2' }))).validationResult, 'FAILED');
  });
  test('the patch adds the aliases in memory only', () => {
    const s = withLenientSpdx23Enums({ a: { enum: ['OTHER', 'PACKAGE-MANAGER'] }, b: { enum: ['OPERATING_SYSTEM'] }, c: { enum: ['X'] } });
    assert.deepEqual(s, {
      a: { enum: ['OTHER', 'PACKAGE-MANAGER', 'PACKAGE_MANAGER'] },
      b: { enum: ['OPERATING_SYSTEM', 'OPERATING-SYSTEM'] },
      c: { enum: ['X'] },
    });
    assert.ok(!readFileSync(new URL('../src/sbom/schemas/spdx-2.3.schema.json', import.meta.url), 'utf8').includes('PACKAGE_MANAGER'));
  });
});

describe('integrity warnings never fail a file', () => {
  test('SPDX: duplicate ids, dangling references, bad license expressions', async () => {
    const doc = spdx({
      documentDescribes: ['SPDXRef-a', 'SPDXRef-missing'],
      externalDocumentRefs: [
        { externalDocumentId: 'DocumentRef-ext', spdxDocument: 'https://example.com/ext', checksum: { algorithm: 'SHA1', checksumValue: 'a'.repeat(40) } },
      ],
      packages: [
        pkg('SPDXRef-a', { licenseDeclared: 'MIT OR', hasFiles: ['SPDXRef-f', 'SPDXRef-nofile'] }),
        pkg('SPDXRef-a'),
        pkg('SPDXRef-b/c', { licenseConcluded: '(MIT AND LicenseRef-mine) OR Apache-2.0', licenseDeclared: 'Totally-Made-Up-1.0' }),
      ],
      files: [
        {
          SPDXID: 'SPDXRef-f',
          fileName: './f',
          checksums: [{ algorithm: 'SHA1', checksumValue: 'b'.repeat(40) }],
          licenseConcluded: 'NOASSERTION',
          copyrightText: 'NONE',
        },
      ],
      relationships: [
        { spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: 'SPDXRef-a' },
        { spdxElementId: 'SPDXRef-a', relationshipType: 'DEPENDS_ON', relatedSpdxElement: 'SPDXRef-ghost' },
        { spdxElementId: 'SPDXRef-a', relationshipType: 'DEPENDS_ON', relatedSpdxElement: 'NONE' },
        { spdxElementId: 'SPDXRef-a', relationshipType: 'DEPENDS_ON', relatedSpdxElement: 'NOASSERTION' },
        { spdxElementId: 'SPDXRef-a', relationshipType: 'DEPENDS_ON', relatedSpdxElement: 'DocumentRef-ext:SPDXRef-x' },
        { spdxElementId: 'SPDXRef-a', relationshipType: 'DEPENDS_ON', relatedSpdxElement: 'DocumentRef-nope:SPDXRef-x' },
      ],
    });
    const r = await one(json(doc));
    assert.equal(r.validationResult, 'SUCCEEDED');
    const w = r.warnings.map((x) => `${x.path} ${x.message}`);
    const expect = [
      /^\/packages\/1\/SPDXID duplicate SPDXID 'SPDXRef-a' \(first at \/packages\/0\/SPDXID\)$/,
      /^\/packages\/2\/SPDXID SPDXID 'SPDXRef-b\/c' does not match/,
      /^\/documentDescribes\/1 'SPDXRef-missing' does not resolve/,
      /^\/relationships\/1\/relatedSpdxElement 'SPDXRef-ghost' does not resolve/,
      /^\/relationships\/5\/relatedSpdxElement 'DocumentRef-nope:SPDXRef-x' refers to DocumentRef-nope, which is not declared/,
      /^\/packages\/0\/hasFiles\/1 'SPDXRef-nofile' does not resolve/,
      /^\/packages\/0\/licenseDeclared license expression "MIT OR" does not parse: expected a license id at end of expression$/,
      /^\/packages\/2\/licenseConcluded 'LicenseRef-mine' is not declared in hasExtractedLicensingInfos$/,
      /^\/packages\/2\/licenseDeclared unknown SPDX license id 'Totally-Made-Up-1.0'$/,
    ];
    assert.equal(w.length, expect.length, w.join('\n'));
    for (const re of expect)
      assert.ok(
        w.some((x) => re.test(x)),
        `${re} in\n${w.join('\n')}`,
      );
  });

  test('CycloneDX: duplicate bom-refs, dangling dependency refs, bad expressions', async () => {
    const doc = cdx({
      metadata: { component: { type: 'application', name: 'app', 'bom-ref': 'app' } },
      components: [
        { type: 'library', name: 'a', 'bom-ref': 'a', licenses: [{ expression: 'MIT AND' }] },
        { type: 'library', name: 'b', 'bom-ref': 'a', components: [{ type: 'library', name: 'c', 'bom-ref': 'app' }] },
        { type: 'library', name: 'd', 'bom-ref': 'd', licenses: [{ expression: 'Apache-2.0 WITH LLVM-exception' }] },
      ],
      dependencies: [{ ref: 'app', dependsOn: ['a', 'ghost'] }, { ref: 'nobody' }],
    });
    const r = await one(json(doc));
    assert.equal(r.validationResult, 'SUCCEEDED');
    assert.deepEqual(
      r.warnings.map((x) => `${x.path} ${x.message}`).sort(),
      [
        '/components/0/licenses/0/expression license expression "MIT AND" does not parse: expected a license id at end of expression',
        "/components/1/bom-ref duplicate bom-ref 'a' (first at /components/0/bom-ref)",
        "/components/1/components/0/bom-ref duplicate bom-ref 'app' (first at /metadata/component/bom-ref)",
        "/dependencies/0/dependsOn/1 'ghost' does not resolve to any bom-ref in this BOM",
        "/dependencies/1/ref 'nobody' does not resolve to any bom-ref in this BOM",
      ].sort(),
    );
  });

  test('CycloneDX XML gets the same checks, located by line (duplicate bom-refs are an XSD error there)', async () => {
    const xml = `<?xml version="1.0"?>
<bom xmlns="http://cyclonedx.org/schema/bom/1.6" version="1">
  <components>
    <component type="library" bom-ref="a"><name>a</name><licenses><expression>MIT OR OR</expression></licenses></component>
    <component type="library" bom-ref="b"><name>b</name></component>
  </components>
  <dependencies><dependency ref="a"><dependency ref="ghost"/></dependency></dependencies>
</bom>`;
    const r = await one(enc(xml));
    assert.equal(r.validationResult, 'SUCCEEDED', r.errorMessage);
    assert.deepEqual(r.warnings.map((x) => `${x.path} ${x.message}`).sort(), [
      'line 4 license expression "MIT OR OR" does not parse: expected a license id but found \'OR\'',
      "line 7 'ghost' does not resolve to any bom-ref in this BOM",
    ]);
    const dup = await one(enc(xml.replace('bom-ref="b"', 'bom-ref="a"')));
    assert.match(dup.errorMessage!, /^CycloneDX XML 1\.6 schema: line 5: .*Duplicate key-sequence \['a'\]/);
  });

  test('the valid samples produce no warnings', () => {
    for (const f of ['cdx-1.5-mature-example.json', 'spdx-2.3-example11.spdx.json', 'cdx-1.6-local-workspaces.json']) {
      const doc = fixtureJson(f);
      const format = (doc.spdxVersion ? 'spdx-json-2.3' : `cyclonedx-json-${doc.specVersion}`) as SbomFormat;
      assert.deepEqual(integrityWarnings(format, doc), [], f);
    }
  });
});

describe('SPDX license expressions', () => {
  for (const ok of [
    'MIT',
    'GPL-2.0+',
    '(MIT OR Apache-2.0) AND BSD-3-Clause',
    'GPL-2.0-or-later WITH Classpath-exception-2.0',
    'LicenseRef-foo.1',
    'DocumentRef-x:LicenseRef-y',
    '((MIT))',
    'MIT AND (LGPL-2.1-or-later OR BSD-3-Clause) AND Apache-2.0',
  ]) {
    test(`parses ${ok}`, () => assert.equal(parseLicenseExpression(ok).ok, true));
  }
  for (const [bad, why] of [
    ['', /empty/],
    ['MIT OR', /end of expression/],
    ['AND MIT', /found 'AND'/],
    ['(MIT', /expected '\)'/],
    ['MIT)', /unexpected '\)'/],
    ['MIT and Apache-2.0', /upper-case/],
    ['MIT Apache-2.0', /unexpected 'Apache-2.0'/],
    ['MIT WITH', /exception id after WITH/],
    ['MIT/X11', /not a valid license id/],
  ] as const) {
    test(`rejects ${JSON.stringify(bad)}`, () => {
      const r = parseLicenseExpression(bad);
      assert.equal(r.ok, false);
      assert.match((r as { message: string }).message, why);
    });
  }
  test('collects ids and refs', () => {
    assert.deepEqual(parseLicenseExpression('(MIT OR GPL-2.0+) AND LicenseRef-x WITH Foo-exception'), {
      ok: true,
      licenseIds: ['MIT', 'GPL-2.0'],
      licenseRefs: ['LicenseRef-x'],
    });
  });
});

test('idn-email format', () => {
  for (const ok of ['user@example.com', 'first.last+tag@sub.example.org', 'üser@exämple.de', 'ops@localhost']) assert.ok(idnEmail(ok), ok);
  for (const bad of ['https://acme.com', 'a@', '@b.com', 'a b@c.com', 'a@@b.com', '.a@b.com', 'a..b@c.com', 'a@-b.com']) assert.ok(!idnEmail(bad), bad);
});
