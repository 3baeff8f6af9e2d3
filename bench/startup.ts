// Start-up of the compiled CLI (bin/flotilla.js → dist/) beside `node -e 0` in the same run: time to the ready line
// on a fresh data dir and on a restart, idle RSS, `--help`, and the ready time over a store seeded with 1,000,000 rows.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { cpuSeconds, makeTempDir } from './servers.ts';
import { seedRows } from './seed.ts';

const ROOT = join(import.meta.dirname, '..');
const RUNS = 5;
const IDLE_MS = 2000;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (n: number) => `${Math.round(n)} ms`;
const verdict = (value: number, target: number) => (value <= target ? 'MET' : 'MISSED');

/** Wall time of `node <args>` to its exit, in ms. */
function timeExit(args: string[]): number {
  const t0 = performance.now();
  execFileSync(process.execPath, args, { cwd: ROOT, stdio: 'ignore' });
  return performance.now() - t0;
}

/** CPU time (user + system) of `node <args>`, from inside at its exit, in ms. */
function cpuExit(args: string[]): number {
  const script = `process.on('exit', () => { const u = process.cpuUsage(); process.stderr.write('cpu=' + (u.user + u.system) / 1000 + '\\n'); });`;
  const { stderr } = spawnSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(script)}`, ...args], { cwd: ROOT, encoding: 'utf8' });
  return Number(/cpu=([\d.]+)/.exec(stderr)?.[1]);
}

interface Started {
  readyMs: number;
  /** CPU time the process used up to its ready line, in ms: steadier than wall time on a busy machine. */
  readyCpuMs: number;
  /** RSS after IDLE_MS of idling, in MiB. */
  idleRssMiB: number;
}

/** Starts `flotilla serve` on `dataDir`, times the ready line, idles, reads RSS, stops it. */
async function timeReady(dataDir: string): Promise<Started> {
  const t0 = performance.now();
  const child = spawn(process.execPath, ['bin/flotilla.js', 'serve', '--port', '0', '--mqtt-port', '0', '--data-dir', dataDir, '--log-level', 'warn'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`flotilla exited (${code}) before it was ready`)));
    });
    const readyMs = performance.now() - t0;
    const readyCpuMs = cpuSeconds(child.pid!) * 1000;
    if (!line.startsWith('flotilla ready')) throw new Error(`unexpected first line: ${line}`);
    await new Promise((r) => setTimeout(r, IDLE_MS));
    const rss = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
    return { readyMs, readyCpuMs, idleRssMiB: Number(rss?.[1]) / 1024 };
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

export async function benchStartup(): Promise<void> {
  console.log(`0. Start-up of the compiled CLI (median of ${RUNS}; bin/flotilla.js runs dist/)`);
  const nodeMs = median(Array.from({ length: RUNS }, () => timeExit(['-e', '0'])));
  const helpMs = median(Array.from({ length: RUNS }, () => timeExit(['bin/flotilla.js', '--help'])));
  const nodeCpu = median(Array.from({ length: RUNS }, () => cpuExit(['-e', '0'])));
  const helpCpu = median(Array.from({ length: RUNS }, () => cpuExit(['bin/flotilla.js', '--help'])));
  const fresh: Started[] = [];
  const again: Started[] = [];
  for (let i = 0; i < RUNS; i++) {
    const dir = makeTempDir('flotilla-bench-start-');
    fresh.push(await timeReady(dir));
    again.push(await timeReady(dir));
  }
  const readyFresh = median(fresh.map((s) => s.readyMs));
  const readyAgain = median(again.map((s) => s.readyMs));
  const rss = median([...fresh, ...again].map((s) => s.idleRssMiB));
  const nodeRss =
    Number(/(\d+)/.exec(execFileSync(process.execPath, ['-e', 'setTimeout(() => console.log(process.memoryUsage().rss), 200)'], { encoding: 'utf8' }))?.[1]) /
    2 ** 20;
  const cpuFresh = median(fresh.map((s) => s.readyCpuMs));
  const cpuAgain = median(again.map((s) => s.readyCpuMs));
  console.log("  (wall time, then the process's own CPU time, steadier when the machine is busy)");
  console.log(`  node -e 0            ${ms(nodeMs)}, CPU ${ms(nodeCpu)} (anchor), idle RSS ${Math.round(nodeRss)} MiB`);
  console.log(
    `  flotilla --help      ${ms(helpMs)} (target <= 200 ms: ${verdict(helpMs, 200)}), CPU ${ms(helpCpu)}: ${ms(helpMs - nodeMs)} and CPU ${ms(helpCpu - nodeCpu)} above node`,
  );
  console.log(
    `  ready line, fresh    ${ms(readyFresh)} (target <= 400 ms: ${verdict(readyFresh, 400)}), CPU ${ms(cpuFresh)}: ${ms(readyFresh - nodeMs)} above node; creates the store`,
  );
  console.log(
    `  ready line, restart  ${ms(readyAgain)} (target <= 400 ms: ${verdict(readyAgain, 400)}), CPU ${ms(cpuAgain)}: ${ms(readyAgain - nodeMs)} above node`,
  );
  console.log(`  idle RSS             ${Math.round(rss)} MiB (target <= 70 MiB: ${verdict(rss, 70)}), ${Math.round(rss - nodeRss)} MiB above node`);

  const rows = Number(process.env.BENCH_SEED_ROWS) || 1_000_000;
  const dir = makeTempDir('flotilla-bench-seeded-');
  await timeReady(dir); // creates the schema through the real migrations
  const seeded = seedRows(join(dir, 'flotilla.db'), rows);
  const big = await timeReady(dir);
  console.log(`  seeded store         ${seeded.rows.toLocaleString('en-US')} rows (${seeded.detail}), ${Math.round(seeded.fileMiB)} MiB file`);
  console.log(
    `  ready line, seeded   ${ms(big.readyMs)} (target <= 1000 ms: ${verdict(big.readyMs, 1000)}), CPU ${ms(big.readyCpuMs)}, idle RSS ${Math.round(big.idleRssMiB)} MiB (empty store: ${Math.round(rss)} MiB)`,
  );
  console.log();
}
