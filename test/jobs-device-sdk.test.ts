// The unmodified AWS IoT Device SDK v2 (its `iotjobs` request-response client, over the SDK's own MQTT clients on
// plain TCP) runs jobs against Flotilla: from notify-next to SUCCEEDED, FAILED and REJECTED, and its rejections.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, test } from 'node:test';
import { io, mqtt, mqtt5 } from 'aws-crt';
import { iotjobs } from 'aws-iot-device-sdk-v2';
import { jobsFixture, type JobsFixture } from './support/jobs.ts';

let f: JobsFixture;
let host: string;
let port: number;
before(async () => {
  f = await jobsFixture();
  const url = new URL(f.server.flotilla.mqttUrl!);
  host = url.hostname;
  port = Number(url.port);
});
after(async () => {
  await f.stop();
  // aws-crt's native event loop keeps the process alive after its clients are closed, and its finalizers can abort
  // at a normal exit: leave once everything is reported.
  setTimeout(() => process.exit(process.exitCode ?? 0), 200);
});

const rrOptions = { maxRequestResponseSubscriptions: 6, maxStreamingSubscriptions: 2, operationTimeoutInSeconds: 10 };

interface SdkDevice {
  jobs: iotjobs.IotJobsClientv2;
  close(): Promise<void>;
}

async function mqtt5Device(clientId: string): Promise<SdkDevice> {
  const client = new mqtt5.Mqtt5Client({ hostName: host, port, connectProperties: { clientId, keepAliveIntervalSeconds: 60 } });
  const connected = once(client, 'connectionSuccess');
  client.start();
  await connected;
  const jobs = iotjobs.IotJobsClientv2.newFromMqtt5(client, rrOptions);
  return {
    jobs,
    async close() {
      jobs.close();
      const stopped = once(client, 'stopped');
      client.stop();
      await stopped;
      client.close();
    },
  };
}

async function mqtt311Device(clientId: string): Promise<SdkDevice> {
  const connection = new mqtt.MqttClient().new_connection({
    client_id: clientId,
    host_name: host,
    port,
    clean_session: true,
    keep_alive: 60,
    socket_options: new io.SocketOptions(),
  });
  await connection.connect();
  const jobs = iotjobs.IotJobsClientv2.newFromMqtt311(connection, rrOptions);
  return {
    jobs,
    async close() {
      jobs.close();
      await connection.disconnect();
    },
  };
}

/** The next event of a streaming operation (notify-next), opened before the change that triggers it. */
function nextEvents(jobs: iotjobs.IotJobsClientv2, thingName: string) {
  const events: iotjobs.model.NextJobExecutionChangedEvent[] = [];
  const waiters: Array<() => void> = [];
  const stream = jobs.createNextJobExecutionChangedStream({ thingName });
  const subscribed = new Promise<void>((resolve, reject) => {
    stream.on('subscriptionStatus', (status) => (status.type === 0 ? resolve() : reject(new Error(`subscription failed: ${status.error}`))));
  });
  stream.on('incomingPublish', (event) => {
    events.push(event.message);
    for (const wake of waiters.splice(0)) wake();
  });
  stream.open();
  return {
    subscribed,
    async next(timeoutMs = 5000): Promise<iotjobs.model.NextJobExecutionChangedEvent> {
      const deadline = Date.now() + timeoutMs;
      while (events.length === 0) {
        if (Date.now() > deadline) throw new Error('no notify-next event');
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 100);
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      return events.shift()!;
    },
    close: () => stream.close(),
  };
}

for (const [label, connect] of [
  ['MQTT 5', mqtt5Device],
  ['MQTT 3.1.1', mqtt311Device],
] as const) {
  test(`the device SDK v2 runs jobs to SUCCEEDED, FAILED and REJECTED (${label})`, async () => {
    const t = await f.thing();
    const device = await connect(`sdk-${t.name}`);
    const stream = nextEvents(device.jobs, t.name);
    try {
      await stream.subscribed;
      const document = { operation: 'install', version: '3.1' };
      const job1 = await f.createJob({ targets: [t.arn], document: JSON.stringify(document) });

      // notify-next announces the job; the device starts it, reports progress, then success.
      const announced = await stream.next();
      assert.equal(announced.execution?.jobId, job1);
      assert.deepEqual(announced.execution?.jobDocument, document);
      const started = await device.jobs.startNextPendingJobExecution({ thingName: t.name, statusDetails: { step: 'download' } });
      assert.equal(started.execution?.jobId, job1);
      assert.equal(started.execution?.status, 'IN_PROGRESS');
      assert.deepEqual(started.execution?.jobDocument, document);
      const progress = await device.jobs.updateJobExecution({
        thingName: t.name,
        jobId: job1,
        status: iotjobs.model.JobStatus.IN_PROGRESS,
        expectedVersion: 2,
        statusDetails: { step: 'install' },
        includeJobExecutionState: true,
      });
      assert.equal(progress.executionState?.versionNumber, 3);
      await device.jobs.updateJobExecution({ thingName: t.name, jobId: job1, status: iotjobs.model.JobStatus.SUCCEEDED });
      const emptied = await stream.next();
      assert.equal(emptied.execution, undefined, 'nothing pending any more');

      // A second job fails, a third is rejected straight from QUEUED.
      const job2 = await f.createJob({ targets: [t.arn] });
      assert.equal((await stream.next()).execution?.jobId, job2);
      await device.jobs.startNextPendingJobExecution({ thingName: t.name });
      await device.jobs.updateJobExecution({ thingName: t.name, jobId: job2, status: iotjobs.model.JobStatus.FAILED, statusDetails: { reason: 'checksum' } });
      await stream.next();
      const job3 = await f.createJob({ targets: [t.arn] });
      assert.equal((await stream.next()).execution?.jobId, job3);
      const pending = await device.jobs.getPendingJobExecutions({ thingName: t.name });
      assert.deepEqual(
        pending.queuedJobs?.map((s) => s.jobId),
        [job3],
      );
      const described = await device.jobs.describeJobExecution({ thingName: t.name, jobId: '$next' });
      assert.equal(described.execution?.jobId, job3);
      await device.jobs.updateJobExecution({ thingName: t.name, jobId: job3, status: iotjobs.model.JobStatus.REJECTED });

      // The SDK surfaces AWS's error documents as rejections.
      await assert.rejects(
        device.jobs.updateJobExecution({ thingName: t.name, jobId: job3, status: iotjobs.model.JobStatus.SUCCEEDED }),
        (err: any) => err?.modeledError?.code === 'InvalidStateTransition' && err.modeledError.executionState?.status === 'REJECTED',
      );
      await assert.rejects(
        device.jobs.describeJobExecution({ thingName: t.name, jobId: job1 }),
        (err: any) => err?.modeledError?.code === 'TerminalStateReached',
      );

      for (const [jobId, counter] of [
        [job1, 'numberOfSucceededThings'],
        [job2, 'numberOfFailedThings'],
        [job3, 'numberOfRejectedThings'],
      ] as const) {
        assert.equal((await f.describe(jobId)).job!.jobProcessDetails![counter], 1, `${jobId} ${counter}`);
      }
    } finally {
      stream.close();
      await device.close();
    }
  });
}
