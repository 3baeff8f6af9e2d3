// The jobs device protocol over MQTT end to end, with mqtt.js devices (MQTT 5 and 3.1.1) against a running Flotilla:
// jobs from notify to SUCCEEDED, FAILED and REJECTED, error documents, malformed payloads on every jobs topic,
// notify / notify-next sequences, namespaced jobs, and two devices racing start-next. With FLOTILLA_TEST_DEVICE_BROKER
// set (test/jobs-data-mosquitto.test.ts) the same suite runs with Flotilla and the devices on that external broker.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CancelJobExecutionCommand } from '@aws-sdk/client-iot';
import { jobsFixture, type JobsFixture } from './support/jobs.ts';
import { connectDevice, countQuiet, type TestDevice } from './support/mqtt.ts';

let f: JobsFixture;
let url: string;
const devices: TestDevice[] = [];
const DEFAULT_PROTOCOL: 4 | 5 = 5;
const BROKER = process.env.FLOTILLA_TEST_DEVICE_BROKER;
before(async () => {
  f = await jobsFixture(BROKER ? { broker: BROKER } : {});
  url = BROKER ?? f.server.flotilla.mqttUrl!;
});
after(async () => {
  for (const d of devices) await d.end().catch(() => {});
  await f.stop();
});

/** A device of `thing`, subscribed to every topic of its jobs namespace. */
async function device(thing: string, protocolVersion: 4 | 5 = DEFAULT_PROTOCOL): Promise<TestDevice> {
  const d = await connectDevice(url, { protocolVersion });
  devices.push(d);
  await d.subscribe(`$aws/things/${thing}/jobs/#`);
  return d;
}

const topics = (thing: string) => {
  const base = `$aws/things/${thing}/jobs`;
  return { base, notify: `${base}/notify`, next: `${base}/notify-next` };
};

/** Publishes a request and returns the reply on /accepted or /rejected (whichever comes). */
async function request(d: TestDevice, topic: string, payload: object | string | Buffer): Promise<{ accepted: boolean; body: any }> {
  const before = d.received.length;
  await d.publish(topic, typeof payload === 'object' && !Buffer.isBuffer(payload) ? JSON.stringify(payload) : payload);
  for (let waited = 0; waited < 5000; waited += 10) {
    const reply = d.received.slice(before).find((m) => m.topic === `${topic}/accepted` || m.topic === `${topic}/rejected`);
    if (reply) {
      d.received.splice(d.received.indexOf(reply), 1);
      return { accepted: reply.topic.endsWith('/accepted'), body: JSON.parse(reply.payload.toString()) };
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`no reply to ${topic}`);
}

const nowSec = () => Math.floor(Date.now() / 1000);

test('a device runs a job from notify to SUCCEEDED (MQTT 5)', async () => {
  const t = await f.thing();
  const d = await device(t.name);
  const { base, notify, next } = topics(t.name);
  const jobId = await f.createJob({ targets: [t.arn], document: JSON.stringify({ op: 'install', v: 2 }) });

  const listed = await d.nextJson(notify);
  assert.deepEqual(Object.keys(listed.jobs), ['QUEUED']);
  assert.equal(listed.jobs.QUEUED[0].jobId, jobId);
  assert.equal(listed.jobs.QUEUED[0].versionNumber, 1);
  assert.ok(Math.abs(listed.timestamp - nowSec()) <= 5, 'timestamp in epoch seconds');
  const head = await d.nextJson(next);
  assert.equal(head.execution.jobId, jobId);
  assert.equal(head.execution.status, 'QUEUED');
  assert.deepEqual(head.execution.jobDocument, { op: 'install', v: 2 }, 'the document is a JSON object over MQTT');

  const got = await request(d, `${base}/get`, { clientToken: 'g1' });
  assert.ok(got.accepted);
  assert.equal(got.body.clientToken, 'g1');
  assert.deepEqual(got.body.inProgressJobs, []);
  assert.deepEqual(
    got.body.queuedJobs.map((s: any) => s.jobId),
    [jobId],
  );

  const started = await request(d, `${base}/start-next`, { clientToken: 's1', statusDetails: { step: 'download' }, stepTimeoutInMinutes: 10 });
  assert.ok(started.accepted, JSON.stringify(started.body));
  assert.equal(started.body.clientToken, 's1');
  assert.ok(Math.abs(started.body.timestamp - nowSec()) <= 5);
  assert.equal(started.body.execution.jobId, jobId);
  assert.equal(started.body.execution.thingName, t.name);
  assert.equal(started.body.execution.status, 'IN_PROGRESS');
  assert.equal(started.body.execution.versionNumber, 2);
  assert.deepEqual(started.body.execution.statusDetails, { step: 'download' });
  assert.deepEqual(started.body.execution.jobDocument, { op: 'install', v: 2 });
  // The list changed (QUEUED → IN_PROGRESS); its head did not.
  assert.deepEqual(Object.keys((await d.nextJson(notify)).jobs), ['IN_PROGRESS']);

  const described = await request(d, `${base}/${jobId}/get`, { clientToken: 'd1', includeJobDocument: false });
  assert.ok(described.accepted);
  assert.equal(described.body.execution.status, 'IN_PROGRESS');
  assert.equal(described.body.execution.jobDocument, undefined);

  const done = await request(d, `${base}/${jobId}/update`, {
    clientToken: 'u1',
    status: 'SUCCEEDED',
    expectedVersion: 2,
    includeJobExecutionState: true,
    includeJobDocument: true,
    statusDetails: { step: 'done' },
  });
  assert.ok(done.accepted, JSON.stringify(done.body));
  assert.deepEqual(done.body.executionState, { status: 'SUCCEEDED', statusDetails: { step: 'done' }, versionNumber: 3 });
  assert.deepEqual(done.body.jobDocument, { op: 'install', v: 2 });
  assert.equal(done.body.clientToken, 'u1');

  assert.deepEqual((await d.nextJson(notify)).jobs, {}, 'the list emptied');
  const empty = await d.nextJson(next);
  assert.equal(empty.execution, undefined, 'notify-next without execution once nothing is pending');
  assert.equal(await countQuiet(d, next), 0, 'exactly one notify-next when the head started');
  const counters = (await f.describe(jobId)).job!.jobProcessDetails!;
  assert.equal(counters.numberOfSucceededThings, 1);
  assert.equal(counters.numberOfInProgressThings, 0);
});

test('FAILED and REJECTED over MQTT 3.1.1, and the job counters', async () => {
  const [a, b] = [await f.thing(), await f.thing()];
  const [da, db] = [await device(a.name, 4), await device(b.name, 4)];
  const jobId = await f.createJob({ targets: [a.arn, b.arn] });
  await da.nextJson(topics(a.name).next);
  await db.nextJson(topics(b.name).next);
  assert.ok((await request(da, `${topics(a.name).base}/start-next`, {})).accepted);
  const failed = await request(da, `${topics(a.name).base}/${jobId}/update`, {
    status: 'FAILED',
    statusDetails: { reason: 'checksum' },
    includeJobExecutionState: true,
  });
  assert.equal(failed.body.executionState.status, 'FAILED');
  const rejected = await request(db, `${topics(b.name).base}/${jobId}/update`, { status: 'REJECTED' });
  assert.ok(rejected.accepted);
  assert.equal(rejected.body.executionState, undefined, 'executionState only when asked for');
  const counters = (await f.describe(jobId)).job!.jobProcessDetails!;
  assert.equal(counters.numberOfFailedThings, 1);
  assert.equal(counters.numberOfRejectedThings, 1);
  assert.equal(counters.numberOfQueuedThings, 0);
});

test('AWS error documents: VersionMismatch and InvalidStateTransition carry executionState, the others do not', async () => {
  const t = await f.thing();
  const d = await device(t.name);
  const { base } = topics(t.name);
  const jobId = await f.createJob({ targets: [t.arn] });

  const stale = await request(d, `${base}/${jobId}/update`, { clientToken: 'v', status: 'IN_PROGRESS', expectedVersion: 5 });
  assert.equal(stale.accepted, false);
  assert.equal(stale.body.code, 'VersionMismatch');
  assert.equal(stale.body.clientToken, 'v');
  assert.ok(Math.abs(stale.body.timestamp - nowSec()) <= 5);
  assert.match(stale.body.message, /version 5/);
  assert.deepEqual(stale.body.executionState, { status: 'QUEUED', versionNumber: 1 });

  const back = await request(d, `${base}/${jobId}/update`, { status: 'QUEUED' });
  assert.equal(back.body.code, 'InvalidStateTransition');
  assert.equal(back.body.executionState.status, 'QUEUED');

  const serviceOnly = await request(d, `${base}/${jobId}/update`, { status: 'CANCELED' });
  assert.equal(serviceOnly.body.code, 'InvalidRequest');
  assert.equal(serviceOnly.body.executionState, undefined);

  const tooMany = await request(d, `${base}/start-next`, { statusDetails: Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, 'v'])) });
  assert.equal(tooMany.body.code, 'InvalidRequest');
  assert.match(tooMany.body.message, /at most 10/);

  assert.equal((await request(d, `${base}/no-such-job/get`, { clientToken: 'n' })).body.code, 'ResourceNotFound');
  assert.equal((await request(d, `${base}/no-such-job/update`, { status: 'SUCCEEDED' })).body.code, 'ResourceNotFound');
  await d.subscribe('$aws/things/no-such-thing/jobs/#');
  assert.equal((await request(d, `$aws/things/no-such-thing/jobs/get`, {})).body.code, 'ResourceNotFound');

  assert.ok((await request(d, `${base}/${jobId}/update`, { status: 'SUCCEEDED' })).accepted);
  const finished = await request(d, `${base}/${jobId}/get`, {});
  assert.equal(finished.body.code, 'TerminalStateReached');
  assert.equal(finished.body.executionState, undefined);
  const again = await request(d, `${base}/${jobId}/update`, { status: 'FAILED' });
  assert.equal(again.body.code, 'InvalidStateTransition');
  assert.equal(again.body.executionState.status, 'SUCCEEDED');
});

test('malformed payloads on every jobs topic get an error document', async () => {
  const t = await f.thing();
  const d = await device(t.name);
  const { base } = topics(t.name);
  const jobId = await f.createJob({ targets: [t.arn] });
  const requestTopics = [`${base}/get`, `${base}/start-next`, `${base}/${jobId}/get`, `${base}/$next/get`, `${base}/${jobId}/update`];
  const bad: Array<[string | Buffer, string]> = [
    ['{not json', 'InvalidJson'],
    [Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), 'InvalidJson'],
    ['[1,2]', 'InvalidRequest'],
    ['"text"', 'InvalidRequest'],
    ['null', 'InvalidRequest'],
    ['{"clientToken": 42}', 'InvalidRequest'],
    [JSON.stringify({ clientToken: 'x'.repeat(65) }), 'InvalidRequest'],
  ];
  for (const topic of requestTopics) {
    for (const [payload, code] of bad) {
      const reply = await request(d, topic, payload);
      assert.equal(reply.accepted, false, `${topic} ${payload}`);
      assert.equal(reply.body.code, code, `${topic} ${payload}: ${reply.body.message}`);
      assert.ok(reply.body.message.length > 0);
      assert.equal(typeof reply.body.timestamp, 'number');
    }
  }
  const typed: Array<[string, object]> = [
    [`${base}/start-next`, { clientToken: 't', statusDetails: { a: 1 } }],
    [`${base}/start-next`, { statusDetails: ['a'] }],
    [`${base}/start-next`, { stepTimeoutInMinutes: 'ten' }],
    [`${base}/${jobId}/get`, { executionNumber: 1.5 }],
    [`${base}/${jobId}/get`, { includeJobDocument: 'yes' }],
    [`${base}/${jobId}/update`, {}],
    [`${base}/${jobId}/update`, { status: 'DONE' }],
    [`${base}/${jobId}/update`, { status: 'SUCCEEDED', expectedVersion: '1' }],
    [`${base}/${jobId}/update`, { status: 'SUCCEEDED', includeJobExecutionState: 1 }],
    [`${base}/$next/update`, { status: 'SUCCEEDED' }],
    [`${base}/bad%id/get`, {}],
  ];
  for (const [topic, payload] of typed) {
    const reply = await request(d, topic, { ...payload });
    assert.equal(reply.body.code, 'InvalidRequest', `${topic} ${JSON.stringify(payload)}`);
  }
  const typedWithToken = await request(d, `${base}/start-next`, { clientToken: 'tok', stepTimeoutInMinutes: 'x' });
  assert.equal(typedWithToken.body.clientToken, 'tok', 'the clientToken is echoed on errors too');
  for (const topic of [`${base}`, `${base}/unknown`, `${base}/${jobId}/delete`, `${base}/${jobId}/get/extra`, `${base}/a/b/c`]) {
    const reply = await request(d, topic, {});
    assert.equal(reply.body.code, 'InvalidTopic', topic);
  }
  // Nothing was applied, and the handler still serves.
  const ok = await request(d, `${base}/${jobId}/get`, { clientToken: 'fine' });
  assert.ok(ok.accepted);
  assert.equal(ok.body.execution.versionNumber, 1);
  // An empty payload is an empty request.
  assert.ok((await request(d, `${base}/get`, '')).accepted);
});

test('notify and notify-next sequences follow the pending list and its head', async () => {
  const t = await f.thing();
  const d = await device(t.name);
  const { base, notify, next } = topics(t.name);
  const job1 = await f.createJob({ targets: [t.arn] });
  assert.deepEqual(
    (await d.nextJson(notify)).jobs.QUEUED.map((s: any) => s.jobId),
    [job1],
  );
  assert.equal((await d.nextJson(next)).execution.jobId, job1);

  const job2 = await f.createJob({ targets: [t.arn] });
  assert.deepEqual(
    (await d.nextJson(notify)).jobs.QUEUED.map((s: any) => s.jobId),
    [job1, job2],
  );
  assert.equal(await countQuiet(d, next), 0, 'a second queued job does not change the head');

  // job2 starts first: it is IN_PROGRESS, so it becomes the head.
  await request(d, `${base}/${job2}/update`, { status: 'IN_PROGRESS' });
  const moved = await d.nextJson(notify);
  assert.deepEqual(
    moved.jobs.IN_PROGRESS.map((s: any) => s.jobId),
    [job2],
  );
  assert.deepEqual(
    moved.jobs.QUEUED.map((s: any) => s.jobId),
    [job1],
  );
  const head2 = await d.nextJson(next);
  assert.equal(head2.execution.jobId, job2);
  assert.equal(head2.execution.status, 'IN_PROGRESS');

  // Only the head's details change: no notification at all.
  await request(d, `${base}/${job2}/update`, { status: 'IN_PROGRESS', statusDetails: { progress: '50' } });
  assert.equal(await countQuiet(d, notify), 0);
  assert.equal(await countQuiet(d, next), 0);

  // The head finishes: job1 is next.
  await request(d, `${base}/${job2}/update`, { status: 'SUCCEEDED' });
  const afterDone = await d.nextJson(notify);
  assert.deepEqual(
    afterDone.jobs.QUEUED.map((s: any) => s.jobId),
    [job1],
  );
  assert.equal(afterDone.jobs.IN_PROGRESS, undefined, 'empty statuses are left out');
  assert.equal((await d.nextJson(next)).execution.jobId, job1);

  // The control plane cancels the last one: the list empties.
  await f.iot.send(new CancelJobExecutionCommand({ jobId: job1, thingName: t.name }));
  assert.deepEqual((await d.nextJson(notify)).jobs, {});
  assert.equal((await d.nextJson(next)).execution, undefined);
  assert.equal(await countQuiet(d, notify), 0);
  assert.equal(await countQuiet(d, next), 0);
});

test('jobs with a namespaceId notify on their own topic, not in the list', async () => {
  const t = await f.thing();
  const d = await device(t.name);
  const { base, notify, next } = topics(t.name);
  const jobId = await f.createJob({ targets: [t.arn], namespaceId: 'edge' });
  const topic = `${base}/${jobId}/notify-namespace-edge/`;
  const queued = await d.nextJson(topic);
  assert.equal(queued.execution.jobId, jobId);
  assert.equal(queued.execution.status, 'QUEUED');
  assert.equal(await countQuiet(d, notify), 0);
  assert.equal(await countQuiet(d, next), 0);
  assert.ok((await request(d, `${base}/${jobId}/update`, { status: 'IN_PROGRESS' })).accepted);
  assert.equal((await d.nextJson(topic)).execution.status, 'IN_PROGRESS');
  assert.ok((await request(d, `${base}/${jobId}/update`, { status: 'SUCCEEDED' })).accepted);
  const finished = await d.nextJson(topic);
  assert.equal(finished.execution.status, 'SUCCEEDED');
  assert.equal(finished.execution.jobDocument, undefined);
});

test('two devices racing start-next for one thing: one starts it, both see it', async () => {
  for (let round = 0; round < 3; round++) {
    const t = await f.thing();
    const [one, two] = [await device(t.name), await device(t.name, 4)];
    const jobId = await f.createJob({ targets: [t.arn] });
    await one.nextJson(topics(t.name).next);
    const { base } = topics(t.name);
    const [r1, r2] = await Promise.all([
      request(one, `${base}/start-next`, { clientToken: 'one', statusDetails: { by: 'one' } }),
      request(two, `${base}/start-next`, { clientToken: 'two', statusDetails: { by: 'two' } }),
    ]);
    assert.ok(r1.accepted && r2.accepted);
    assert.equal(r1.body.execution.jobId, jobId);
    assert.equal(r2.body.execution.jobId, jobId);
    assert.deepEqual(r1.body.execution.statusDetails, r2.body.execution.statusDetails);
    assert.equal(r1.body.execution.versionNumber, 2);
    assert.equal(r2.body.execution.versionNumber, 2);
  }
});
