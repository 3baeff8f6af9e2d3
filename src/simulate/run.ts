// `flotilla simulate`: N simulated devices over real MQTT connections, a live progress view and a summary.
import { AddThingToThingGroupCommand, CreateThingCommand, CreateThingGroupCommand, IoTClient } from '@aws-sdk/client-iot';
import { Fleet } from './fleet.ts';
import { checkRates, thingNames } from './plan.ts';
import { createProgress, summary } from './progress.ts';

export interface SimulateOptions {
  mqtt: string;
  endpoint: string;
  devices: number;
  prefix: string;
  connections?: number;
  mqttVersion: number;
  failRate: number;
  rejectRate: number;
  hangRate: number;
  workMs: number;
  progressSteps: number;
  download: boolean;
  reportPackages: boolean;
  createThings?: boolean;
  thingGroup?: string;
  exitWhenIdle: number;
  region: string;
}

export class SimulateError extends Error {
  override name = 'SimulateError';
}

/** Creates the things (and the group holding them) through the IoT API; existing ones are kept. */
async function createThings(options: SimulateOptions, things: string[]): Promise<void> {
  // The SDK's notice about future Node versions would break into the progress view.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const iot = new IoTClient({
    endpoint: options.endpoint,
    region: options.region,
    credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? '000000000000', secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'any' },
    requestHandler: { requestTimeout: 10_000, connectionTimeout: 5_000 },
  });
  const ignoreExisting = (err: { name?: string }) => {
    if (err.name !== 'ResourceAlreadyExistsException') throw err;
  };
  try {
    if (options.thingGroup) await iot.send(new CreateThingGroupCommand({ thingGroupName: options.thingGroup })).catch(ignoreExisting);
    let next = 0;
    const worker = async () => {
      while (next < things.length) {
        const thingName = things[next++]!;
        await iot.send(new CreateThingCommand({ thingName })).catch(ignoreExisting);
        if (options.thingGroup) await iot.send(new AddThingToThingGroupCommand({ thingGroupName: options.thingGroup, thingName }));
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
  } finally {
    iot.destroy();
  }
}

export async function simulate(options: SimulateOptions): Promise<void> {
  const rates = { fail: options.failRate, reject: options.rejectRate, hang: options.hangRate };
  const problem = checkRates(rates);
  if (problem) throw new SimulateError(problem);
  if (!(options.devices >= 1)) throw new SimulateError(`--devices must be at least 1, got ${options.devices}`);
  if (options.mqttVersion !== 4 && options.mqttVersion !== 5) throw new SimulateError('--mqtt-version is 4 (MQTT 3.1.1) or 5');
  const things = thingNames(options.prefix, options.devices);
  if (options.createThings) {
    process.stderr.write(`creating ${things.length} things${options.thingGroup ? ` in group ${options.thingGroup}` : ''}…\n`);
    await createThings(options, things);
  }
  const fleet = new Fleet({
    mqttUrl: options.mqtt,
    things,
    connections: options.connections ?? Math.min(things.length, 1000),
    protocolVersion: options.mqttVersion,
    rates,
    workMs: options.workMs,
    progressSteps: options.progressSteps,
    download: options.download,
    reportPackages: options.reportPackages,
    downloadTimeoutMs: 30_000,
  });
  const started = Date.now();
  await fleet.start();
  process.stderr.write(`${things.length} devices connected to ${options.mqtt}; waiting for jobs\n`);
  const view = createProgress(process.stderr);
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      view.update(fleet.counts, things.length);
      const idle =
        options.exitWhenIdle > 0 &&
        fleet.firstJobAt !== undefined &&
        fleet.counts.inProgress - fleet.counts.hung <= 0 &&
        Date.now() - fleet.lastActivity > options.exitWhenIdle * 1000;
      if (idle) done();
    }, 200);
    const done = () => {
      clearInterval(tick);
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
  view.update(fleet.counts, things.length);
  view.end();
  await fleet.stop();
  process.stdout.write(`${summary(fleet.counts, things.length, Date.now() - started)}\n`);
}
