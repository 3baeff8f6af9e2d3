// Shared setup of the jobs tests: a server, an IoT client, things and groups, and direct store access to put
// executions into states only a device (not built yet) could reach.
import assert from 'node:assert/strict';
import {
  AddThingToThingGroupCommand,
  CreateJobCommand,
  CreateThingCommand,
  CreateThingGroupCommand,
  DescribeJobCommand,
  type CreateJobCommandInput,
  type IoTClient,
} from '@aws-sdk/client-iot';
import type { FlotillaOptions } from '../../src/index.ts';
import { Store } from '../../src/store/store.ts';
import type { JobExecutionRow } from '../../src/store/schema.ts';
import { awsError, eventually, startTestServer, type TestServer } from './server.ts';

export interface JobsFixture {
  server: TestServer;
  iot: IoTClient;
  store: Store;
  uniq(label: string): string;
  thing(name?: string): Promise<{ name: string; arn: string }>;
  group(name?: string, parent?: string): Promise<{ name: string; arn: string }>;
  addToGroup(group: string, thing: string): Promise<void>;
  /** Creates the job and waits until the engine has fanned it out (or it waits for its schedule). */
  createJob(input: Partial<CreateJobCommandInput> & { targets: string[] }): Promise<string>;
  /** Waits until the engine has expanded every target of the job into executions. */
  rolledOut(jobId: string): Promise<void>;
  describe(jobId: string, beforeSubstitution?: boolean): ReturnType<typeof describeJob>;
  /** Writes execution columns directly, as the device side would. */
  setExecution(jobId: string, thingName: string, patch: Partial<JobExecutionRow>): Promise<void>;
  stop(): Promise<void>;
}

async function describeJob(iot: IoTClient, jobId: string, beforeSubstitution?: boolean) {
  return iot.send(new DescribeJobCommand({ jobId, beforeSubstitution }));
}

export const DOC = JSON.stringify({ operation: 'reboot' });

export async function jobsFixture(options: FlotillaOptions = {}): Promise<JobsFixture> {
  const server = await startTestServer(options);
  const iot = server.iot();
  const store = await Store.open(server.database);
  let counter = 0;
  // An external broker is shared with whatever else uses it: names carry this run's mark there.
  const run = options.broker ? `${Math.random().toString(36).slice(2, 8)}-` : '';
  const uniq = (label: string) => `${label}-${run}${++counter}`;
  const fixture: JobsFixture = {
    server,
    iot,
    store,
    uniq,
    async thing(name = uniq('thing')) {
      const out = await iot.send(new CreateThingCommand({ thingName: name }));
      return { name, arn: out.thingArn! };
    },
    async group(name = uniq('group'), parent?: string) {
      const out = await iot.send(new CreateThingGroupCommand({ thingGroupName: name, parentGroupName: parent }));
      return { name, arn: out.thingGroupArn! };
    },
    async addToGroup(group, thing) {
      await iot.send(new AddThingToThingGroupCommand({ thingGroupName: group, thingName: thing }));
    },
    async createJob(input) {
      const jobId = input.jobId ?? uniq('job');
      const document = input.document ?? (input.documentSource || input.jobTemplateArn ? undefined : DOC);
      await iot.send(new CreateJobCommand({ ...input, jobId, document }));
      await fixture.rolledOut(jobId);
      return jobId;
    },
    async rolledOut(jobId) {
      await eventually(async () => {
        const { job } = await describeJob(iot, jobId);
        assert.ok(job!.status !== 'IN_PROGRESS' || job!.jobProcessDetails!.processingTargets === undefined, `job ${jobId} is still rolling out`);
      });
    },
    describe: (jobId, before) => describeJob(iot, jobId, before),
    async setExecution(jobId, thingName, patch) {
      await store.db.updateTable('job_executions').set(patch).where('job_id', '=', jobId).where('thing_name', '=', thingName).execute();
    },
    async stop() {
      await store.close();
      await server.stop();
    },
  };
  return fixture;
}

export async function expectError(call: () => Promise<unknown>, name: string, status: number, message?: RegExp) {
  const err = await awsError(call);
  assert.equal(err.name, name, `expected ${name}, got ${err.name}: ${err.message}`);
  assert.equal(err.status, status);
  if (message) assert.match(err.message, message);
  return err;
}
