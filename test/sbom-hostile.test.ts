// Hostile input: zips built here with fflate (bombs, lying headers, traversal names, too many
// entries, nesting, encryption flags) and oversized files. Each must end as FAILED reports with the
// right code, without a throw and without inflating into memory; the worker pool must survive a
// timeout and a worker killed by its heap limit.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { Zip, ZipDeflate, zipSync, type Zippable } from 'fflate';
import { SbomValidatorPool } from '../src/sbom/pool.ts';
import { validateSbom, type FileReport } from '../src/sbom/validate.ts';

const MiB = 1024 * 1024;
const fixture = (f: string): Uint8Array => new Uint8Array(readFileSync(new URL(`./fixtures/sbom/${f}`, import.meta.url)));
const GOOD = fixture('cdx-1.5-trivy-artifact.json');
const GOOD_SPDX = fixture('spdx-2.3-example11.spdx.json');

/** A zip streamed from `chunks` chunks of `chunk` (never the whole content in memory). */
function streamedZip(name: string, chunk: Uint8Array, chunks: number): Uint8Array {
  const parts: Uint8Array[] = [];
  const zip = new Zip((err, data) => {
    if (err) throw err;
    parts.push(data);
  });
  const file = new ZipDeflate(name, { level: 1 }); // zeros deflate ~1000:1 at any level
  zip.add(file);
  for (let i = 0; i < chunks; i++) file.push(chunk, i === chunks - 1);
  zip.end();
  return Buffer.concat(parts);
}

const u32 = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset).getUint32(at, true);
const setU32 = (b: Uint8Array, at: number, v: number) => new DataView(b.buffer, b.byteOffset).setUint32(at, v, true);
const setU16 = (b: Uint8Array, at: number, v: number) => new DataView(b.buffer, b.byteOffset).setUint16(at, v, true);
const getU16 = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset).getUint16(at, true);

/** Offsets of every local (PK\3\4) and central (PK\1\2) header of a zip. */
function headers(zip: Uint8Array): { local: number[]; central: number[] } {
  const local: number[] = [];
  const central: number[] = [];
  for (let i = 0; i + 4 <= zip.length; i++) {
    const sig = u32(zip, i);
    if (sig === 0x04034b50) local.push(i);
    else if (sig === 0x02014b50) central.push(i);
  }
  return { local, central };
}

/** Rewrite a field in every local and central header (offsets per APPNOTE 4.3.7 / 4.3.12). */
function patchAll(zip: Uint8Array, field: 'flags' | 'crc' | 'usize', value: number): Uint8Array {
  const out = new Uint8Array(zip);
  const { local, central } = headers(out);
  const at = { flags: [6, 8], crc: [14, 16], usize: [22, 24] }[field];
  for (const l of local) field === 'flags' ? setU16(out, l + at[0]!, getU16(out, l + at[0]!) | value) : setU32(out, l + at[0]!, value);
  for (const c of central) field === 'flags' ? setU16(out, c + at[1]!, getU16(out, c + at[1]!) | value) : setU32(out, c + at[1]!, value);
  return out;
}

function only(reports: FileReport[]): FileReport {
  assert.equal(reports.length, 1, JSON.stringify(reports.map((r) => [r.fileName, r.errorMessage])));
  return reports[0]!;
}

function assertFailed(r: FileReport, code: FileReport['errorCode'], message: RegExp, fileName?: string): void {
  assert.equal(r.validationResult, 'FAILED', `${r.fileName}: ${r.errorMessage}`);
  assert.equal(r.errorCode, code, r.errorMessage);
  assert.match(r.errorMessage!, message);
  if (fileName !== undefined) assert.equal(r.fileName, fileName);
}

describe('zip bombs and size limits', () => {
  let bomb200: Uint8Array | undefined;
  const bomb = (): Uint8Array => (bomb200 ??= streamedZip('bomb.json', new Uint8Array(MiB), 200));

  test('a 200 MiB-of-zeros bomb is refused from its header, without inflating it', async () => {
    const zip = bomb();
    assert.ok(zip.length < 1 * MiB, `bomb is ${zip.length} bytes`);
    const before = process.memoryUsage().rss;
    const t = performance.now();
    const r = only(await validateSbom(zip, 'bomb.zip'));
    const grew = process.memoryUsage().rss - before;
    assertFailed(r, 'FILE_SIZE_LIMIT_EXCEEDED', /exceeds the 52428800-byte file limit|compression ratio/, 'bomb.json');
    assert.ok(grew < 64 * MiB, `RSS grew by ${(grew / MiB).toFixed(1)} MiB`);
    assert.ok(performance.now() - t < 5000);
  });

  test('a smaller bomb with an honest 40 MiB size is caught by the compression-ratio cap', async () => {
    const bomb = streamedZip('bomb40.json', new Uint8Array(MiB), 40);
    const r = only(await validateSbom(bomb, 'bomb40.zip'));
    assertFailed(r, 'FILE_SIZE_LIMIT_EXCEEDED', /compression ratio \d+:1 exceeds the 200:1 limit/, 'bomb40.json');
  });

  test('the bomb with headers claiming 100 bytes stops inflating right after them (lying size header)', async () => {
    const liar = patchAll(bomb(), 'usize', 100);
    const before = process.memoryUsage().rss;
    const r = only(await validateSbom(liar, 'liar.zip'));
    const grew = process.memoryUsage().rss - before;
    assertFailed(r, 'INCOMPATIBLE_FORMAT', /size does not match its header|more than the 100 bytes/, 'bomb.json');
    assert.ok(grew < 64 * MiB, `RSS grew by ${(grew / MiB).toFixed(1)} MiB`);
  });

  test('a header claiming more bytes than the entry holds is refused too', async () => {
    const zip = patchAll(zipSync({ 'short.json': GOOD }), 'usize', GOOD.length + 1000);
    assertFailed(only(await validateSbom(zip, 'short.zip')), 'INCOMPATIBLE_FORMAT', /size does not match its header/, 'short.json');
  });

  test('a wrong CRC-32 fails the entry', async () => {
    const zip = patchAll(zipSync({ 'crc.json': GOOD }), 'crc', 0x12345678);
    assertFailed(only(await validateSbom(zip, 'crc.zip')), 'INCOMPATIBLE_FORMAT', /CRC-32 mismatch/, 'crc.json');
  });

  test('a 60 MiB file: over the default 50 MiB, and over a configured 1 MiB, alone and zipped', async () => {
    const big = new Uint8Array(60 * MiB).fill(0x20);
    big[0] = 0x7b;
    big[big.length - 1] = 0x7d;
    assertFailed(only(await validateSbom(big, 'big.json')), 'FILE_SIZE_LIMIT_EXCEEDED', /exceeds the 52428800-byte file limit/, 'big.json');
    const small = { limits: { maxFileBytes: 1 * MiB } };
    assertFailed(only(await validateSbom(big, 'big.json', small)), 'FILE_SIZE_LIMIT_EXCEEDED', /exceeds the 1048576-byte file limit/);
    const zipped = streamedZip('big.json', big.subarray(0, MiB), 60);
    assertFailed(only(await validateSbom(zipped, 'big.zip', small)), 'FILE_SIZE_LIMIT_EXCEEDED', /exceeds the 1048576-byte file limit/, 'big.json');
    assertFailed(only(await validateSbom(big, 'big.json', { limits: { maxObjectBytes: 10 * MiB } })), 'FILE_SIZE_LIMIT_EXCEEDED', /object limit/);
  });

  test('the total inflated size of a zip is capped: one FAILED row for the archive', async () => {
    const zip = zipSync({ 'a.json': GOOD, 'b.json': GOOD, 'c.json': GOOD });
    const r = only(await validateSbom(zip, 'three.zip', { limits: { maxZipTotalBytes: 2 * GOOD.length } }));
    assertFailed(r, 'FILE_SIZE_LIMIT_EXCEEDED', /inflates to \d+ bytes; the limit is/, 'three.zip');
  });

  test('500 entries: one FAILED row for the archive', async () => {
    const files: Zippable = {};
    for (let i = 0; i < 500; i++) files[`sbom-${i}.json`] = GOOD_SPDX;
    const r = only(await validateSbom(zipSync(files), 'many.zip'));
    assertFailed(r, 'FILE_SIZE_LIMIT_EXCEEDED', /500 SBOM files; the limit is 100/, 'many.zip');
  });

  test('exactly maxZipEntries SBOM files are fine', async () => {
    const files: Zippable = {};
    for (let i = 0; i < 5; i++) files[`sbom-${i}.json`] = GOOD_SPDX;
    const reports = await validateSbom(zipSync(files), 'five.zip', { limits: { maxZipEntries: 5 } });
    assert.deepEqual(
      reports.map((r) => r.validationResult),
      Array(5).fill('SUCCEEDED'),
    );
  });
});

describe('zip names and structure', () => {
  for (const [name, why] of [
    ['../evil.json', /invalid relative path: \.\.\/evil\.json/],
    ['sub/../../evil.json', /invalid relative path/],
    ['/abs.json', /absolute path: \/abs\.json/],
    ['C:/win.json', /absolute path/],
  ] as const) {
    test(`an entry named ${name} rejects the archive`, async () => {
      const zip = zipSync({ 'ok.json': GOOD, [name]: GOOD });
      assertFailed(only(await validateSbom(zip, 'evil.zip')), 'INCOMPATIBLE_FORMAT', why, 'evil.zip');
    });
  }

  test('a nested zip fails as its own entry, by name and by content', async () => {
    const inner = zipSync({ 'x.json': GOOD });
    const reports = await validateSbom(zipSync({ 'ok.json': GOOD, 'inner.zip': inner, 'disguised.json': inner }), 'outer.zip');
    assert.deepEqual(
      reports.map((r) => [r.fileName, r.validationResult]),
      [
        ['ok.json', 'SUCCEEDED'],
        ['inner.zip', 'FAILED'],
        ['disguised.json', 'FAILED'],
      ],
    );
    for (const r of reports.slice(1)) assertFailed(r, 'INCOMPATIBLE_FORMAT', /nested archives are not supported/);
  });

  test('an empty zip: one FAILED row for the archive', async () => {
    const empty = zipSync({});
    assert.deepEqual([...empty.subarray(0, 4)], [0x50, 0x4b, 5, 6]);
    assertFailed(only(await validateSbom(empty, 'empty.zip')), 'INCOMPATIBLE_FORMAT', /contains no SBOM files/, 'empty.zip');
  });

  test('directories, __MACOSX/ and dotfiles are skipped, not failed', async () => {
    const zip = zipSync({
      'dir/': new Uint8Array(0),
      dir: { 'sbom.json': GOOD },
      __MACOSX: { dir: { '._sbom.json': new Uint8Array([0, 5, 22, 7]) } },
      '.DS_Store': new Uint8Array([0, 0, 0, 1]),
    });
    const reports = await validateSbom(zip, 'mac.zip');
    assert.deepEqual(
      reports.map((r) => [r.fileName, r.validationResult]),
      [['dir/sbom.json', 'SUCCEEDED']],
    );
    const onlyJunk = zipSync({ __MACOSX: { '._a': new Uint8Array([1]) }, '.hidden.json': GOOD });
    assertFailed(only(await validateSbom(onlyJunk, 'junk.zip')), 'INCOMPATIBLE_FORMAT', /contains no SBOM files/);
  });

  test('an entry flagged as encrypted fails without being read', async () => {
    const zip = patchAll(zipSync({ 'secret.json': GOOD, 'open.json': GOOD_SPDX }, { level: 6 }), 'flags', 0x1);
    const reports = await validateSbom(zip, 'enc.zip');
    assert.equal(reports.length, 2);
    for (const r of reports) assertFailed(r, 'INCOMPATIBLE_FORMAT', /encrypted zip entries are not supported/);
  });

  test('a truncated or corrupt archive: one FAILED row', async () => {
    const zip = zipSync({ 'a.json': GOOD });
    assertFailed(only(await validateSbom(zip.subarray(0, zip.length - 30), 'cut.zip')), 'INCOMPATIBLE_FORMAT', /not a readable zip archive/, 'cut.zip');
    const garbage = new Uint8Array(1000).fill(7);
    garbage.set([0x50, 0x4b, 3, 4]);
    assertFailed(only(await validateSbom(garbage, 'junk.zip')), 'INCOMPATIBLE_FORMAT', /not a readable zip archive/);
  });

  test('each entry keeps its path inside the zip as fileName', async () => {
    const reports = await validateSbom(zipSync({ a: { b: { 'c.cdx.json': GOOD } }, 'bad.json': new TextEncoder().encode('{"x":1}') }), 'paths.zip');
    assert.deepEqual(
      reports.map((r) => [r.fileName, r.validationResult]),
      [
        ['a/b/c.cdx.json', 'SUCCEEDED'],
        ['bad.json', 'FAILED'],
      ],
    );
  });
});

describe('other hostile documents', () => {
  test('nesting deep enough to overflow a recursive validator is a FAILED row, not a crash', async () => {
    const depth = 200_000;
    const doc = `{"bomFormat":"CycloneDX","specVersion":"1.4","version":1,"components":${'[{"type":"library","name":"x","components":'.repeat(depth)}[]${'}]'.repeat(depth)}}`;
    const r = only(await validateSbom(new TextEncoder().encode(doc), 'deep.json'));
    assert.equal(r.validationResult, 'FAILED');
    assert.equal(r.errorCode, 'INCOMPATIBLE_FORMAT');
  });

  test('XML external entities are neither fetched nor expanded', async () => {
    const xml = `<?xml version="1.0"?>\n<!DOCTYPE bom [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<bom xmlns="http://cyclonedx.org/schema/bom/1.4" version="1"><components><component type="library"><name>&x;</name><version>1</version></component></components></bom>`;
    const r = only(await validateSbom(new TextEncoder().encode(xml), 'xxe.xml'));
    assert.doesNotMatch(JSON.stringify(r), /root:/);
  });

  test('invalid UTF-8 and UTF-16 are refused', async () => {
    assertFailed(only(await validateSbom(new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]), 'bad.json')), 'INCOMPATIBLE_FORMAT', /not valid UTF-8/);
    assertFailed(only(await validateSbom(new Uint8Array([0xff, 0xfe, 0x7b, 0]), 'u16.json')), 'INCOMPATIBLE_FORMAT', /UTF-16/);
  });
});

describe('worker pool under failure', () => {
  const pools: SbomValidatorPool[] = [];
  after(() => Promise.all(pools.map((p) => p.close())));

  test('a job over its timeout resolves to a FAILED row; the pool goes on with a fresh worker', async () => {
    const pool = new SbomValidatorPool({ timeoutMs: 60_000 });
    pools.push(pool);
    const slow = await pool.validate(fixture('cdx-1.4-laravel.xml'), 'slow.xml', { timeoutMs: 1 });
    assertFailed(only(slow), 'FILE_SIZE_LIMIT_EXCEEDED', /did not finish within 1 ms/, 'slow.xml');
    const next = only(await pool.validate(fixture('cdx-1.4-laravel.json'), 'next.json'));
    assert.equal(next.validationResult, 'SUCCEEDED');
    assert.deepEqual(pool.stats(), { workersStarted: 2, recycled: 0, timedOut: 1, crashed: 0 });
  });

  test('JSON too big for the worker heap is refused before parsing (JSON.parse past the limit aborts the process)', async () => {
    const pool = new SbomValidatorPool({ maxOldGenerationSizeMb: 48 });
    pools.push(pool);
    // 10 MB of JSON that parses into two million objects: far more than a 48 MiB heap holds.
    const hog = new TextEncoder().encode(`{"spdxVersion":"SPDX-2.3","x":[${'{"a":[1]},'.repeat(1_000_000)}{}]}`);
    const r = only(await pool.validate(hog, 'hog.json'));
    assertFailed(r, 'FILE_SIZE_LIMIT_EXCEEDED', /too large to validate within the validator's memory: parsing needs up to \d+ MiB/, 'hog.json');
    const next = only(await pool.validate(GOOD_SPDX.slice(), 'next.spdx.json')); // slice(): validate() detaches what it is given
    assert.equal(next.validationResult, 'SUCCEEDED');
  });

  test('a worker killed by its heap limit resolves to a FAILED row; the pool goes on', async () => {
    const pool = new SbomValidatorPool({ maxOldGenerationSizeMb: 128 });
    pools.push(pool);
    // Parses small (1 MB: 500k numbers where license choices belong; the heap guard lets it
    // through), but listing its million schema errors (two per number in 1.4) takes ~150 MB.
    const doc = `{"bomFormat":"CycloneDX","specVersion":"1.4","version":1,"components":[{"type":"library","name":"x","licenses":[${'1,'.repeat(500_000)}1]}]}`;
    const r = only(await pool.validate(new TextEncoder().encode(doc), 'many-errors.json'));
    assertFailed(r, 'FILE_SIZE_LIMIT_EXCEEDED', /validation exceeded the 128 MiB memory limit/, 'many-errors.json');
    const next = only(await pool.validate(GOOD_SPDX.slice(), 'next.spdx.json'));
    assert.equal(next.validationResult, 'SUCCEEDED');
    assert.equal(pool.stats().crashed, 1);
  });

  test('concurrent jobs queue behind a concurrency of 1 and all complete', async () => {
    const pool = new SbomValidatorPool({ concurrency: 1 });
    pools.push(pool);
    const results = await Promise.all([GOOD.slice(), GOOD_SPDX.slice(), fixture('bad-not-sbom-tiny.json')].map((b, i) => pool.validate(b, `f${i}`)));
    assert.deepEqual(
      results.map((r) => only(r).validationResult),
      ['SUCCEEDED', 'SUCCEEDED', 'FAILED'],
    );
  });

  test('close() rejects queued work and later calls', async () => {
    const pool = new SbomValidatorPool();
    const a = assert.rejects(pool.validate(GOOD.slice(), 'a'), /closed/);
    const b = assert.rejects(pool.validate(GOOD.slice(), 'b'), /closed/);
    await pool.close();
    await a;
    await b;
    await assert.rejects(pool.validate(GOOD.slice(), 'c'), /closed/);
  });
});
