// SBOM validation throughput and peak RSS (sbom.md §5), called from bench/run.ts as benchSbom().
// Two synthetic documents generated here (20,000-component CycloneDX 1.5 JSON, 20,000-package
// SPDX 2.3 JSON) go through our validateSbom and through plain ajv with the stock schema, which
// has to have `uniqueItems` stripped or it takes about a minute (O(n²)). Every measurement runs
// in a fresh child process so that its peak RSS is its own; the ratio comes from a child that runs
// both pipelines alternately (best of 5), which is the steadiest figure on a shared machine.
// BENCH_SBOM_ITEMS overrides the 20,000 items.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Ajv } from 'ajv';
import formatsPlugin from 'ajv-formats';
import { getValidator, idnEmail, withoutUniqueItems } from '../src/sbom/json-schemas.ts';
import { SbomValidatorPool } from '../src/sbom/pool.ts';
import { validateSbom } from '../src/sbom/validate.ts';

const N = Number(process.env.BENCH_SBOM_ITEMS) || 20_000;
const RUNS = 3;
const SCHEMA_DIR = new URL('../src/sbom/schemas/', import.meta.url);

// ---- document generators (deterministic, realistic-ish shapes) ----
const hex = (i: number, len: number): string =>
  i
    .toString(16)
    .padStart(8, '0')
    .repeat(Math.ceil(len / 8))
    .slice(0, len);
const LICENSES = ['MIT', 'Apache-2.0', 'BSD-3-Clause', 'ISC', 'GPL-2.0-only', 'MPL-2.0'];

export function makeCycloneDx15(n: number): string {
  const components = [];
  const dependencies = [];
  for (let i = 0; i < n; i++) {
    const name = `pkg-${i}`;
    const version = `${i % 7}.${i % 13}.${i % 5}`;
    const purl = `pkg:npm/%40scope${i % 50}/${name}@${version}`;
    components.push({
      type: 'library',
      'bom-ref': purl,
      group: `@scope${i % 50}`,
      name,
      version,
      description: `Synthetic component number ${i} for the validation benchmark`,
      scope: 'required',
      hashes: [
        { alg: 'SHA-256', content: hex(i, 64) },
        { alg: 'SHA-512', content: hex(i * 7, 128) },
      ],
      licenses: i % 5 === 0 ? [{ expression: `${LICENSES[i % 6]} OR ${LICENSES[(i + 1) % 6]}` }] : [{ license: { id: LICENSES[i % 6] } }],
      purl,
      externalReferences: [
        { type: 'vcs', url: `https://github.com/example/${name}.git` },
        { type: 'website', url: `https://example.com/${name}` },
      ],
      properties: [
        { name: 'cdx:npm:package:path', value: `node_modules/${name}` },
        { name: 'bench:index', value: String(i) },
      ],
    });
    const deps = [1, 2, 3].map((k) => (i + k * 97) % n).filter((j) => j !== i);
    dependencies.push({ ref: purl, dependsOn: deps.map((j) => `pkg:npm/%40scope${j % 50}/pkg-${j}@${j % 7}.${j % 13}.${j % 5}`) });
  }
  return JSON.stringify({
    $schema: 'http://cyclonedx.org/schema/bom-1.5.schema.json',
    bomFormat: 'CycloneDX',
    specVersion: '1.5',
    serialNumber: 'urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79',
    version: 1,
    metadata: {
      timestamp: '2026-11-26T12:00:00Z',
      tools: { components: [{ type: 'application', name: 'bench-generator', version: '1.0.0' }] },
      component: { type: 'application', 'bom-ref': 'root-app', name: 'root-app', version: '1.0.0' },
    },
    components,
    dependencies: [{ ref: 'root-app', dependsOn: components.slice(0, 50).map((c) => c['bom-ref']) }, ...dependencies],
  });
}

export function makeSpdx23(n: number): string {
  const packages = [];
  const relationships = [{ spdxElementId: 'SPDXRef-DOCUMENT', relatedSpdxElement: 'SPDXRef-Package-0', relationshipType: 'DESCRIBES' }];
  for (let i = 0; i < n; i++) {
    const version = `${i % 7}.${i % 13}.${i % 5}`;
    packages.push({
      SPDXID: `SPDXRef-Package-${i}`,
      name: `pkg-${i}`,
      versionInfo: version,
      supplier: `Organization: Example ${i % 50}`,
      downloadLocation: `https://registry.example.com/pkg-${i}/-/pkg-${i}-${version}.tgz`,
      filesAnalyzed: false,
      checksums: [{ algorithm: 'SHA256', checksumValue: hex(i, 64) }],
      licenseConcluded: LICENSES[i % 6],
      licenseDeclared: i % 5 === 0 ? `${LICENSES[i % 6]} OR ${LICENSES[(i + 1) % 6]}` : LICENSES[i % 6],
      copyrightText: 'NOASSERTION',
      externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: `pkg:npm/pkg-${i}@${version}` }],
    });
    for (const k of [1, 2])
      relationships.push({ spdxElementId: `SPDXRef-Package-${i}`, relatedSpdxElement: `SPDXRef-Package-${(i + k * 89) % n}`, relationshipType: 'DEPENDS_ON' });
  }
  return JSON.stringify({
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: 'bench-sbom',
    documentNamespace: 'https://example.com/spdx/bench-sbom-1',
    creationInfo: { created: '2026-11-26T12:00:00Z', creators: ['Tool: bench-generator-1.0'] },
    packages,
    relationships,
  });
}

// ---- child-process measurements ----
type Mode = 'ours' | 'pool' | 'plain' | 'compare';
interface ChildResult {
  medianMs: number;
  e2eOursMs?: number;
  e2ePlainMs?: number;
  parseMs?: number;
  oursSchemaMs?: number;
  plainSchemaMs?: number;
  verdict: string;
  peakRssMiB: number;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
// Children run with --expose-gc: every timed run starts from a collected heap, so no run pays for
// the garbage of the one before (which would bias whichever pipeline runs second).
const settle = (): void => (globalThis as { gc?: () => void }).gc?.();
const time = (fn: () => unknown): number => {
  settle();
  const t = performance.now();
  fn();
  return performance.now() - t;
};

function plainAjv(kind: 'cdx' | 'spdx') {
  const ajv = new Ajv({ strict: false, logger: false });
  const addFormats = ((formatsPlugin as unknown as { default?: typeof formatsPlugin }).default ?? formatsPlugin) as unknown as (a: Ajv, f: string[]) => void;
  addFormats(ajv, ['date-time', 'date', 'time', 'uri', 'uri-reference', 'email']);
  ajv.addFormat('iri-reference', true);
  ajv.addFormat('idn-email', idnEmail);
  const load = (f: string) => withoutUniqueItems(JSON.parse(readFileSync(new URL(f, SCHEMA_DIR), 'utf8')));
  if (kind === 'cdx') {
    ajv.addSchema(load('spdx.schema.json'));
    ajv.addSchema(load('jsf-0.82.schema.json'));
    return ajv.compile(load('bom-1.5.schema.json'));
  }
  return ajv.compile(load('spdx-2.3.schema.json'));
}

async function child(mode: Mode, kind: 'cdx' | 'spdx', file: string): Promise<ChildResult> {
  const bytes = readFileSync(file);
  const format = kind === 'cdx' ? 'cyclonedx-json-1.5' : 'spdx-json-2.3';
  let verdict = '';
  if (mode === 'ours') {
    await validateSbom(bytes.subarray(0, 0), 'warm'); // module load
    getValidator(format, true, false); // compile outside the timing, as a server does at startup
    const runs: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      settle();
      const t = performance.now();
      const rep = await validateSbom(bytes, 'bench.json');
      runs.push(performance.now() - t);
      verdict = `${rep[0]!.validationResult} (${rep[0]!.warnings.length} warnings)`;
    }
    return { medianMs: median(runs), verdict, peakRssMiB: process.resourceUsage().maxRSS / 1024 };
  }
  if (mode === 'pool') {
    // As the server runs it: in a worker (young generation 96 MiB), bytes transferred.
    const pool = new SbomValidatorPool();
    await pool.validate(new Uint8Array(bytes), 'warm'); // worker start + schema compile
    const runs: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      const copy = new Uint8Array(bytes);
      settle();
      const t = performance.now();
      const rep = await pool.validate(copy, 'bench.json');
      runs.push(performance.now() - t);
      verdict = rep[0]!.validationResult;
    }
    await pool.close();
    return { medianMs: median(runs), verdict, peakRssMiB: process.resourceUsage().maxRSS / 1024 };
  }
  const plain = plainAjv(kind);
  if (mode === 'plain') {
    const runs: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      settle();
      const t = performance.now();
      const doc = JSON.parse(bytes.toString('utf8'));
      verdict = plain(doc) ? 'valid' : 'invalid';
      runs.push(performance.now() - t);
    }
    return { medianMs: median(runs), verdict, peakRssMiB: process.resourceUsage().maxRSS / 1024 };
  }
  // 'compare': both pipelines alternately in one process (fairer on a busy machine), best of 5;
  // then the schema step alone, both validators on the same parsed document.
  await validateSbom(bytes.subarray(0, 0), 'warm');
  const ours = getValidator(format, true, false);
  const e2eOurs: number[] = [];
  const e2ePlain: number[] = [];
  for (let r = 0; r < 5; r++) {
    settle();
    const t = performance.now();
    verdict = (await validateSbom(bytes, 'bench.json'))[0]!.validationResult;
    e2eOurs.push(performance.now() - t);
    e2ePlain.push(time(() => plain(JSON.parse(bytes.toString('utf8')))));
  }
  let doc: unknown;
  const parseMs = time(() => (doc = JSON.parse(bytes.toString('utf8'))));
  const o: number[] = [];
  const p: number[] = [];
  for (let r = 0; r < 5; r++) {
    o.push(time(() => ours(doc)));
    p.push(time(() => plain(doc)));
  }
  return {
    medianMs: 0,
    e2eOursMs: Math.min(...e2eOurs),
    e2ePlainMs: Math.min(...e2ePlain),
    parseMs,
    oursSchemaMs: Math.min(...o),
    plainSchemaMs: Math.min(...p),
    verdict,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
  };
}

const SELF = fileURLToPath(import.meta.url);

function runChild(mode: Mode, kind: 'cdx' | 'spdx', file: string): ChildResult {
  const out = execFileSync(process.execPath, ['--expose-gc', '--import', import.meta.resolve('tsx'), SELF, '--sbom-bench-child', mode, kind, file], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
    env: { ...process.env },
  });
  return JSON.parse(out.trim().split('\n').pop()!) as ChildResult;
}

export async function benchSbom(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-sbom-bench-'));
  try {
    console.log(
      `\nSBOM validation: ${N} items; own-process rows are the median of ${RUNS} runs; schema compile time excluded;` +
        ` load average ${loadavg()
          .map((l) => l.toFixed(1))
          .join(' ')} on ${availableParallelism()} cores`,
    );
    const rows: string[][] = [['document', 'MiB', 'engine', 'ms', 'MB/s', 'peak RSS MiB', 'verdict']];
    for (const kind of ['cdx', 'spdx'] as const) {
      const text = kind === 'cdx' ? makeCycloneDx15(N) : makeSpdx23(N);
      const file = join(dir, `${kind}.json`);
      writeFileSync(file, text);
      const mb = text.length / 1e6;
      const label = kind === 'cdx' ? 'CycloneDX 1.5 JSON' : 'SPDX 2.3 JSON';
      const ours = runChild('ours', kind, file);
      const pooled = runChild('pool', kind, file);
      const plain = runChild('plain', kind, file);
      const cmp = runChild('compare', kind, file);
      const mbs = (ms: number) => (mb / (ms / 1000)).toFixed(1);
      rows.push([
        label,
        (text.length / 1048576).toFixed(1),
        'validateSbom: parse+schema+integrity (own process)',
        ours.medianMs.toFixed(0),
        mbs(ours.medianMs),
        ours.peakRssMiB.toFixed(0),
        ours.verdict,
      ]);
      rows.push([
        '',
        '',
        'SbomValidatorPool.validate, same work in a worker (own process)',
        pooled.medianMs.toFixed(0),
        mbs(pooled.medianMs),
        pooled.peakRssMiB.toFixed(0),
        pooled.verdict,
      ]);
      rows.push([
        '',
        '',
        'plain ajv, stock schema minus uniqueItems: parse+schema (own process)',
        plain.medianMs.toFixed(0),
        mbs(plain.medianMs),
        plain.peakRssMiB.toFixed(0),
        plain.verdict,
      ]);
      rows.push([
        '',
        '',
        'same process, alternating, best of 5: validateSbom / plain ajv',
        `${cmp.e2eOursMs!.toFixed(0)} / ${cmp.e2ePlainMs!.toFixed(0)}`,
        `${(cmp.e2ePlainMs! / cmp.e2eOursMs!).toFixed(2)}× (target ≥ 0.80×)`,
        '',
        cmp.verdict,
      ]);
      rows.push([
        '',
        '',
        `schema step only on one parsed doc (parse ${cmp.parseMs!.toFixed(0)} ms): ours / plain`,
        `${cmp.oursSchemaMs!.toFixed(0)} / ${cmp.plainSchemaMs!.toFixed(0)}`,
        `${(cmp.plainSchemaMs! / cmp.oursSchemaMs!).toFixed(2)}×`,
        '',
        '',
      ]);
    }
    const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
    for (const r of rows) console.log(r.map((cell, c) => cell.padEnd(widths[c]!)).join('  '));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--sbom-bench-child') {
  const [mode, kind, file] = process.argv.slice(3) as [Mode, 'cdx' | 'spdx', string];
  console.log(JSON.stringify(await child(mode, kind, file)));
} else if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await benchSbom();
}
