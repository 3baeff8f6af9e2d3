// Child processes under test: Flotilla (its real CLI) and a bare Fastify baseline. Both listen on port 0 and
// announce the port they got on stdout. Every child and temp dir is tracked so the bench can always clean up.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = join(import.meta.dirname, '..');
const READY_TIMEOUT_MS = 30_000;

export const BENCH_KEY = { accessKeyId: 'AKIDBENCH', secretAccessKey: 'benchsecret' };

const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();

export interface ServerProcess {
  url: string;
  pid: number;
  /** What the child wrote to stderr so far (for failure reports). */
  stderr(): string;
  stop(): Promise<void>;
}

export function makeTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

/** Starts `node <args>` and resolves with the URL parsed from the first stdout line matching `ready`. */
function startChild(args: string[], ready: (line: string) => string | undefined, env: NodeJS.ProcessEnv = {}): Promise<ServerProcess> {
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr = (stderr + d).slice(-8000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  exited.then(() => children.delete(child));

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
  };

  return new Promise<ServerProcess>((resolve, reject) => {
    let settled = false;
    const fail = (why: string) => {
      if (settled) return;
      settled = true;
      void stop();
      reject(new Error(`${why}: node ${args.join(' ')}\n${stderr}`));
    };
    const timer = setTimeout(() => fail(`not ready after ${READY_TIMEOUT_MS} ms`), READY_TIMEOUT_MS);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      fail(`exited before it was ready (code ${code}, signal ${signal})`);
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      fail(String(err));
    });
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      const url = ready(line);
      if (!url || settled) return;
      settled = true;
      clearTimeout(timer);
      lines.close();
      child.stdout!.resume(); // keep draining anything else it prints
      resolve({ url, pid: child.pid!, stderr: () => stderr, stop });
    });
  });
}

/**
 * Flotilla through its CLI with a fresh temp dir, verifying SigV4 signatures with the bench key; its store is SQLite
 * in that dir unless `database` names another (a postgres:// URL).
 */
export async function startFlotillaChild(extraNodeArgs: string[] = [], database?: string): Promise<ServerProcess & { dataDir: string; mqttUrl?: string }> {
  const dataDir = makeTempDir('flotilla-bench-');
  const args = [
    ...extraNodeArgs,
    'bin/flotilla.js',
    'serve',
    '--port',
    '0',
    '--mqtt-port',
    '0',
    '--data-dir',
    dataDir,
    ...(database ? ['--database', database] : []),
    '--auth',
    'sigv4',
    '--credentials',
    `${BENCH_KEY.accessKeyId}:${BENCH_KEY.secretAccessKey}`,
    '--log-level',
    'warn',
  ];
  let mqttUrl: string | undefined;
  const server = await startChild(args, (line) => {
    if (!line.startsWith('flotilla ready api=')) return undefined;
    mqttUrl = /\bmqtt=(mqtt:\/\/\S+)/.exec(line)?.[1];
    return line.slice('flotilla ready api='.length).split(' ')[0];
  });
  return { ...server, dataDir, mqttUrl };
}

/** The baseline: Fastify alone answering a constant JSON at GET /x (bench/bare-server.ts). */
export function startBareChild(extraNodeArgs: string[] = []): Promise<ServerProcess> {
  return startChild([...extraNodeArgs, '--import', 'tsx', 'bench/bare-server.ts'], (line) =>
    line.startsWith('bare ready url=') ? line.slice('bare ready url='.length).trim() : undefined,
  );
}

/** Peak resident set size of a live process, in MiB (VmHWM). */
export function peakRssMiB(pid: number): number {
  const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmHWM in /proc/${pid}/status`);
  return Number(m[1]) / 1024;
}

let clockTicks = 100;
try {
  clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
} catch {
  // keep the usual 100 Hz
}

/** CPU seconds (user + system) a live process has used so far. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15 of the whole line.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / clockTicks;
}

/** Stops every child still running and removes every temp dir. Safe to call more than once. */
export async function cleanupAll(): Promise<void> {
  await Promise.all(
    [...children].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
          setTimeout(() => child.kill('SIGKILL'), 5000).unref();
        }),
    ),
  );
  for (const dir of [...tempDirs]) removeTempDir(dir);
}

/** Last resort when the process is leaving abruptly: no waiting possible, so SIGKILL and synchronous removal. */
export function cleanupNow(): void {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const dir of [...tempDirs]) removeTempDir(dir);
}

/** Busy and total CPU time of the whole machine so far (jiffies, all cores), from /proc/stat. */
export function machineCpu(): { busy: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1, 9).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  const idle = fields[3] + fields[4]; // idle + iowait
  return { busy: total - idle, total };
}
