// The real CLI as a child process: the ready line, JSON logs, signals, environment twins, refusals to start, and
// durability of acknowledged writes across a SIGKILL.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, test } from 'node:test';
import {
  CreatePackageCommand,
  CreatePackageVersionCommand,
  GetPackageCommand,
  GetPackageConfigurationCommand,
  GetPackageVersionCommand,
  IoTClient,
  ListPackageVersionsCommand,
  ListTagsForResourceCommand,
  TagResourceCommand,
  UpdatePackageCommand,
  UpdatePackageConfigurationCommand,
  UpdatePackageVersionCommand,
} from '@aws-sdk/client-iot';
import { CLI } from './support/child.ts';
import { createTestDatabase } from './support/server.ts';

const READY = /^flotilla ready api=(http:\/\/127\.0\.0\.1:(\d+)) mqtt=(mqtt:\/\/127\.0\.0\.1:(\d+)|off)$/;
/** Generous bounds so that a hung child fails the test instead of hanging it; nothing asserts on time. */
const WAIT_MS = 30_000;
const TEST = { timeout: 120_000 };

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

interface Child {
  process: ChildProcess;
  /** The ready line's mqtt= value: the broker's real URL, or `off`. */
  mqtt?: string;
  /** Every stdout line so far. */
  lines: string[];
  /** The first stdout line; undefined when the process closed stdout without one. */
  firstLine: Promise<string | undefined>;
  stderr(): string;
  exited: Promise<Exit>;
}

const children = new Set<ChildProcess>();
const cleanups: (() => Promise<void>)[] = [];
const clients: IoTClient[] = [];

after(async () => {
  for (const client of clients) client.destroy();
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const cleanup of cleanups) await cleanup();
});

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), WAIT_MS)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Runs `flotilla <args>` with a clean FLOTILLA_* environment plus `env`. */
function run(args: string[], env: Record<string, string> = {}): Child {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FLOTILLA_')));
  const child = spawn(process.execPath, [...CLI, ...args], { env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const lines: string[] = [];
  const stdout = createInterface({ input: child.stdout! });
  const firstLine = new Promise<string | undefined>((resolve) => {
    stdout.on('line', (line) => resolve(lines.push(line) === 1 ? line : lines[0]));
    stdout.on('close', () => resolve(undefined));
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<Exit>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  return { process: child, lines, firstLine, stderr: () => stderr, exited };
}

/** Waits for the first stdout line, which must be the ready line; returns the API endpoint. */
async function ready(child: Child): Promise<string> {
  const line = await withTimeout(child.firstLine, 'the ready line');
  if (line === undefined) throw new Error(`flotilla exited (${JSON.stringify(await child.exited)}) before it was ready: ${child.stderr()}`);
  const match = READY.exec(line);
  assert.ok(match, `first stdout line: ${JSON.stringify(line)}`);
  assert.notEqual(match[2], '0');
  assert.notEqual(match[4], '0');
  child.mqtt = match[3];
  return match[1];
}

/** A data dir and a database (SQLite in the dir, or a fresh PostgreSQL database) removed after the file. */
async function dataDir(): Promise<{ dir: string; database: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'flotilla-process-'));
  const db = await createTestDatabase(dir);
  cleanups.push(async () => {
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, database: db.url };
}

const serveArgs = (data: { dir: string; database: string }, ...extra: string[]) => [
  'serve',
  '--port',
  '0',
  '--mqtt-port',
  '0',
  '--data-dir',
  data.dir,
  '--database',
  data.database,
  '--log-level',
  'info',
  ...extra,
];

async function start(data: { dir: string; database: string }): Promise<{ child: Child; endpoint: string }> {
  const child = run(serveArgs(data));
  return { child, endpoint: await ready(child) };
}

async function stop(child: Child, signal: NodeJS.Signals): Promise<Exit> {
  child.process.kill(signal);
  return withTimeout(child.exited, `exit after ${signal}`);
}

function iotAt(endpoint: string): IoTClient {
  const client = new IoTClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' }, maxAttempts: 1 });
  clients.push(client);
  return client;
}

async function health(endpoint: string): Promise<void> {
  const res = await fetch(`${endpoint}/_flotilla/health`);
  assert.equal(res.status, 200);
  assert.equal(((await res.json()) as Record<string, string>).status, 'ok');
}

/** Every stdout line after the ready line is a JSON log record. */
function assertJsonLogs(child: Child): void {
  for (const line of child.lines.slice(1)) assert.doesNotThrow(() => JSON.parse(line), `not a JSON log line: ${line}`);
}

/** Runs a command that must refuse to start; returns its stderr. */
async function refusal(args: string[], env: Record<string, string> = {}): Promise<string> {
  const child = run(args, env);
  const exit = await withTimeout(child.exited, `flotilla ${args.join(' ')} to exit`);
  assert.notEqual(exit.code, 0, `exit ${JSON.stringify(exit)}`);
  assert.equal(exit.signal, null);
  assert.ok(!child.lines.some((l) => l.startsWith('flotilla ready')), child.lines.join('\n'));
  return child.stderr();
}

describe('flotilla serve', () => {
  test('prints the ready line first, then only JSON; serves; SIGTERM exits 0', TEST, async () => {
    const data = await dataDir();
    const { child, endpoint } = await start(data);
    await health(endpoint);
    assert.match(child.mqtt ?? '', /^mqtt:\/\/127\.0\.0\.1:\d+$/);
    const iot = iotAt(endpoint); // keeps its connection open across the shutdown
    await iot.send(new CreatePackageCommand({ packageName: 'served' }));
    assert.equal((await iot.send(new GetPackageCommand({ packageName: 'served' }))).packageName, 'served');
    assert.deepEqual(await stop(child, 'SIGTERM'), { code: 0, signal: null });
    assertJsonLogs(child);
  });

  test('--mqtt-port off runs no broker: the ready line says mqtt=off', TEST, async () => {
    const child = run(serveArgs(await dataDir(), '--mqtt-port', 'off'));
    await health(await ready(child));
    assert.equal(child.mqtt, 'off');
    assert.deepEqual(await stop(child, 'SIGTERM'), { code: 0, signal: null });
  });

  test('SIGINT exits 0 too', TEST, async () => {
    const { child, endpoint } = await start(await dataDir());
    await health(endpoint);
    assert.deepEqual(await stop(child, 'SIGINT'), { code: 0, signal: null });
  });

  test('every flag has a FLOTILLA_* twin, and a flag wins over its twin', TEST, async () => {
    const data = await dataDir();
    const env = { FLOTILLA_PORT: '0', FLOTILLA_MQTT_PORT: '0', FLOTILLA_DATA_DIR: data.dir, FLOTILLA_DATABASE: data.database, FLOTILLA_REGION: 'eu-west-1' };
    const fromEnv = run(['serve'], env);
    const endpoint = await ready(fromEnv);
    const created = await iotAt(endpoint).send(new CreatePackageCommand({ packageName: 'from-env' }));
    assert.equal(created.packageArn, 'arn:aws:iot:us-east-1:000000000000:package/from-env'); // a signed request keeps its own region
    const unsigned = await fetch(`${endpoint}/packages/unsigned`, { method: 'PUT', body: '{}' });
    assert.equal(((await unsigned.json()) as Record<string, string>).packageArn, 'arn:aws:iot:eu-west-1:000000000000:package/unsigned');
    assert.deepEqual(await stop(fromEnv, 'SIGTERM'), { code: 0, signal: null });

    const flagWins = run(['serve', '--port', '0', '--host', '127.0.0.1'], { ...env, FLOTILLA_PORT: 'not-a-port', FLOTILLA_HOST: '0.0.0.0' });
    await health(await ready(flagWins));
    assert.deepEqual(await stop(flagWins, 'SIGTERM'), { code: 0, signal: null });
  });

  test('FLOTILLA_ALLOW_RESET is read by its value: "false" keeps the reset endpoint shut', TEST, async () => {
    const resetStatus = async (value: string) => {
      const child = run(serveArgs(await dataDir(), '--auth', 'sigv4', '--credentials', 'AKIDTEST:secret'), { FLOTILLA_ALLOW_RESET: value });
      const status = (await fetch(`${await ready(child)}/_flotilla/reset`, { method: 'POST' })).status;
      assert.deepEqual(await stop(child, 'SIGTERM'), { code: 0, signal: null });
      return status;
    };
    assert.deepEqual(await Promise.all(['false', '0', 'true', '1'].map(resetStatus)), [403, 403, 200, 200]);
  });

  test('refuses to listen on a non-loopback address without --auth, and says why', TEST, async () => {
    const data = await dataDir();
    const [flag, env] = await Promise.all([
      refusal(serveArgs(data, '--host', '0.0.0.0')),
      refusal(['serve', '--port', '0', '--data-dir', data.dir], { FLOTILLA_HOST: '0.0.0.0' }),
    ]);
    assert.match(flag, /Refusing to listen on 0\.0\.0\.0 without authentication/);
    assert.match(env, /Refusing to listen on 0\.0\.0\.0 .*--auth sigv4/);
  });

  test('refuses --auth sigv4 without credentials, and malformed credentials', TEST, async () => {
    const data = await dataDir();
    const [none, malformed] = await Promise.all([
      refusal(serveArgs(data, '--auth', 'sigv4')),
      refusal(serveArgs(data, '--auth', 'sigv4', '--credentials', 'no-colon')),
    ]);
    assert.match(none, /--auth sigv4 needs at least one key/);
    assert.match(malformed, /ACCESS_KEY_ID:SECRET/);
  });

  test('refuses bad ports, auth modes, accounts, databases, external brokers and non-HTTP blob stores', TEST, async () => {
    const data = await dataDir();
    const cases: [string[], RegExp][] = [
      [['serve', '--port', 'abc', '--data-dir', data.dir], /not a port number: abc/],
      [['serve', '--port', '70000', '--data-dir', data.dir], /--port must be a port number/],
      [serveArgs(data, '--auth', 'maybe'), /maybe/],
      [serveArgs(data, '--account', '123'), /--account must be 12 digits/],
      [['serve', '--port', '0', '--database', 'mysql://x'], /--database must be sqlite:<file> or postgres/],
      [serveArgs(data, '--broker', 'ftp://broker:1883'), /--broker must be embedded or the mqtt\(s\):\/\/ URL .*ftp:\/\/broker:1883/],
      [serveArgs(data, '--mqtt-port', 'none'), /not a port number: none/],
      [serveArgs(data, '--blob', 'ftp://s3:9000'), /--blob .*ftp:\/\/s3:9000/],
    ];
    const stderrs = await Promise.all(cases.map(([args]) => refusal(args)));
    stderrs.forEach((stderr, i) => {
      assert.match(stderr, cases[i][1], cases[i][0].join(' '));
    });
  });
});

describe('durability', () => {
  const ROLE = 'arn:aws:iam::000000000000:role/flotilla-jobs';
  const TOKEN = 'c0ffee00-0000-4000-8000-000000000001';

  test('every acknowledged write survives a SIGKILL', TEST, async () => {
    const data = await dataDir();
    const first = await start(data);
    const iot = iotAt(first.endpoint);
    const pkg = await iot.send(new CreatePackageCommand({ packageName: 'firmware', description: 'device firmware', tags: { team: 'edge' } }));
    const v1 = await iot.send(
      new CreatePackageVersionCommand({ packageName: 'firmware', versionName: '1.0.0', attributes: { os: 'linux' }, description: 'first' }),
    );
    await iot.send(new CreatePackageVersionCommand({ packageName: 'firmware', versionName: '2.0.0-rc1' }));
    await iot.send(new UpdatePackageVersionCommand({ packageName: 'firmware', versionName: '1.0.0', action: 'PUBLISH' }));
    await iot.send(new UpdatePackageCommand({ packageName: 'firmware', defaultVersionName: '1.0.0' }));
    await iot.send(new TagResourceCommand({ resourceArn: v1.packageVersionArn!, tags: [{ Key: 'stage', Value: 'prod' }] }));
    await iot.send(new UpdatePackageConfigurationCommand({ versionUpdateByJobsConfig: { enabled: true, roleArn: ROLE } }));
    const idem = await iot.send(new CreatePackageCommand({ packageName: 'idempotent', clientToken: TOKEN }));
    assert.deepEqual(await stop(first.child, 'SIGKILL'), { code: null, signal: 'SIGKILL' });

    const second = await start(data);
    const again = iotAt(second.endpoint);
    const got = await again.send(new GetPackageCommand({ packageName: 'firmware' }));
    assert.equal(got.packageArn, pkg.packageArn);
    assert.equal(got.description, 'device firmware');
    assert.equal(got.defaultVersionName, '1.0.0');

    const published = await again.send(new GetPackageVersionCommand({ packageName: 'firmware', versionName: '1.0.0' }));
    assert.equal(published.status, 'PUBLISHED');
    assert.deepEqual(published.attributes, { os: 'linux' });
    assert.equal(published.description, 'first');
    const versions = await again.send(new ListPackageVersionsCommand({ packageName: 'firmware' }));
    assert.deepEqual(
      versions.packageVersionSummaries?.map((v) => [v.versionName, v.status]),
      [
        ['1.0.0', 'PUBLISHED'],
        ['2.0.0-rc1', 'DRAFT'],
      ],
    );

    assert.deepEqual((await again.send(new ListTagsForResourceCommand({ resourceArn: pkg.packageArn }))).tags, [{ Key: 'team', Value: 'edge' }]);
    assert.deepEqual((await again.send(new ListTagsForResourceCommand({ resourceArn: v1.packageVersionArn }))).tags, [{ Key: 'stage', Value: 'prod' }]);
    assert.deepEqual((await again.send(new GetPackageConfigurationCommand({}))).versionUpdateByJobsConfig, { enabled: true, roleArn: ROLE });

    // The client token was recorded with its response: a retry after the crash replays it instead of conflicting.
    const replay = await again.send(new CreatePackageCommand({ packageName: 'idempotent', clientToken: TOKEN }));
    assert.equal(replay.packageArn, idem.packageArn);

    assert.deepEqual(await stop(second.child, 'SIGTERM'), { code: 0, signal: null });
    assertJsonLogs(first.child);
    assertJsonLogs(second.child);
  });
});
