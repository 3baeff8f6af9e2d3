// Device round trips of the jobs protocol over MQTT: DEVICES connected mqtt.js devices (MQTT 3.1.1, each subscribed to
// its thing's jobs topics, so notify / notify-next traffic is part of the load) each run start-next → update SUCCEEDED
// until nothing is pending, over JOBS jobs that target all of them. A round trip is timed from the start-next publish
// to the update's /accepted. Flotilla runs in a child process on SQLite; this process is the load generator.
//
// Knobs (environment): BENCH_DEVICES (1000), BENCH_DEVICE_JOBS (jobs, i.e. round trips per device, 2).
import { AddThingToThingGroupCommand, CreateJobCommand, CreateThingCommand, CreateThingGroupCommand, IoTClient } from '@aws-sdk/client-iot';
import { createConnection } from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';
import { BENCH_KEY, cpuSeconds, peakRssMiB, startFlotillaChild } from './servers.ts';

const num = (name: string, fallback: number) => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
};
const DEVICES = num('BENCH_DEVICES', 1000);
const JOBS = num('BENCH_DEVICE_JOBS', 2);
const REPLY_TIMEOUT_MS = 30_000;

/** Runs `work` over `items` with at most `limit` in flight. */
async function pool<T>(items: T[], limit: number, work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

/** One device: its client and a way to await the reply to its own request (matched by clientToken). */
class Device {
  private readonly waiting = new Map<string, (reply: { accepted: boolean; body: any }) => void>();
  private seq = 0;

  private constructor(
    readonly thing: string,
    readonly client: MqttClient,
  ) {
    client.on('message', (topic, payload) => {
      if (!topic.endsWith('/accepted') && !topic.endsWith('/rejected')) return;
      const body = JSON.parse(payload.toString());
      const resolve = this.waiting.get(body.clientToken);
      if (!resolve) return;
      this.waiting.delete(body.clientToken);
      resolve({ accepted: topic.endsWith('/accepted'), body });
    });
  }

  static async connect(url: string, thing: string): Promise<Device> {
    // Like the device SDKs, without Nagle: mqtt.js has no option for it, so it gets its socket from here.
    const { hostname, port } = new URL(url);
    const client = new mqtt.MqttClient(() => createConnection({ host: hostname, port: Number(port), noDelay: true }), {
      protocolVersion: 4,
      clientId: `bench-${thing}`,
      reconnectPeriod: 0,
      connectTimeout: 30_000,
      keepalive: 300,
    });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    await client.subscribeAsync(`$aws/things/${thing}/jobs/#`, { qos: 1 });
    return new Device(thing, client);
  }

  async request(suffix: string, body: object): Promise<{ accepted: boolean; body: any }> {
    const clientToken = `${this.thing}-${++this.seq}`;
    const reply = new Promise<{ accepted: boolean; body: any }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.thing}: no reply to ${suffix} within ${REPLY_TIMEOUT_MS} ms`)), REPLY_TIMEOUT_MS);
      this.waiting.set(clientToken, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
    });
    await this.client.publishAsync(`$aws/things/${this.thing}/jobs/${suffix}`, JSON.stringify({ ...body, clientToken }), { qos: 1 });
    return reply;
  }
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;

export async function benchDeviceJobs(): Promise<void> {
  const flotilla = await startFlotillaChild();
  const iot = new IoTClient({ endpoint: flotilla.url, region: 'us-east-1', credentials: BENCH_KEY, maxAttempts: 1 });
  const devices: Device[] = [];
  try {
    if (!flotilla.mqttUrl) throw new Error('the Flotilla child printed no mqtt= URL');
    const things = Array.from({ length: DEVICES }, (_, i) => `bench-device-${i}`);
    const group = await iot.send(new CreateThingGroupCommand({ thingGroupName: 'bench-fleet' }));
    await pool(things, 16, async (thingName) => {
      await iot.send(new CreateThingCommand({ thingName }));
      await iot.send(new AddThingToThingGroupCommand({ thingGroupName: 'bench-fleet', thingName }));
    });
    let t = performance.now();
    await pool(things, 50, async (thing) => devices.push(await Device.connect(flotilla.mqttUrl!, thing)));
    const connectMs = performance.now() - t;
    for (let j = 0; j < JOBS; j++) {
      await iot.send(
        new CreateJobCommand({ jobId: `bench-job-${j}`, targets: [group.thingGroupArn!], document: JSON.stringify({ operation: 'bench', n: j }) }),
      );
    }

    const latencies: number[] = [];
    const cpu0 = process.cpuUsage();
    const server0 = cpuSeconds(flotilla.pid);
    t = performance.now();
    await Promise.all(
      devices.map(async (device) => {
        for (;;) {
          const started = performance.now();
          const next = await device.request('start-next', {});
          if (!next.accepted) throw new Error(`start-next rejected: ${JSON.stringify(next.body)}`);
          if (!next.body.execution) return;
          const done = await device.request(`${next.body.execution.jobId}/update`, { status: 'SUCCEEDED', expectedVersion: next.body.execution.versionNumber });
          if (!done.accepted) throw new Error(`update rejected: ${JSON.stringify(done.body)}`);
          latencies.push(performance.now() - started);
        }
      }),
    );
    const elapsedS = (performance.now() - t) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const serverCpu = (cpuSeconds(flotilla.pid) - server0) / elapsedS;
    if (latencies.length !== DEVICES * JOBS) throw new Error(`expected ${DEVICES * JOBS} round trips, measured ${latencies.length}`);
    latencies.sort((a, b) => a - b);
    const f0 = (n: number) => Math.round(n).toLocaleString('en-US');
    console.log(`7. Jobs device protocol over MQTT (${f0(DEVICES)} connected devices, MQTT 3.1.1, SQLite, ${JOBS} jobs each)`);
    console.log(`  connect + subscribe  ${f0(DEVICES)} devices in ${(connectMs / 1000).toFixed(2)} s`);
    console.log(
      `  round trips          ${f0(latencies.length)} (start-next → update SUCCEEDED, 4 messages each) in ${elapsedS.toFixed(2)} s, with notify/notify-next`,
    );
    console.log(`  throughput           ${f0(latencies.length / elapsedS)} round trips/s`);
    console.log(
      `  latency              p50 ${quantile(latencies, 0.5).toFixed(1)} ms   p99 ${quantile(latencies, 0.99).toFixed(1)} ms   max ${latencies.at(-1)!.toFixed(1)} ms`,
    );
    console.log(
      `  server CPU           ${Math.round(serverCpu * 100)} % of a core; load generator ${Math.round(((cpu.user + cpu.system) / 1e6 / elapsedS) * 100)} % of a core`,
    );
    console.log(`  server peak RSS      ${f0(peakRssMiB(flotilla.pid))} MiB`);
  } finally {
    await Promise.all(devices.map((d) => d.client.endAsync(true).catch(() => {})));
    iot.destroy();
    await flotilla.stop();
  }
}

// Run alone: node --import tsx bench/device-jobs.ts
if (import.meta.url === `file://${process.argv[1]}`) await benchDeviceJobs();
