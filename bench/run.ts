// `npm run bench`: Flotilla's start-up time and idle RSS beside `node -e 0`, its read throughput against a bare Fastify, its
// durable write rate against raw better-sqlite3, its peak RSS, the embedded S3 endpoint's MB/s, SBOM validation MB/s,
// device round trips over MQTT and the MQTT broker's RSS per idle connection. Servers run in child
// processes; this process is only the load generator.
//
// Knobs (environment): BENCH_SECONDS (measured seconds per load phase, default 5), BENCH_WARMUP_SECONDS (2),
// BENCH_CONNECTIONS (read connections, 32), BENCH_WRITE_CONNECTIONS (16), BENCH_SQLITE_SECONDS (3),
// BENCH_CPU_PROF=<dir> (write a V8 CPU profile of the Flotilla child there), BENCH_SEED_ROWS (rows of the seeded
// store of the start-up figure, 1000000), BENCH_POSTGRES_URL (a PostgreSQL server to create the write figures'
// fresh databases on, postgres://postgres@127.0.0.1:5432/postgres; skipped when it cannot be reached),
// BENCH_ONLY=<parts> (comma-separated among startup, api, postgres, objects, sbom, devices, mqtt; all by default).
import { randomUUID } from 'node:crypto';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { Sha256 } from '@aws-crypto/sha256-js';
import { CreatePackageCommand, CreatePackageVersionCommand, GetPackageVersionCommand, IoTClient } from '@aws-sdk/client-iot';
import { SignatureV4 } from '@smithy/signature-v4';
import { runLoad, sendOnce, type Engine, type LoadOptions, type LoadRequest, type LoadResult } from './load.ts';
import {
  BENCH_KEY,
  cleanupAll,
  cleanupNow,
  cpuSeconds,
  machineCpu,
  makeTempDir,
  peakRssMiB,
  startBareChild,
  startFlotillaChild,
  type ServerProcess,
} from './servers.ts';
import { benchObjects } from './objects.ts';
import { benchDeviceJobs } from './device-jobs.ts';
import { benchMqttConnections } from './mqtt.ts';
import { benchSbom } from './sbom.ts';
import { benchStartup } from './startup.ts';
import { freshDatabase, POSTGRES_ADMIN_URL, rawPgCreateTransactions } from './postgres.ts';
import { rawCreateTransactions, rawInserts } from './sqlite.ts';

const num = (name: string, fallback: number) => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
};
const SECONDS = num('BENCH_SECONDS', 5);
const WARMUP_SECONDS = num('BENCH_WARMUP_SECONDS', 2);
const CONNECTIONS = num('BENCH_CONNECTIONS', 32);
const WRITE_CONNECTIONS = num('BENCH_WRITE_CONNECTIONS', 16);
const SQLITE_SECONDS = num('BENCH_SQLITE_SECONDS', 3);
const CPU_PROF_DIR = process.env.BENCH_CPU_PROF;
const CROSS_CHECK_SECONDS = 3;
const CORES = availableParallelism();
const ONLY = process.env.BENCH_ONLY?.split(',').map((p) => p.trim());
const want = (part: 'startup' | 'api' | 'postgres' | 'objects' | 'sbom' | 'devices' | 'mqtt') => !ONLY || ONLY.includes(part);

// The SDK's notice that future versions need Node 22 would interleave with the figures.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const REGION = 'us-east-1';
const PACKAGE = 'bench';
const VERSION = '1.0.0';

const signer = new SignatureV4({ service: 'iot', region: REGION, credentials: BENCH_KEY, sha256: Sha256 });

/** A SigV4-signed request ready for the load generator (headers include host, x-amz-date, authorization). */
async function signed(url: string, method: string, path: string, query: Record<string, string> = {}, body?: string): Promise<LoadRequest> {
  const target = new URL(url);
  const headers: Record<string, string> = { host: target.host };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const req = await signer.sign({ method, protocol: 'http:', hostname: target.hostname, port: Number(target.port), path, query, headers, body });
  const qs = new URLSearchParams(query).toString();
  return { method, path: qs ? `${path}?${qs}` : path, headers: req.headers, body };
}

interface Phase extends LoadResult {
  engine: Engine;
  /** CPU the server process used during the measured window, as a share of one core. */
  serverCpu: number;
  /** CPU used by everything else on the machine (other processes, kernel) during the window, in cores. */
  otherCpu: number;
  /** Server CPU per successful request, in µs. */
  serverCpuUsPerReq: number;
}

type PhaseOptions = Omit<LoadOptions, 'durationMs'> & { seconds?: number; warmupSeconds?: number };

/** Warm-up (discarded), then the measured window; fails when any request did not succeed. */
async function phase(name: string, server: ServerProcess, options: PhaseOptions): Promise<Phase> {
  const { seconds = SECONDS, warmupSeconds = WARMUP_SECONDS, ...load } = options;
  const warm = await runLoad({ ...load, durationMs: warmupSeconds * 1000 });
  if (warm.errors) throw new Error(`${name}: ${warm.errors} failed requests during warm-up, first: ${warm.firstError}\n${server.stderr()}`);
  const cpu0 = cpuSeconds(server.pid);
  const machine0 = machineCpu();
  const result = await runLoad({ ...load, durationMs: seconds * 1000 });
  const serverCpuS = cpuSeconds(server.pid) - cpu0;
  const machine1 = machineCpu();
  if (result.errors) throw new Error(`${name}: ${result.errors} failed requests, first: ${result.firstError}\n${server.stderr()}`);
  const serverCpu = serverCpuS / (result.elapsedMs / 1000);
  const machineBusy = ((machine1.busy - machine0.busy) / (machine1.total - machine0.total)) * CORES;
  return {
    ...result,
    engine: load.engine ?? 'http',
    serverCpu,
    otherCpu: Math.max(0, machineBusy - serverCpu - result.clientCpu),
    serverCpuUsPerReq: (serverCpuS / result.count) * 1e6,
  };
}

const f0 = (n: number) => Math.round(n).toLocaleString('en-US');
const f2 = (n: number) => n.toFixed(2);
const pct = (n: number) => `${Math.round(n * 100)} %`;

const SATURATED = 0.85;

function printPhase(label: string, p: Phase, connections: number): void {
  console.log(`${label}`);
  console.log(
    `  requests ok          ${f0(p.count)} in ${f2(p.elapsedMs / 1000)} s over ${connections} keep-alive connections (${p.engine} client), ${p.errors} errors`,
  );
  console.log(`  throughput           ${f0(p.rps)} req/s`);
  console.log(`  latency              p50 ${f2(p.p50Ms)} ms   p99 ${f2(p.p99Ms)} ms   max ${f2(p.maxMs)} ms`);
  console.log(`  server CPU           ${pct(p.serverCpu)} of a core, ${f0(p.serverCpuUsPerReq)} µs per request`);
  console.log(`  load generator CPU   ${pct(p.clientCpu)} of a core${p.clientCpu >= SATURATED ? '  <- saturated: the server could go faster than this' : ''}`);
  console.log(`  rest of the machine  ${pct(p.otherCpu)} of a core${p.otherCpu >= 0.25 ? '  <- other processes competed for the CPU: figures are noisy' : ''}`);
}

const verdict = (met: boolean) => (met ? 'MET' : 'MISSED');

function ratioLine(label: string, flotilla: Phase, bare: Phase): void {
  const ratio = flotilla.rps / bare.rps;
  const note = bare.clientCpu >= SATURATED ? ' (bare run was client-bound, so this ratio flatters Flotilla)' : '';
  console.log(`  ${label.padEnd(20)} ${f2(ratio)}x throughput (target >= 0.50x: ${ratio >= 0.5 ? 'MET' : 'MISSED'})${note}`);
}

/** Signed CreatePackageVersion requests against `url`, each with its own version name and clientToken. */
function createRequests(url: string): () => Promise<LoadRequest> {
  let created = 0;
  const runId = randomUUID().slice(0, 8);
  const body = JSON.stringify({ description: 'bench version', attributes: { kind: 'bench' } });
  return () => signed(url, 'PUT', `/packages/${PACKAGE}/versions/w-${runId}-${created++}`, { clientToken: randomUUID() }, body);
}

/** 3b. The same durable creates through Flotilla on PostgreSQL, against the same statements through `pg` alone. */
async function benchPostgres(): Promise<void> {
  let flotillaDb: Awaited<ReturnType<typeof freshDatabase>>;
  try {
    flotillaDb = await freshDatabase('flotilla_bench');
  } catch (err) {
    console.log(`3b. PostgreSQL: skipped, ${POSTGRES_ADMIN_URL.replace(/\/\/[^@]*@/, '//')} could not be reached (${(err as Error).message})`);
    console.log();
    return;
  }
  const rawDb = await freshDatabase('flotilla_bench_raw');
  try {
    const server = await startFlotillaChild([], flotillaDb.url);
    const iot = new IoTClient({ endpoint: server.url, region: REGION, credentials: BENCH_KEY, maxAttempts: 1 });
    let writes: Phase;
    try {
      await iot.send(new CreatePackageCommand({ packageName: PACKAGE }));
      writes = await phase('CreatePackageVersion (PostgreSQL)', server, { url: server.url, connections: WRITE_CONNECTIONS, next: createRequests(server.url) });
    } finally {
      iot.destroy();
      await server.stop();
    }
    printPhase('3b. Flotilla CreatePackageVersion (PostgreSQL, synchronous_commit on; one transaction per request, pool of 10)', writes, WRITE_CONNECTIONS);
    const raw = await rawPgCreateTransactions(rawDb.url, SQLITE_SECONDS * 1000, WRITE_CONNECTIONS);
    console.log(
      `  raw pg               ${f0(raw.perSecond)} tx/s (anchor: the same statements in one transaction, ${WRITE_CONNECTIONS} callers, pool of 10, ${f2(raw.meanMs)} ms each)`,
    );
    console.log(`  durable writes       Flotilla ${f0(writes.rps)} creates/s vs pg alone ${f0(raw.perSecond)} tx/s = ${f2(writes.rps / raw.perSecond)}x`);
    console.log();
  } finally {
    await flotillaDb.drop();
    await rawDb.drop();
  }
}

async function main(): Promise<void> {
  console.log('Flotilla benchmark');
  console.log(`  node ${process.version}, ${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown CPU'}), ${process.platform}/${process.arch}`);
  console.log(
    `  load average at start ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  console.log(`  ${SECONDS} s measured after ${WARMUP_SECONDS} s warm-up per phase; reads over ${CONNECTIONS} connections, writes over ${WRITE_CONNECTIONS}`);
  console.log();

  if (want('startup')) await benchStartup();
  if (!want('api')) return;
  const flotilla = await startFlotillaChild(CPU_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF_DIR}`] : []);
  const iot = new IoTClient({ endpoint: flotilla.url, region: REGION, credentials: BENCH_KEY, maxAttempts: 1 });
  try {
    // ---- setup through the real SDK
    await iot.send(new CreatePackageCommand({ packageName: PACKAGE }));
    await iot.send(
      new CreatePackageVersionCommand({ packageName: PACKAGE, versionName: VERSION, description: 'bench version', attributes: { kind: 'bench' } }),
    );
    const got = await iot.send(new GetPackageVersionCommand({ packageName: PACKAGE, versionName: VERSION }));
    if (got.versionName !== VERSION) throw new Error('setup: GetPackageVersion did not read the version back');

    // ---- signatures are really verified: a tampered one is refused
    const getPath = `/packages/${PACKAGE}/versions/${encodeURIComponent(VERSION)}`;
    const good = await signed(flotilla.url, 'GET', getPath);
    const tampered = {
      ...good,
      headers: { ...good.headers, authorization: good.headers.authorization.replace(/Signature=(.)/, (_m, c) => `Signature=${c === '0' ? '1' : '0'}`) },
    };
    const accepted = await sendOnce(flotilla.url, good);
    if (accepted.status !== 200) throw new Error(`a signed GetPackageVersion failed: HTTP ${accepted.status} ${accepted.body}`);
    const refused = await sendOnce(flotilla.url, tampered);
    if (refused.status !== 403 || !refused.body.includes('signature'))
      throw new Error(`a tampered signature was not refused: HTTP ${refused.status} ${refused.body}`);

    // ---- 1. GetPackageVersion reads. A pool of requests signed up front (valid for 15 minutes) keeps
    //         signing out of the load generator's loop; the server still verifies every one of them.
    const pool = await Promise.all(Array.from({ length: CONNECTIONS }, () => signed(flotilla.url, 'GET', getPath)));
    const reads = await phase('GetPackageVersion', flotilla, { url: flotilla.url, connections: CONNECTIONS, next: (n) => pool[n % pool.length] });
    printPhase('1. Flotilla GetPackageVersion (SQLite, --auth sigv4, SigV4-signed keep-alive requests)', reads, CONNECTIONS);
    console.log();

    // ---- 2. bare Fastify, same load generator and settings; then both again with the lean raw-socket client,
    //         because node:http on the client side tops out below what bare Fastify can serve.
    const bare = await startBareChild();
    const bareReq: LoadRequest = { method: 'GET', path: '/x', headers: {} };
    const cross = { connections: CONNECTIONS, engine: 'net' as const, seconds: CROSS_CHECK_SECONDS, warmupSeconds: 1 };
    let baseline: Phase;
    let bareNet: Phase;
    let bareRss: number;
    try {
      baseline = await phase('bare Fastify', bare, { url: bare.url, connections: CONNECTIONS, next: () => bareReq });
      bareNet = await phase('bare Fastify (net client)', bare, { url: bare.url, next: () => bareReq, ...cross });
      bareRss = peakRssMiB(bare.pid);
    } finally {
      await bare.stop();
    }
    const readsNet = await phase('GetPackageVersion (net client)', flotilla, { url: flotilla.url, next: (n) => pool[n % pool.length], ...cross });
    printPhase('2. Bare Fastify GET /x (constant JSON)', baseline, CONNECTIONS);
    console.log();
    console.log('  Flotilla / bare');
    ratioLine('node:http client', reads, baseline);
    const cpuRatio = reads.serverCpuUsPerReq / baseline.serverCpuUsPerReq;
    console.log(
      `  ${'latency'.padEnd(20)} p50 ${f2(reads.p50Ms)} vs ${f2(baseline.p50Ms)} ms (${f2(reads.p50Ms / baseline.p50Ms)}x), p99 ${f2(reads.p99Ms)} vs ${f2(baseline.p99Ms)} ms (${f2(reads.p99Ms / baseline.p99Ms)}x)`,
    );
    console.log(
      `  ${'server CPU/request'.padEnd(20)} ${f2(cpuRatio)}x (${f0(reads.serverCpuUsPerReq)} vs ${f0(baseline.serverCpuUsPerReq)} µs; independent of the client; target <= 2.00x: ${verdict(cpuRatio <= 2)})`,
    );
    console.log(
      `  cross-check, raw-socket client (${CROSS_CHECK_SECONDS} s each): flotilla ${f0(readsNet.rps)} req/s (server ${pct(readsNet.serverCpu)}, client ${pct(readsNet.clientCpu)}), ` +
        `bare ${f0(bareNet.rps)} req/s (server ${pct(bareNet.serverCpu)}, client ${pct(bareNet.clientCpu)})`,
    );
    ratioLine('raw-socket client', readsNet, bareNet);
    console.log();

    // ---- 3. durable CreatePackageVersion, signed per request (each with a clientToken, as the SDK sends)
    const writes = await phase('CreatePackageVersion', flotilla, { url: flotilla.url, connections: WRITE_CONNECTIONS, next: createRequests(flotilla.url) });
    printPhase(
      '3. Flotilla CreatePackageVersion (SQLite WAL, group commit: each answer after an fsync of its commit; one transaction per request)',
      writes,
      WRITE_CONNECTIONS,
    );

    const sqliteDir = makeTempDir('flotilla-bench-sqlite-');
    const inserts = rawInserts(sqliteDir, SQLITE_SECONDS * 1000);
    const transactions = rawCreateTransactions(sqliteDir, SQLITE_SECONDS * 1000);
    const writeRatio = writes.rps / transactions.perSecond;
    console.log(
      `  raw better-sqlite3   ${f0(inserts.perSecond)} inserts/s (one autocommit INSERT per row, WAL, synchronous=FULL, ${f2(inserts.meanMs)} ms each)`,
    );
    console.log(
      `  raw better-sqlite3   ${f0(transactions.perSecond)} tx/s (anchor: Flotilla's create statements in one transaction, synchronous=FULL, ${f2(transactions.meanMs)} ms each)`,
    );
    console.log(
      `  durable writes       Flotilla ${f0(writes.rps)} creates/s vs raw ${f0(transactions.perSecond)} tx/s = ${f2(writeRatio)}x (target >= 0.50x: ${verdict(writeRatio >= 0.5)}); ${f2(writes.rps / inserts.perSecond)}x of raw inserts`,
    );
    console.log();

    if (want('postgres')) await benchPostgres();

    // ---- 4. memory
    console.log('4. Peak RSS (VmHWM)');
    console.log(`  flotilla server      ${f0(peakRssMiB(flotilla.pid))} MiB (after all phases)`);
    console.log(`  bare fastify         ${f0(bareRss)} MiB`);
    console.log();
    if (want('objects')) await benchObjects(flotilla.url);
  } finally {
    iot.destroy();
    await flotilla.stop();
    if (CPU_PROF_DIR) console.log(`\nCPU profile of the Flotilla child written to ${CPU_PROF_DIR}`);
  }
}

process.on('exit', cleanupNow);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    cleanupNow();
    process.exit(130);
  });
}

try {
  await main();
  if (want('sbom')) await benchSbom();
  if (want('devices')) {
    console.log();
    await benchDeviceJobs();
  }
  if (want('mqtt')) {
    console.log();
    await benchMqttConnections();
  }
} catch (err) {
  console.error(`\nbench failed: ${(err as Error)?.stack ?? err}`);
  process.exitCode = 1;
} finally {
  await cleanupAll();
}
