import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CreatePackageCommand, GetPackageCommand } from '@aws-sdk/client-iot';
import { startTestServer, type TestServer } from './support/server.ts';

let server: TestServer;
before(async () => (server = await startTestServer()));
after(() => server.stop());

test('a package created through the SDK reads back', async () => {
  const iot = server.iot();
  await iot.send(new CreatePackageCommand({ packageName: 'smoke' }));
  const got = await iot.send(new GetPackageCommand({ packageName: 'smoke' }));
  assert.equal(got.packageName, 'smoke');
});
