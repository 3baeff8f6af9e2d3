// `$package` follows package deployments: when versionUpdateByJobsConfig is enabled, an execution that SUCCEEDED on a
// job with destinationPackageVersions writes each package's version into the thing's `$package` shadow (`$null`
// removes the package); sibling packages stay as they were, and nothing is written while the config is disabled.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CreatePackageCommand, CreatePackageVersionCommand, UpdatePackageConfigurationCommand, UpdatePackageVersionCommand } from '@aws-sdk/client-iot';
import { GetThingShadowCommand, IoTDataPlaneClient, UpdateThingShadowCommand } from '@aws-sdk/client-iot-data-plane';
import { IoTJobsDataPlaneClient, StartNextPendingJobExecutionCommand, UpdateJobExecutionCommand } from '@aws-sdk/client-iot-jobs-data-plane';
import { jobsFixture, type JobsFixture } from './support/jobs.ts';
import { eventually } from './support/server.ts';

let f: JobsFixture;
let jobsData: IoTJobsDataPlaneClient;
let shadows: IoTDataPlaneClient;
const credentials = { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' };
before(async () => {
  f = await jobsFixture();
  jobsData = new IoTJobsDataPlaneClient({ endpoint: f.server.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
  shadows = new IoTDataPlaneClient({ endpoint: f.server.endpoint, region: 'us-east-1', credentials, maxAttempts: 1 });
});
after(async () => {
  jobsData.destroy();
  shadows.destroy();
  await f.stop();
});

const versionArn = (pkg: string, version: string) => `arn:aws:iot:us-east-1:000000000000:package/${pkg}/version/${version}`;

async function publishedVersion(pkg: string, version: string) {
  await f.iot.send(new CreatePackageCommand({ packageName: pkg })).catch((err) => {
    if (err.name !== 'ConflictException' && err.name !== 'ResourceAlreadyExistsException') throw err;
  });
  await f.iot.send(new CreatePackageVersionCommand({ packageName: pkg, versionName: version }));
  await f.iot.send(new UpdatePackageVersionCommand({ packageName: pkg, versionName: version, action: 'PUBLISH' }));
}

async function packageShadow(thingName: string): Promise<Record<string, unknown> | undefined> {
  try {
    const out = await shadows.send(new GetThingShadowCommand({ thingName, shadowName: '$package' }));
    return JSON.parse(Buffer.from(out.payload!).toString('utf8')).state.reported;
  } catch (err) {
    if ((err as Error).name === 'ResourceNotFoundException') return undefined;
    throw err;
  }
}

/** The device takes its next job and reports SUCCEEDED over the HTTPS data plane. */
async function succeedNext(thingName: string): Promise<void> {
  const { execution } = await jobsData.send(new StartNextPendingJobExecutionCommand({ thingName }));
  assert.ok(execution, `${thingName} has a pending job`);
  await jobsData.send(new UpdateJobExecutionCommand({ thingName, jobId: execution.jobId!, status: 'SUCCEEDED' }));
}

test('SUCCEEDED executions write $package versions when enabled; $null removes; siblings stay; disabled writes nothing', async () => {
  const suffix = Date.now().toString(36);
  const fw = `fw-${suffix}`;
  const boot = `boot-${suffix}`;
  await publishedVersion(fw, '1.0.0');
  await publishedVersion(fw, '2.0.0');
  const thing = await f.thing();
  const shadowDoc = { state: { reported: { [boot]: { version: '7' }, [fw]: { version: '1.0.0' } } } };
  await shadows.send(new UpdateThingShadowCommand({ thingName: thing.name, shadowName: '$package', payload: Buffer.from(JSON.stringify(shadowDoc)) }));

  // Disabled (the default): the job succeeds and the shadow keeps what the device reported.
  const doc = JSON.stringify({ install: versionArn(fw, '2.0.0') });
  await f.createJob({ targets: [thing.arn], document: doc, destinationPackageVersions: [versionArn(fw, '2.0.0')] });
  await succeedNext(thing.name);

  await f.iot.send(
    new UpdatePackageConfigurationCommand({ versionUpdateByJobsConfig: { enabled: true, roleArn: 'arn:aws:iam::000000000000:role/jobs-shadow' } }),
  );
  await f.createJob({ targets: [thing.arn], document: doc, destinationPackageVersions: [versionArn(fw, '2.0.0')] });
  await succeedNext(thing.name);
  await eventually(async () => assert.deepEqual(await packageShadow(thing.name), { [boot]: { version: '7' }, [fw]: { version: '2.0.0' } }));

  await f.createJob({ targets: [thing.arn], document: JSON.stringify({ remove: fw }), destinationPackageVersions: [versionArn(fw, '$null')] });
  await succeedNext(thing.name);
  await eventually(async () => assert.deepEqual(await packageShadow(thing.name), { [boot]: { version: '7' } }));
});

test('a FAILED execution leaves $package alone', async () => {
  const fw = `fw-failed-${Date.now().toString(36)}`;
  await publishedVersion(fw, '3.0.0');
  const thing = await f.thing();
  await f.createJob({ targets: [thing.arn], document: '{"op":"install"}', destinationPackageVersions: [versionArn(fw, '3.0.0')] });
  const { execution } = await jobsData.send(new StartNextPendingJobExecutionCommand({ thingName: thing.name }));
  await jobsData.send(new UpdateJobExecutionCommand({ thingName: thing.name, jobId: execution!.jobId!, status: 'FAILED' }));
  // A SUCCEEDED one of another thing shows the engine has run since.
  const other = await f.thing();
  await f.createJob({ targets: [other.arn], document: '{"op":"install"}', destinationPackageVersions: [versionArn(fw, '3.0.0')] });
  await succeedNext(other.name);
  await eventually(async () => assert.deepEqual(await packageShadow(other.name), { [fw]: { version: '3.0.0' } }));
  assert.equal(await packageShadow(thing.name), undefined);
});
