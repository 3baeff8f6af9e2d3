// The package as a user gets it: `npm pack` (which builds dist/ through `prepare`), the tarball unpacked into an
// empty project's node_modules, then `import { startFlotilla } from 'flotilla'` in plain Node (no tsx), the
// compiled CLI and SBOM worker, and a TypeScript consumer type-checked with moduleResolution node16.
// Offline and quick: the project's dependencies are links to this repository's installed production dependencies
// (those package-lock.json does not mark dev), so a runtime import of a dev-only package fails here as it would
// for a user.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TSC = createRequire(import.meta.url).resolve('typescript/bin/tsc');
// The package does not depend on the store: it is checked once, in the SQLite pass of the suite.
const SKIP = process.env.FLOTILLA_TEST_POSTGRES_URL ? 'store-independent; checked in the SQLite pass' : false;
const TEST = { timeout: 180_000, skip: SKIP };

const place = mkdtempSync(join(tmpdir(), 'flotilla-package-'));
const app = join(place, 'app');
const pkg = join(app, 'node_modules', 'flotilla');
after(() => rmSync(place, { recursive: true, force: true }));

/** The environment of plain Node: no loader from NODE_OPTIONS, no FLOTILLA_* settings of the caller. */
const ENV = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FLOTILLA_'))), NODE_OPTIONS: '' };

/** Plain node (a child does not inherit the test runner's `--import tsx`), in the consumer project. */
function node(args: string[], input?: string): string {
  return execFileSync(process.execPath, args, { cwd: app, encoding: 'utf8', input, env: ENV });
}

before(() => {
  if (SKIP) return;
  const out = execFileSync('npm', ['pack', '--silent', '--pack-destination', place], { cwd: ROOT, encoding: 'utf8' });
  const tarball = join(place, out.trim().split('\n').pop()!);
  mkdirSync(pkg, { recursive: true });
  execFileSync('tar', ['xzf', tarball, '-C', pkg, '--strip-components=1']);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module', dependencies: { flotilla: 'file:flotilla.tgz' } }));

  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean; link?: boolean }> };
  for (const [path, entry] of Object.entries(lock.packages)) {
    const name = /^node_modules\/((?:@[^/]+\/)?[^/]+)$/.exec(path)?.[1];
    if (!name || entry.dev || entry.link) continue;
    mkdirSync(join(app, 'node_modules', name, '..'), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules', name), join(app, 'node_modules', name));
  }
  // The consumer's own dev dependency for its TypeScript check (when no production dependency brought it).
  const typesNode = join(app, 'node_modules', '@types', 'node');
  mkdirSync(join(typesNode, '..'), { recursive: true });
  if (!existsSync(typesNode)) symlinkSync(join(ROOT, 'node_modules', '@types', 'node'), typesNode);
});

test('the tarball holds the build, not the sources or the tests', TEST, () => {
  const manifest = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8'));
  assert.equal(manifest.private, undefined);
  assert.equal(manifest.dependencies.tsx, undefined, 'tsx is a dev dependency');
  const files = execFileSync('find', ['.', '-type', 'f'], { cwd: pkg, encoding: 'utf8' }).split('\n');
  assert.ok(files.includes('./dist/index.js') && files.includes('./dist/index.d.ts'), 'dist/index.js and its declarations');
  assert.ok(files.includes('./dist/protocol/models/iot.json'), 'the AWS models');
  assert.ok(files.includes('./dist/sbom/schemas/bom-1.6.xsd'), 'the SBOM schemas');
  assert.deepEqual(
    files.filter((f) => f.startsWith('./src/') || f.startsWith('./test/') || (f.endsWith('.ts') && !f.endsWith('.d.ts'))),
    [],
  );
});

test("import { startFlotilla } from 'flotilla' serves in plain Node", TEST, () => {
  const dataDir = join(place, 'data');
  const script = `
    import { startFlotilla } from 'flotilla';
    const flotilla = await startFlotilla({ port: 0, mqttPort: 0, dataDir: ${JSON.stringify(dataDir)}, logLevel: 'warn' });
    const res = await fetch(flotilla.endpoint + '/_flotilla/health');
    console.log(JSON.stringify({ status: res.status, body: await res.text() }));
    await flotilla.stop();`;
  const result = JSON.parse(node(['--input-type=module', '-'], script).trim().split('\n').pop()!);
  assert.equal(result.status, 200, result.body);
});

test('the compiled CLI prints its help and serves', TEST, async () => {
  assert.match(node([join(pkg, 'bin', 'flotilla.js'), '--help']), /Usage: flotilla/);
  const child = spawn(process.execPath, [join(pkg, 'bin', 'flotilla.js'), 'serve', '--port', '0', '--mqtt-port', '0', '--data-dir', join(place, 'cli-data')], {
    cwd: app,
    env: ENV,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    const line = await new Promise<string>((resolve) => createInterface({ input: child.stdout! }).once('line', resolve));
    const endpoint = /^flotilla ready api=(\S+)/.exec(line)?.[1];
    assert.ok(endpoint, line);
    assert.equal((await fetch(`${endpoint}/_flotilla/health`)).status, 200);
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
});

test('the compiled SBOM worker validates from dist/', TEST, () => {
  const pool = join(pkg, 'dist', 'sbom', 'pool.js');
  const sbom = join(ROOT, 'test', 'fixtures', 'sbom', 'cdx-1.4-laravel.xml');
  const script = `
    import { readFileSync } from 'node:fs';
    import { SbomValidatorPool } from ${JSON.stringify(pool)};
    const pool = new SbomValidatorPool({});
    console.log(JSON.stringify(await pool.validate(new Uint8Array(readFileSync(${JSON.stringify(sbom)})), 'bom.xml')));
    process.exit(0);`;
  const [report] = JSON.parse(node(['--input-type=module', '-'], script).trim().split('\n').pop()!);
  assert.equal(report.validationResult, 'SUCCEEDED', JSON.stringify(report));
  assert.equal(report.format, 'cyclonedx-xml-1.4');
});

test('a TypeScript consumer type-checks against the declarations (moduleResolution node16)', TEST, () => {
  writeFileSync(
    join(app, 'consumer.ts'),
    `import { startFlotilla, type Flotilla, type FlotillaOptions } from 'flotilla';
const options: FlotillaOptions = { port: 0, dataDir: '/tmp/x', auth: 'sigv4', credentials: 'AK:SECRET' };
const flotilla: Flotilla = await startFlotilla(options);
const endpoint: string = flotilla.endpoint;
// @ts-expect-error: auth is 'off' | 'sigv4'
const wrong: FlotillaOptions = { auth: 'basic' };
console.log(endpoint, wrong);
await flotilla.stop();
`,
  );
  const compilerOptions = { module: 'node16', moduleResolution: 'node16', target: 'ES2022', strict: true, noEmit: true, types: ['node'], skipLibCheck: false };
  writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['consumer.ts'] }));
  try {
    node([TSC, '-p', join(app, 'tsconfig.json')]);
  } catch (err) {
    assert.fail(`tsc: ${(err as { stdout?: string }).stdout}`);
  }
});
