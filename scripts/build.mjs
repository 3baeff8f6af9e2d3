// `npm run build` (and `prepare`, so `npm install` on a clone leaves a runnable server): a clean dist/ compiled by
// tsc from src/, plus the data files the code reads next to itself (AWS models, SBOM schemas). dist/ mirrors src/,
// so `new URL('./x.json', import.meta.url)` finds the same file from the sources and from the build.
//
// Two dependencies are inlined, because loading them file by file dominated start-up: Kysely ships as ~280 ES
// modules (~250 ms of CPU and ~19 MB of RSS at every start; one file: ~40 ms, ~4 MB) and Fastify pulls in ~250
// CommonJS files (ajv, semver…: ~290 ms, ~20 MB; one file: ~150 ms, ~13 MB). esbuild (a dev dependency) bundles
// each into dist/vendor/, the emitted imports of the package point there, and the declarations keep importing the
// packages themselves (they stay dependencies). The bundled packages' licenses go to dist/vendor/LICENSES.txt.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');
const ASSETS = ['protocol/models', 'sbom/schemas'];
/** Package → bundle, ES modules both (Node would scan a CommonJS bundle for export names at every start). */
const VENDOR = { kysely: 'kysely.js', fastify: 'fastify.js' };
/** Fastify is CommonJS: its bundle exports `module.exports` as the default only, and needs `require` for Node's built-ins. */
const REQUIRE = `import { createRequire } from 'node:module';\nconst require = createRequire(import.meta.url);`;

rmSync(dist, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
for (const dir of ASSETS) cpSync(join(root, 'src', dir), join(dist, dir), { recursive: true, filter: (src) => !src.endsWith('.md') });

const bundled = new Set();
for (const [name, file] of Object.entries(VENDOR)) {
  const { metafile } = await build({
    entryPoints: [name],
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    outfile: join(dist, 'vendor', file),
    banner: { js: REQUIRE },
    metafile: true,
    logLevel: 'warning',
  });
  for (const input of Object.keys(metafile.inputs)) bundled.add(/^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input)?.[1]);
}
const licenses = [...bundled]
  .filter(Boolean)
  .sort()
  .map((dir) => {
    const { name, version, license } = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'));
    const text = readdirSync(join(root, dir)).find((f) => /^licen[cs]e/i.test(f));
    return `${name}@${version} (${license})\n\n${text ? readFileSync(join(root, dir, text), 'utf8').trim() : ''}\n`;
  });
writeFileSync(
  join(dist, 'vendor', 'LICENSES.txt'),
  `Packages bundled into this directory by scripts/build.mjs, with their licenses.\n\n${licenses.join(`\n${'-'.repeat(78)}\n\n`)}`,
);

const IMPORT = new RegExp(`(from |import\\()'(${Object.keys(VENDOR).join('|')})'`, 'g');
for (const file of readdirSync(dist, { recursive: true }).filter((f) => f.endsWith('.js') && !f.startsWith('vendor'))) {
  const path = join(dist, file);
  const js = readFileSync(path, 'utf8');
  const vendored = js.replace(IMPORT, (_m, head, name) => `${head}'${relative(dirname(path), join(dist, 'vendor', VENDOR[name])).replace(/^(?!\.)/, './')}'`);
  if (vendored !== js) writeFileSync(path, vendored);
}
if (!existsSync(resolve(dist, 'cli', 'main.js'))) throw new Error('build: dist/cli/main.js is missing');
