// Simulated devices speaking the AWS IoT Jobs MQTT protocol as a device agent does: listen on notify-next, start the
// next job, report progress in statusDetails, download what the document links to, finish with the outcome the
// configured rates pick (or hang), report installed packages in the `$package` shadow, then take the next job.
// Many devices may share one MQTT connection: a connection publishes and subscribes on each of its things' topics.
import { randomUUID } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { downloadUrls, packageVersions, pickOutcome, type Outcome, type OutcomeRates } from './plan.ts';

export interface FleetOptions {
  mqttUrl: string;
  things: string[];
  /** MQTT connections to spread the things over (at most one per thing). */
  connections: number;
  protocolVersion: 4 | 5;
  rates: OutcomeRates;
  /** How long a device works on a job, in ms (each device draws uniformly in [0.5×, 1.5×]). */
  workMs: number;
  /** Progress reports per job, before the final status. */
  progressSteps: number;
  /** Download the document's URLs. */
  download: boolean;
  /** Report installed packages in the `$package` shadow on success. */
  reportPackages: boolean;
  /** Timeout of one download, ms. */
  downloadTimeoutMs: number;
  random?: () => number;
}

export interface FleetCounts {
  /** Executions devices started. */
  started: number;
  inProgress: number;
  succeeded: number;
  failed: number;
  rejected: number;
  timedOut: number;
  hung: number;
  /** Devices that finished (or hung on) at least one job. */
  devicesDone: number;
  downloads: number;
  downloadedBytes: number;
  downloadErrors: number;
  errors: number;
}

interface Device {
  thing: string;
  client: MqttClient;
  /** `jobId#executionNumber` of the execution it works on, if any. */
  current?: string;
  /** The final status sent for `current`, waiting for its `/update/accepted`. */
  reported?: 'SUCCEEDED' | 'FAILED' | 'REJECTED';
  asked: boolean;
  done: boolean;
}

const jobsTopic = (thing: string, rest: string) => `$aws/things/${thing}/jobs/${rest}`;

export class Fleet {
  readonly counts: FleetCounts = {
    started: 0,
    inProgress: 0,
    succeeded: 0,
    failed: 0,
    rejected: 0,
    timedOut: 0,
    hung: 0,
    devicesDone: 0,
    downloads: 0,
    downloadedBytes: 0,
    downloadErrors: 0,
    errors: 0,
  };
  /** Epoch ms of the last message any device received. */
  lastActivity = Date.now();
  /** Epoch ms of the first job a device started, if any. */
  firstJobAt?: number;
  private readonly clients: MqttClient[] = [];
  private readonly devices = new Map<string, Device>();
  private readonly random: () => number;
  private closed = false;

  constructor(private readonly options: FleetOptions) {
    this.random = options.random ?? Math.random;
  }

  async start(): Promise<void> {
    const { things, mqttUrl, protocolVersion } = this.options;
    const count = Math.max(1, Math.min(this.options.connections, things.length));
    for (let i = 0; i < count; i++) {
      const clientId = count === things.length ? things[i]! : `flotilla-sim-${process.pid}-${i}`;
      const client = await mqtt.connectAsync(mqttUrl, { clientId, protocolVersion, connectTimeout: 10_000, reconnectPeriod: 1000, clean: true });
      client.on('message', (topic, payload) => this.onMessage(topic, payload));
      client.on('error', () => this.counts.errors++);
      this.clients.push(client);
    }
    things.forEach((thing, i) => {
      this.devices.set(thing, { thing, client: this.clients[i % count]!, asked: false, done: false });
    });
    // Subscribe in slices, then ask for work: a device at boot asks for its next job, as an agent does.
    for (let i = 0; i < count; i++) {
      const mine = things.filter((_, j) => j % count === i);
      for (let k = 0; k < mine.length; k += 100) {
        // One filter per thing covers notify-next and every reply: a third of the broker's subscriptions.
        const topics = mine.slice(k, k + 100).map((t) => jobsTopic(t, '#'));
        await this.clients[i]!.subscribeAsync(topics, { qos: 1 });
      }
    }
    for (const device of this.devices.values()) this.askNext(device);
  }

  async stop(): Promise<void> {
    this.closed = true;
    await Promise.all(this.clients.map((c) => c.endAsync(true).catch(() => {})));
  }

  private publish(device: Device, topic: string, body: object): void {
    if (this.closed) return;
    device.client.publish(topic, JSON.stringify(body), { qos: 1 }, (err) => {
      if (err) this.counts.errors++;
    });
  }

  private askNext(device: Device): void {
    if (device.asked) return;
    device.asked = true;
    this.publish(device, jobsTopic(device.thing, 'start-next'), { clientToken: randomUUID().slice(0, 32), statusDetails: { step: 'starting' } });
  }

  private onMessage(topic: string, payload: Buffer): void {
    this.lastActivity = Date.now();
    const match = /^\$aws\/things\/([^/]+)\/jobs\/(.+)$/.exec(topic);
    const device = match && this.devices.get(match[1]!);
    if (!device) return;
    let body: any;
    try {
      body = JSON.parse(payload.toString('utf8'));
    } catch {
      this.counts.errors++;
      return;
    }
    const rest = match[2]!;
    if (rest === 'notify-next') {
      const execution = body.execution;
      if (execution && device.current !== `${execution.jobId}#${execution.executionNumber ?? ''}`) this.askNext(device);
    } else if (rest === 'start-next/accepted') {
      device.asked = false;
      if (body.execution) this.work(device, body.execution);
    } else if (rest === 'start-next/rejected') {
      device.asked = false;
      this.counts.errors++;
    } else if (rest.endsWith('/update/accepted')) {
      // The final status is recorded: count it, then take the next job (never before, so the two cannot cross).
      if (device.reported && device.current?.startsWith(`${rest.slice(0, -'/update/accepted'.length)}#`)) {
        const outcome = device.reported;
        if (outcome === 'SUCCEEDED') this.counts.succeeded++;
        else if (outcome === 'FAILED') this.counts.failed++;
        else this.counts.rejected++;
        this.finish(device);
      }
    } else if (rest.endsWith('/update/rejected')) {
      // The execution was finished for the device (timed out, canceled): drop it and take the next one.
      if (device.current?.startsWith(`${rest.slice(0, -'/update/rejected'.length)}#`)) {
        if (body.code === 'InvalidStateTransition' || body.code === 'TerminalStateReached') this.counts.timedOut++;
        else this.counts.errors++;
        this.finish(device);
      }
    }
  }

  private finish(device: Device): void {
    device.current = undefined;
    device.reported = undefined;
    this.counts.inProgress--;
    if (!device.done) {
      device.done = true;
      this.counts.devicesDone++;
    }
    this.askNext(device);
  }

  private async work(device: Device, execution: { jobId: string; executionNumber?: number; jobDocument?: unknown; status?: string }): Promise<void> {
    const key = `${execution.jobId}#${execution.executionNumber ?? ''}`;
    if (device.current === key) return;
    device.current = key;
    this.counts.started++;
    this.counts.inProgress++;
    this.firstJobAt ??= Date.now();
    const update = (status: string, statusDetails: Record<string, string>) =>
      this.publish(device, jobsTopic(device.thing, `${execution.jobId}/update`), { status, statusDetails, clientToken: randomUUID().slice(0, 32) });
    const outcome: Outcome = pickOutcome(this.options.rates, this.random());
    if (outcome === 'REJECTED') return this.end(device, key, 'REJECTED', update);
    const work = this.options.workMs * (0.5 + this.random());
    const steps = Math.max(0, this.options.progressSteps);
    if (this.options.download) {
      update('IN_PROGRESS', { step: 'downloading' });
      for (const url of downloadUrls(execution.jobDocument)) await this.fetch(url);
    }
    for (let step = 1; step <= steps; step++) {
      await sleep(work / (steps + 1));
      if (this.closed || device.current !== key) return;
      update('IN_PROGRESS', { step: 'installing', progress: `${Math.round((100 * step) / (steps + 1))}%` });
    }
    await sleep(work / (steps + 1));
    if (this.closed || device.current !== key) return;
    if (outcome === 'HANG') {
      this.counts.hung++;
      if (!device.done) {
        device.done = true;
        this.counts.devicesDone++;
      }
      return; // never reports again on this execution: the job's timeout decides
    }
    if (outcome === 'SUCCEEDED' && this.options.reportPackages) {
      const packages = packageVersions(execution.jobDocument);
      const reported = Object.fromEntries(Object.entries(packages).map(([name, version]) => [name, version === null ? null : { version }]));
      if (Object.keys(reported).length) this.publish(device, `$aws/things/${device.thing}/shadow/name/$package/update`, { state: { reported } });
    }
    this.end(device, key, outcome, update);
  }

  private end(
    device: Device,
    key: string,
    outcome: 'SUCCEEDED' | 'FAILED' | 'REJECTED',
    update: (status: string, details: Record<string, string>) => void,
  ): void {
    if (device.current !== key) return;
    device.reported = outcome;
    update(outcome, { step: outcome === 'SUCCEEDED' ? 'done' : 'gave up' });
  }

  private async fetch(url: string): Promise<void> {
    this.counts.downloads++;
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(this.options.downloadTimeoutMs) });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      this.counts.downloadedBytes += (await response.arrayBuffer()).byteLength;
    } catch {
      this.counts.downloadErrors++;
    }
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
