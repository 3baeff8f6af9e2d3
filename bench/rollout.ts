// The rollout benchmark: a SNAPSHOT job over a large thing group, run to COMPLETED by devices of `flotilla simulate` in
// another process over real MQTT. Prints time from CreateJob to COMPLETED, executions/s, notifications/s (one
// notify-next per execution at least) and the server's peak RSS; then the accuracy of a `maximumPerMinute` job
// (released per minute against asked), rehearsed with --time-scale 10 so a plan minute lasts 6 s.
//
// Knobs (environment): BENCH_ROLLOUT_DEVICES (default 100000), BENCH_ROLLOUT_CONNECTIONS (MQTT connections the
// simulated devices share, default 200), BENCH_RATE_THINGS (default 3000), BENCH_RATE_PER_MINUTE (default 1000),
// BENCH_ROLLOUT_ONLY=rate (only the rate accuracy), BENCH_CPU_PROF=<dir> (a V8 CPU profile of the server there).
// The things and their group are written straight into the store before the server starts (seeding is not measured).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { CreateJobCommand, DescribeJobCommand, IoTClient, ListJobExecutionsForJobCommand } from '@aws-sdk/client-iot';
import { thingArn, thingGroupArn } from '../src/domain/arn.ts';
import { Store } from '../src/store/store.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const num = (name: string, fallback: number) => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
};
const DEVICES = num('BENCH_ROLLOUT_DEVICES', 100_000);
const CONNECTIONS = num('BENCH_ROLLOUT_CONNECTIONS', 200);
const RATE_THINGS = num('BENCH_RATE_THINGS', 3000);
const ONLY_RATE = process.env.BENCH_ROLLOUT_ONLY === 'rate';
const RATE_PER_MINUTE = num('BENCH_RATE_PER_MINUTE', 1000);
const SCOPE = { account: '000000000000', region: 'us-east-1' };
const BIN = new URL('../bin/flotilla.js', import.meta.url).pathname;
const children: ChildProcess[] = [];

/** Writes `count` things named `${prefix}N` and a group holding them, in large transactions. */
async function seed(database: string, group: string, prefix: string, count: number): Promise<void> {
  const store = await Store.open(database);
  const now = Date.now();
  const width = String(Math.max(count - 1, 0)).length;
  try {
    await store.transaction(async (tx) => {
      await tx
        .insertInto('thing_groups')
        .values({
          ...SCOPE,
          name: group,
          arn: thingGroupArn(SCOPE, group),
          group_id: `g-${group}`,
          parent_name: null,
          description: null,
          attributes: '{}',
          version: 1,
          created_at: now,
          updated_at: now,
        })
        .execute();
    });
    for (let i = 0; i < count; i += 5000) {
      const names = Array.from({ length: Math.min(5000, count - i) }, (_, k) => `${prefix}${String(i + k).padStart(width, '0')}`);
      await store.transaction(async (tx) => {
        for (let j = 0; j < names.length; j += 500) {
          const slice = names.slice(j, j + 500);
          await tx
            .insertInto('things')
            .values(
              slice.map((name) => ({
                ...SCOPE,
                name,
                arn: thingArn(SCOPE, name),
                thing_id: `t-${name}`,
                thing_type_name: null,
                attributes: '{}',
                version: 1,
                created_at: now,
                updated_at: now,
              })),
            )
            .execute();
          await tx
            .insertInto('thing_group_members')
            .values(slice.map((thing_name) => ({ ...SCOPE, group_name: group, thing_name, added_at: now })))
            .execute();
        }
      });
    }
  } finally {
    await store.close();
  }
}

/** Starts a process and resolves with the first stdout (or stderr) line `match` accepts. */
function startProcess(
  args: string[],
  match: (line: string) => string | undefined,
  timeoutMs = 120_000,
): Promise<{ child: ChildProcess; value: string; done: Promise<string> }> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  const done = new Promise<string>((resolve) => child.on('exit', () => resolve(output)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line from ${args.join(' ')} within ${timeoutMs} ms`)), timeoutMs);
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => {
        output += `${line}\n`;
        const value = match(line);
        if (value !== undefined) {
          clearTimeout(timer);
          resolve({ child, value, done });
        }
      });
    }
    child.on('exit', (code) => reject(new Error(`${args.join(' ')} exited (${code}) before it was ready:\n${output}`)));
  });
}

function peakRssMiB(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return kb / 1024;
  } catch {
    return Number.NaN;
  }
}

async function startServer(dataDir: string, extra: string[] = []) {
  const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const server = await startProcess(
    [...profile, BIN, 'serve', '--port', '0', '--mqtt-port', '0', '--data-dir', dataDir, '--log-level', 'warn', ...extra],
    (line) => (line.startsWith('flotilla ready ') ? line : undefined),
  );
  const api = /api=(\S+)/.exec(server.value)![1]!;
  const mqtt = /mqtt=(\S+)/.exec(server.value)![1]!;
  const iot = new IoTClient({ endpoint: api, region: SCOPE.region, credentials: { accessKeyId: SCOPE.account, secretAccessKey: 'any' }, maxAttempts: 3 });
  return { ...server, api, mqtt, iot };
}

async function waitForJob(iot: IoTClient, jobId: string, until: (status: string) => boolean, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { job } = await iot.send(new DescribeJobCommand({ jobId }));
    if (until(job!.status!)) return job!;
    if (Date.now() > deadline) throw new Error(`job ${jobId} still ${job!.status} after ${timeoutMs} ms: ${JSON.stringify(job!.jobProcessDetails)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function benchSnapshot(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'flotilla-bench-rollout-'));
  try {
    const database = `sqlite:${join(dataDir, 'flotilla.db')}`;
    const seeding = Date.now();
    await seed(database, 'fleet', 'dev-', DEVICES);
    console.log(`rollout: seeded ${DEVICES} things in one group in ${((Date.now() - seeding) / 1000).toFixed(1)} s (not measured)`);
    const server = await startServer(dataDir);
    const sim = await startProcess(
      [
        BIN,
        'simulate',
        '--mqtt',
        server.mqtt,
        '--devices',
        String(DEVICES),
        '--prefix',
        'dev-',
        '--connections',
        String(CONNECTIONS),
        '--work-ms',
        '0',
        '--progress-steps',
        '0',
        '--no-download',
        '--no-report-packages',
        '--exit-when-idle',
        '600',
      ],
      (line) => (line.includes('devices connected') ? line : undefined),
      300_000,
    );
    const started = Date.now();
    await server.iot.send(
      new CreateJobCommand({
        jobId: 'bench-snapshot',
        targets: [thingGroupArn(SCOPE, 'fleet')],
        document: JSON.stringify({ operation: 'update', version: '2.0.0' }),
      }),
    );
    const job = await waitForJob(server.iot, 'bench-snapshot', (s) => s === 'COMPLETED' || s === 'CANCELED', 30 * 60_000);
    const seconds = (Date.now() - started) / 1000;
    const succeeded = job.jobProcessDetails?.numberOfSucceededThings ?? 0;
    console.log(`rollout: ${DEVICES} things, SNAPSHOT job, no rate limit, devices over ${CONNECTIONS} MQTT connections`);
    console.log(`  CreateJob → ${job.status}: ${seconds.toFixed(1)} s (target ≤ 60 s); succeeded ${succeeded}`);
    console.log(
      `  executions/s: ${(succeeded / seconds).toFixed(0)}; notifications/s (notify-next, ≥ 1 per execution): ${(succeeded / seconds).toFixed(0)} (AWS's own ceiling: 1,000 executions per minute)`,
    );
    console.log(
      `  server peak RSS: ${peakRssMiB(server.child.pid!).toFixed(0)} MiB (target ≤ 1536 MiB); simulator peak RSS ${peakRssMiB(sim.child.pid!).toFixed(0)} MiB`,
    );
    sim.child.kill('SIGTERM');
    await sim.done;
    server.iot.destroy();
    server.child.kill('SIGTERM');
    await server.done;
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function benchRateAccuracy(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'flotilla-bench-rate-'));
  const scale = 10; // a plan minute lasts 6 s: queuedAt (whole seconds) still places each release in its minute
  try {
    await seed(`sqlite:${join(dataDir, 'flotilla.db')}`, 'rated', 'r-', RATE_THINGS);
    const server = await startServer(dataDir, ['--time-scale', String(scale)]);
    const jobId = 'bench-rate';
    await server.iot.send(
      new CreateJobCommand({
        jobId,
        targets: [thingGroupArn(SCOPE, 'rated')],
        document: '{"operation":"noop"}',
        jobExecutionsRolloutConfig: { maximumPerMinute: RATE_PER_MINUTE },
      }),
    );
    // Devices are not needed: executions are released (created QUEUED) at the rate whether or not devices take them.
    const expectedMs = ((RATE_THINGS / RATE_PER_MINUTE) * 60_000) / scale;
    await waitForJob(server.iot, jobId, () => true, 1000);
    const queuedAt: number[] = [];
    const deadline = Date.now() + expectedMs * 3 + 30_000;
    while (queuedAt.length < RATE_THINGS && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 2000));
      queuedAt.length = 0;
      let nextToken: string | undefined;
      do {
        const page = await server.iot.send(new ListJobExecutionsForJobCommand({ jobId, maxResults: 250, nextToken }));
        for (const e of page.executionSummaries ?? []) queuedAt.push(e.jobExecutionSummary!.queuedAt!.getTime());
        nextToken = page.nextToken;
      } while (nextToken);
    }
    // Releases per plan minute, counted from the first release.
    const first = Math.min(...queuedAt);
    const perMinute: number[] = [];
    for (const at of queuedAt) {
      const minute = Math.floor(((at - first) * scale) / 60_000);
      perMinute[minute] = (perMinute[minute] ?? 0) + 1;
    }
    const counts = Array.from(perMinute, (n) => n ?? 0);
    const full = counts.slice(0, Math.floor(RATE_THINGS / RATE_PER_MINUTE));
    const worst = Math.max(...full);
    const mean = full.reduce((a, b) => a + b, 0) / Math.max(1, full.length);
    console.log(`rollout rate: maximumPerMinute ${RATE_PER_MINUTE} over ${RATE_THINGS} things, --time-scale ${scale}`);
    console.log(
      `  released per plan minute: ${counts.join(', ')}; full minutes mean ${mean.toFixed(0)} (${((100 * mean) / RATE_PER_MINUTE).toFixed(1)}% of asked), most ${worst}`,
    );
    server.iot.destroy();
    server.child.kill('SIGTERM');
    await server.done;
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

try {
  if (!ONLY_RATE) await benchSnapshot();
  await benchRateAccuracy();
} finally {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
}
