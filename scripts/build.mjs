// `npm run build` (and `prepare`, so `npm install` on a clone leaves a runnable server): a clean dist/ compiled by
// tsc from src/, plus the data files the code reads next to itself (AWS models, SBOM schemas). dist/ mirrors src/,
// so `new URL('./x.json', import.meta.url)` finds the same file from the sources and from the build.
//
// One dependency is inlined: Kysely ships as ~280 ES modules, whose loading cost ~250 ms of CPU and ~19 MB of RSS
// at every start; bundled into dist/vendor/kysely.js (esbuild, a dev dependency) it costs ~40 ms and ~4 MB. The
// emitted imports of 'kysely' are pointed at that file; the declarations keep importing the 'kysely' package.
import { execFileSync } from 'node:child_process';
import { cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');
const ASSETS = ['protocol/models', 'sbom/schemas'];
const require = createRequire(import.meta.url);

rmSync(dist, { recursive: true, force: true });
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
for (const dir of ASSETS) cpSync(join(root, 'src', dir), join(dist, dir), { recursive: true, filter: (src) => !src.endsWith('.md') });

const kysely = join(dist, 'vendor', 'kysely.js');
const kyselyDir = join(dirname(require.resolve('kysely')), '..', '..');
const { version } = JSON.parse(readFileSync(join(kyselyDir, 'package.json'), 'utf8'));
const license = readFileSync(join(kyselyDir, 'LICENSE'), 'utf8');
await build({
  entryPoints: ['kysely'],
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outfile: kysely,
  banner: { js: `/*! Kysely ${version}, bundled by scripts/build.mjs.\n${license}*/` },
  logLevel: 'warning',
});
const IMPORT = /(from |import\()'kysely'/g;
for (const file of readdirSync(dist, { recursive: true }).filter((f) => f.endsWith('.js'))) {
  const path = join(dist, file);
  const js = readFileSync(path, 'utf8');
  const target = `./${relative(dirname(path), kysely)}`.replace(/^\.\/\.\./, '..');
  const vendored = js.replace(IMPORT, (_m, head) => `${head}'${target}'`);
  if (vendored !== js) writeFileSync(path, vendored);
}
