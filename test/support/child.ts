// `flotilla serve` as a child process (for crash and multi-process tests), and the cleanups such tests register.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createTestDatabase } from './server.ts';

/** Node arguments that run the `flotilla` command from the sources (bin/flotilla.js runs the build, tested by package.test.ts). */
export const CLI = ['--import', 'tsx', fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url))];

/** What a test file must undo; run them in `after(runCleanups)`. */
export const cleanups: (() => Promise<unknown> | unknown)[] = [];

export async function runCleanups(): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
}

export interface Child {
  endpoint: string;
  process: ChildProcess;
  exited: Promise<unknown>;
}

/** Starts `flotilla serve` on port 0 (without the caller's FLOTILLA_* settings) and waits for its ready line. */
export async function spawnFlotilla(dataDir: string, database: string, args: string[] = []): Promise<Child> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FLOTILLA_')));
  const child = spawn(
    process.execPath,
    [...CLI, 'serve', '--port', '0', '--mqtt-port', '0', '--data-dir', dataDir, '--database', database, '--log-level', 'warn', ...args],
    {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    return exited;
  });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', () => reject(new Error(`flotilla exited before it was ready: ${stderr}`)));
  });
  const endpoint = /api=(http:\/\/\S+)/.exec(line)?.[1];
  assert.ok(endpoint, line);
  return { endpoint, process: child, exited };
}

/** A data dir and a database (SQLite in it, or a fresh PostgreSQL database), removed at cleanup. */
export async function tempPlace(prefix = 'flotilla-child-'): Promise<{ dataDir: string; database: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), prefix));
  const db = await createTestDatabase(dataDir);
  cleanups.push(async () => {
    await db.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  return { dataDir, database: db.url };
}
