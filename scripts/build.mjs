// `npm run build` (and `prepare`, so `npm install` on a clone leaves a runnable server): a clean dist/ compiled by
// tsc from src/, plus the data files the code reads next to itself (AWS models, SBOM schemas). dist/ mirrors src/,
// so `new URL('./x.json', import.meta.url)` finds the same file from the sources and from the build.
import { execFileSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const ASSETS = ['protocol/models', 'sbom/schemas'];

rmSync(`${root}/dist`, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', `${root}/tsconfig.build.json`], { stdio: 'inherit' });
for (const dir of ASSETS) cpSync(`${root}/src/${dir}`, `${root}/dist/${dir}`, { recursive: true, filter: (src) => !src.endsWith('.md') });
