// clientToken records replay only inside their 24-hour window: an older record (not yet pruned) acts as absent.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CreatePackageCommand, DeletePackageCommand, GetPackageCommand, type IoTClient } from '@aws-sdk/client-iot';
import { IDEMPOTENCY_WINDOW_MS } from '../src/server/api.ts';
import { Store } from '../src/store/store.ts';
import { expectError, startTestServer, type TestServer } from './support/server.ts';

let server: TestServer;
let iot: IoTClient;
let store: Store;
before(async () => {
  server = await startTestServer();
  iot = server.iot();
  store = await Store.open(server.database);
});
after(async () => {
  await store.close();
  await server.stop();
});

/** A clientToken of the modelled length (36 to 64). */
const tok = (label: string) => `${label}-`.padEnd(40, '0');

/** Moves the token's record back in time, as if it had been written `ageMs` ago. */
async function age(token: string, ageMs: number) {
  await store.db
    .updateTable('idempotency')
    .set({ created_at: Date.now() - ageMs })
    .where('token', '=', token)
    .execute();
}

test('a token inside its window replays; a different request with it is a conflict', async () => {
  const first = await iot.send(new CreatePackageCommand({ packageName: 'fresh', description: 'one', clientToken: tok('fresh') }));
  const again = await iot.send(new CreatePackageCommand({ packageName: 'fresh', description: 'one', clientToken: tok('fresh') }));
  assert.equal(again.packageArn, first.packageArn);
  await age(tok('fresh'), IDEMPOTENCY_WINDOW_MS - 60_000);
  await expectError(
    () => iot.send(new CreatePackageCommand({ packageName: 'fresh', description: 'two', clientToken: tok('fresh') })),
    'ConflictException',
    409,
  );
});

test('a token older than 24 hours acts as new: a different request runs, and its record replaces the old one', async () => {
  await iot.send(new CreatePackageCommand({ packageName: 'old', description: 'first', clientToken: tok('old') }));
  await age(tok('old'), IDEMPOTENCY_WINDOW_MS + 60_000);
  await iot.send(new CreatePackageCommand({ packageName: 'other', description: 'second', clientToken: tok('old') }));
  assert.equal((await iot.send(new GetPackageCommand({ packageName: 'other' }))).description, 'second');
  // The new record is the one that replays now.
  await iot.send(new CreatePackageCommand({ packageName: 'other', description: 'second', clientToken: tok('old') }));
  await expectError(() => iot.send(new CreatePackageCommand({ packageName: 'old', description: 'first', clientToken: tok('old') })), 'ConflictException', 409);
});

test('an expired token does not replay a stale response: the same request runs again', async () => {
  await iot.send(new CreatePackageCommand({ packageName: 'gone', clientToken: tok('gone') }));
  await iot.send(new DeletePackageCommand({ packageName: 'gone' }));
  await age(tok('gone'), IDEMPOTENCY_WINDOW_MS + 1);
  await iot.send(new CreatePackageCommand({ packageName: 'gone', clientToken: tok('gone') }));
  assert.equal((await iot.send(new GetPackageCommand({ packageName: 'gone' }))).packageName, 'gone');
});
