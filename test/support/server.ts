// Starts a real Flotilla on port 0 for a test file, on SQLite in a temp dir or, when FLOTILLA_TEST_POSTGRES_URL
// is set, on a fresh PostgreSQL database of its own.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IoTClient } from '@aws-sdk/client-iot';
import pg from 'pg';
import { startFlotilla, type Flotilla, type FlotillaOptions } from '../../src/index.ts';

export const POSTGRES_URL = process.env.FLOTILLA_TEST_POSTGRES_URL;

export interface TestServer {
  flotilla: Flotilla;
  endpoint: string;
  dataDir: string;
  database: string;
  /** An IoT client signed with the given access key (a 12-digit key selects that account). */
  iot(options?: { accessKeyId?: string; secretAccessKey?: string; region?: string }): IoTClient;
  /** A client of an account no other caller on this server has had: tests sharing a server do not see each other's resources. */
  freshAccount(): { client: IoTClient; account: string };
  stop(): Promise<void>;
}

/** A database for one test server: a new PostgreSQL database, or a SQLite file in `dataDir`. */
export async function createTestDatabase(dataDir: string): Promise<{ url: string; drop(): Promise<void> }> {
  if (!POSTGRES_URL) return { url: `sqlite:${join(dataDir, 'flotilla.db')}`, drop: async () => {} };
  const name = `flotilla_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: POSTGRES_URL });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

export async function startTestServer(options: FlotillaOptions = {}): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'flotilla-test-'));
  const database = await createTestDatabase(dataDir);
  const flotilla = await startFlotilla({ port: 0, mqttPort: 0, dataDir, database: database.url, logLevel: 'error', ...options });
  const clients: IoTClient[] = [];
  const iot: TestServer['iot'] = ({ accessKeyId = 'AKIDTEST', secretAccessKey = 'secret', region = 'us-east-1' } = {}) => {
    const client = new IoTClient({ endpoint: flotilla.endpoint, region, credentials: { accessKeyId, secretAccessKey }, maxAttempts: 1 });
    clients.push(client);
    return client;
  };
  let accounts = 0;
  return {
    flotilla,
    endpoint: flotilla.endpoint,
    dataDir,
    database: database.url,
    iot,
    freshAccount() {
      const account = String(100000000000 + ++accounts);
      return { client: iot({ accessKeyId: account }), account };
    },
    async stop() {
      for (const client of clients) client.destroy();
      await flotilla.stop();
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Runs `fn` and returns the AWS error it throws (fails when it does not throw). */
export async function awsError(fn: () => Promise<unknown>): Promise<{ name: string; message: string; status: number; body: any }> {
  try {
    await fn();
  } catch (err: any) {
    return { name: err.name, message: err.message, status: err.$metadata?.httpStatusCode, body: err };
  }
  throw new Error('expected the call to fail with an AWS error, but it succeeded');
}

/** Asserts that `call` fails with the AWS error `name` and HTTP `status` (and a message matching `message`). */
export async function expectError(call: () => Promise<unknown>, name: string, status: number, message?: RegExp) {
  const err = await awsError(call);
  assert.equal(err.name, name, `expected ${name}, got ${err.name}: ${err.message}`);
  assert.equal(err.status, status);
  if (message) assert.match(err.message, message);
  return err;
}

/** The AWS message of one failed constraint on `member`. */
export const invalid = (member: string, rule: string) =>
  new RegExp(`^1 validation error detected: Value .* at '${member.replaceAll('.', '\\.')}' failed to satisfy constraint: Member must ${rule}`);

/** Waits until the clock has moved past `date`, so that the next write gets a later timestamp. */
export async function clockPast(date: Date): Promise<void> {
  while (Date.now() <= date.getTime()) await new Promise((resolve) => setImmediate(resolve));
}

/** The response body without the SDK's per-call metadata. */
export function body<T extends { $metadata: unknown }>(output: T): Omit<T, '$metadata'> {
  const { $metadata: _metadata, ...rest } = output;
  return rest;
}

/**
 * Polls `check` until it returns without throwing, for effects that follow a commit (devices notified, jobs
 * following the registry). Gives up after `timeoutMs` with the last failure.
 */
export async function eventually<T>(check: () => Promise<T>, timeoutMs = 5000, intervalMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }
}
