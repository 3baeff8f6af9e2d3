// A dead object store never freezes the API: reads of object storage happen before a request's transaction and have
// a deadline (`--blob-timeout-ms`), and SIGTERM exits within `--shutdown-timeout` even while a request hangs. The
// "external S3" here is a plain TCP server that accepts connections and never answers.
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import {
  CreatePackageCommand,
  CreatePackageVersionCommand,
  CreateThingCommand,
  CreateJobCommand,
  GetPackageVersionCommand,
  IoTClient,
  ListPackagesCommand,
} from '@aws-sdk/client-iot';
import { cleanups, runCleanups, spawnFlotilla, tempPlace } from './support/child.ts';
import { awsError, startTestServer, type TestServer } from './support/server.ts';

const TEST = { timeout: 60_000 };

after(runCleanups);

/** A server that accepts every connection and never says a word; `connections` counts them. */
async function silentServer(): Promise<{ url: string; connections: () => number }> {
  const sockets: Socket[] = [];
  const server: Server = createServer((socket) => void sockets.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  return { url: `http://127.0.0.1:${address.port}`, connections: () => sockets.length };
}

const timed = async <T>(work: () => Promise<T>) => {
  const start = Date.now();
  const value = await work();
  return { value, ms: Date.now() - start };
};

const artifact = { s3Location: { bucket: 'firmware', key: 'app.bin' } };

before(() => {
  // The external store takes its credentials from the standard AWS chain; without them no request is even sent.
  process.env.AWS_ACCESS_KEY_ID ??= 'AKIDTEST';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'secret';
});

describe('a hung external S3', () => {
  let server: TestServer;
  let iot: IoTClient;
  let silent: Awaited<ReturnType<typeof silentServer>>;

  before(async () => {
    silent = await silentServer();
    server = await startTestServer({ blob: silent.url, blobTimeoutMs: 1500 });
    cleanups.push(() => server.stop());
    iot = server.iot();
    await iot.send(new CreatePackageCommand({ packageName: 'fw' }));
  });

  test('CreatePackageVersion answers the timeout error while other requests keep answering', TEST, async () => {
    const start = Date.now();
    let settled = false;
    const hung = awsError(() => iot.send(new CreatePackageVersionCommand({ packageName: 'fw', versionName: '1.0.0', artifact }))).finally(
      () => (settled = true),
    );
    // Wait until the artifact HEAD has reached the silent server: the request is then hung on it.
    while (silent.connections() === 0 && !settled) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(settled, false, 'the request is still waiting for the silent server');

    const list = await timed(() => iot.send(new ListPackagesCommand({})));
    const create = await timed(() => iot.send(new CreatePackageCommand({ packageName: 'other' })));
    assert.equal(settled, false, 'the other requests answered while the artifact check was still waiting');
    assert.ok(list.ms < 1500, `ListPackages took ${list.ms} ms`);
    assert.ok(create.ms < 1500, `CreatePackage took ${create.ms} ms`);
    assert.deepEqual(
      list.value.packageSummaries?.map((p) => p.packageName),
      ['fw'],
    );

    const err = await hung;
    const elapsed = Date.now() - start;
    assert.equal(err.name, 'InternalServerException', err.message);
    assert.equal(err.status, 500);
    assert.match(err.message, /Object storage did not answer within 1500 ms/);
    assert.ok(elapsed >= 1400 && elapsed < 5000, `the timeout error came after ${elapsed} ms`);
    const missing = await awsError(() => iot.send(new GetPackageVersionCommand({ packageName: 'fw', versionName: '1.0.0' })));
    assert.equal(missing.name, 'ResourceNotFoundException', 'nothing was written');
  });

  test('CreateJob with a documentSource answers ServiceUnavailableException (503), as its model lists', TEST, async () => {
    const thing = await iot.send(new CreateThingCommand({ thingName: 'device-1' }));
    const list = timed(() => iot.send(new ListPackagesCommand({})));
    const err = await awsError(() =>
      iot.send(new CreateJobCommand({ jobId: 'j1', targets: [thing.thingArn!], documentSource: 'https://s3.us-east-1.amazonaws.com/docs/job.json' })),
    );
    assert.equal(err.name, 'ServiceUnavailableException', err.message);
    assert.equal(err.status, 503);
    assert.match(err.message, /did not answer within 1500 ms/);
    assert.ok((await list).ms < 1500);
  });
});

describe('SIGTERM during a hung request', () => {
  const artifactRequest = (endpoint: string) => {
    const iot = new IoTClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' }, maxAttempts: 1 });
    cleanups.push(() => iot.destroy());
    return {
      iot,
      hang: () => iot.send(new CreatePackageVersionCommand({ packageName: 'fw', versionName: '1.0.0', artifact })).catch((err) => err),
    };
  };

  async function serveAndHang(args: string[]) {
    const silent = await silentServer();
    const place = await tempPlace('flotilla-shutdown-');
    const child = await spawnFlotilla(place.dataDir, place.database, ['--blob', silent.url, ...args]);
    let stderr = '';
    child.process.stderr!.on('data', (d) => (stderr += d));
    const { iot, hang } = artifactRequest(child.endpoint);
    await iot.send(new CreatePackageCommand({ packageName: 'fw' }));
    const pending = hang();
    while (silent.connections() === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    const start = Date.now();
    child.process.kill('SIGTERM');
    const code = await child.exited;
    return { code, ms: Date.now() - start, stderr: () => stderr, pending };
  }

  test('past --shutdown-timeout the process exits anyway, non-zero, saying why', TEST, async () => {
    const { code, ms, stderr } = await serveAndHang(['--blob-timeout-ms', '60000', '--shutdown-timeout', '1']);
    assert.ok(ms < 4000, `exited ${ms} ms after SIGTERM`);
    assert.equal(code, 1);
    assert.match(stderr(), /shutdown timeout of 1 s/);
  });

  test('a request that ends within the timeout drains, and the process exits 0', TEST, async () => {
    const { code, ms, pending } = await serveAndHang(['--blob-timeout-ms', '1000', '--shutdown-timeout', '10']);
    assert.ok(ms < 5000, `exited ${ms} ms after SIGTERM`);
    assert.equal(code, 0);
    assert.equal((await pending).name, 'InternalServerException', 'the in-flight request got its answer');
  });
});
