// The engine survives what production throws at it: a SIGKILL mid-rollout, registry changes racing the fan-out,
// and (PostgreSQL) two replicas sharing one database.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import {
  AddThingToThingGroupCommand,
  CreateJobCommand,
  CreateThingCommand,
  CreateThingGroupCommand,
  DeleteThingCommand,
  DescribeJobCommand,
  IoTClient,
  ListJobExecutionsForJobCommand,
  RemoveThingFromThingGroupCommand,
  type JobExecutionSummaryForJob,
} from '@aws-sdk/client-iot';
import { startFlotilla } from '../src/index.ts';
import { runCleanups, spawnFlotilla, tempPlace } from './support/child.ts';
import { DOC, jobsFixture } from './support/jobs.ts';
import { eventually, POSTGRES_URL } from './support/server.ts';

after(runCleanups);

const client = (endpoint: string) =>
  new IoTClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' }, maxAttempts: 1 });

async function allExecutions(iot: IoTClient, jobId: string): Promise<JobExecutionSummaryForJob[]> {
  const out: JobExecutionSummaryForJob[] = [];
  let nextToken: string | undefined;
  do {
    const page = await iot.send(new ListJobExecutionsForJobCommand({ jobId, nextToken, maxResults: 250 }));
    out.push(...page.executionSummaries!);
    nextToken = page.nextToken;
  } while (nextToken);
  return out;
}

test('SIGKILL mid-rollout: after a restart the rollout resumes and ends with every thing queued exactly once', async () => {
  const place = await tempPlace();
  const args = ['--time-scale', '60'];
  let child = await spawnFlotilla(place.dataDir, place.database, args);
  let iot = client(child.endpoint);
  await iot.send(new CreateThingGroupCommand({ thingGroupName: 'fleet' }));
  for (let i = 0; i < 40; i++) {
    await iot.send(new CreateThingCommand({ thingName: `d${i}` }));
    await iot.send(new AddThingToThingGroupCommand({ thingGroupName: 'fleet', thingName: `d${i}` }));
  }
  const group = `arn:aws:iot:us-east-1:000000000000:thinggroup/fleet`;
  // 10 per minute at 60x: ten a second, so the kill lands with part of the fleet released.
  await iot.send(new CreateJobCommand({ jobId: 'rollout', targets: [group], document: DOC, jobExecutionsRolloutConfig: { maximumPerMinute: 10 } }));
  await eventually(async () => assert.ok((await allExecutions(iot, 'rollout')).length >= 10), 5000);
  child.process.kill('SIGKILL');
  await child.exited;
  iot.destroy();

  child = await spawnFlotilla(place.dataDir, place.database, args);
  iot = client(child.endpoint);
  const before = (await allExecutions(iot, 'rollout')).length;
  assert.ok(before < 40, `the whole fleet was released before the kill (${before})`);
  const job = await eventually(async () => {
    const j = (await iot.send(new DescribeJobCommand({ jobId: 'rollout' }))).job!;
    assert.equal(j.jobProcessDetails!.processingTargets, undefined);
    return j;
  }, 30_000);
  const rows = await allExecutions(iot, 'rollout');
  assert.equal(rows.length, 40);
  assert.equal(new Set(rows.map((r) => r.thingArn)).size, 40);
  assert.ok(rows.every((r) => r.jobExecutionSummary!.executionNumber === 1 && r.jobExecutionSummary!.status === 'QUEUED'));
  assert.equal(job.jobProcessDetails!.numberOfQueuedThings, 40);
  assert.equal(job.isConcurrent, false);
  iot.destroy();
});

test('CONTINUOUS fan-out racing joins, leaves and deletions: one live execution per member, none for deleted things', async () => {
  const f = await jobsFixture({ timeScale: 60 });
  try {
    const g = await f.group();
    const original: string[] = [];
    for (let i = 0; i < 30; i++) {
      const t = await f.thing();
      await f.addToGroup(g.name, t.name);
      original.push(t.name);
    }
    const joiners: string[] = [];
    for (let i = 0; i < 30; i++) joiners.push((await f.thing()).name);
    const jobId = f.uniq('race');
    // A rated fan-out (60 per minute at 60x) keeps the rollout going while the registry changes under it.
    await f.iot.send(
      new CreateJobCommand({ jobId, targets: [g.arn], document: DOC, targetSelection: 'CONTINUOUS', jobExecutionsRolloutConfig: { maximumPerMinute: 60 } }),
    );
    const deleted = original.slice(0, 8);
    const left = original.slice(8, 14);
    await Promise.all([
      ...joiners.map((name) => f.iot.send(new AddThingToThingGroupCommand({ thingGroupName: g.name, thingName: name }))),
      ...deleted.map((name) => f.iot.send(new DeleteThingCommand({ thingName: name }))),
      ...left.map((name) => f.iot.send(new RemoveThingFromThingGroupCommand({ thingGroupName: g.name, thingName: name }))),
    ]);
    const members = new Set([...original.slice(14), ...joiners]);
    await eventually(
      async () => {
        const rows = await f.server.flotilla.store.db
          .selectFrom('job_executions')
          .select(['thing_name', 'execution_number', 'status'])
          .where('job_id', '=', jobId)
          .execute();
        const byThing = new Map<string, typeof rows>();
        for (const r of rows) byThing.set(r.thing_name, [...(byThing.get(r.thing_name) ?? []), r]);
        for (const name of deleted) assert.equal(byThing.get(name), undefined, `deleted ${name} has executions`);
        for (const name of members) {
          const mine = byThing.get(name) ?? [];
          assert.equal(mine.filter((r) => r.status === 'QUEUED').length, 1, `${name}: ${JSON.stringify(mine)}`);
        }
        for (const name of left)
          assert.ok(
            (byThing.get(name) ?? []).every((r) => r.status === 'REMOVED'),
            `${name} left but is still queued`,
          );
        const j = (await f.describe(jobId)).job!;
        assert.equal(j.jobProcessDetails!.numberOfQueuedThings, members.size);
      },
      20_000,
      100,
    );
  } finally {
    await f.stop();
  }
});

test('two replicas on one PostgreSQL release every execution once', { skip: !POSTGRES_URL && 'PostgreSQL only' }, async () => {
  const f = await jobsFixture();
  const second = await startFlotilla({ port: 0, mqttPort: 0, dataDir: f.server.dataDir, database: f.server.database, logLevel: 'error' });
  try {
    const g = await f.group();
    const names: string[] = [];
    for (let i = 0; i < 120; i++) {
      const t = await f.thing();
      await f.addToGroup(g.name, t.name);
      names.push(t.name);
    }
    const iot2 = client(second.endpoint);
    // Both replicas create jobs, so both engines hold work; small batches make them interleave.
    const ids = ['r1', 'r2', 'r3', 'r4'];
    await Promise.all(ids.map((jobId, i) => (i % 2 ? iot2 : f.iot).send(new CreateJobCommand({ jobId, targets: [g.arn], document: DOC }))));
    for (const jobId of ids) {
      await eventually(async () => assert.equal((await f.describe(jobId)).job!.jobProcessDetails!.numberOfQueuedThings, 120), 20_000);
      const row = await f.server.flotilla.store.db
        .selectFrom('jobs')
        .select(['released', 'fanout_pending'])
        .where('job_id', '=', jobId)
        .executeTakeFirstOrThrow();
      assert.deepEqual([Number(row.released), Number(row.fanout_pending)], [120, 0]);
    }
    const dead = await f.server.flotilla.store.db.selectFrom('effects').select('kind').where('dead', '=', 1).execute();
    assert.deepEqual(dead, []);
    iot2.destroy();
  } finally {
    await second.stop();
    await f.stop();
  }
});
