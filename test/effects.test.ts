// The effects table and its runner: effects recorded in a transaction run after it commits, in order per subject,
// merged when their kind coalesces, retried when a handler fails, and kept as dead after the last attempt.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import { EffectRunner } from '../src/engine/effects.ts';
import { effects, type ClaimedEffect } from '../src/store/effects.ts';
import { Store } from '../src/store/store.ts';
import { createTestDatabase, eventually } from './support/server.ts';

const scope = { account: '000000000000', region: 'us-east-1' };
let store: Store;
let drop: () => Promise<void>;

before(async () => {
  const db = await createTestDatabase(mkdtempSync(join(tmpdir(), 'flotilla-effects-')));
  drop = db.drop;
  store = await Store.open(db.url);
});
after(async () => {
  await store.close();
  await drop();
});

test('coalescing kinds keep one waiting row per subject; others keep every row, claimed one at a time per subject', async () => {
  await store.transaction(async (tx) => {
    await effects.emit(tx, scope, [{ kind: 'device.jobs-changed', subject: 'thing-a', payload: {} }]);
    await effects.emit(tx, scope, [{ kind: 'device.jobs-changed', subject: 'thing-a', payload: {} }]);
    await effects.publish(tx, scope, 't/1', { n: 1 });
    await effects.publish(tx, scope, 't/1', { n: 2 });
    await effects.publish(tx, scope, 't/2', { n: 3 });
  });
  assert.deepEqual(await effects.counts(store.db), { pending: 4, dead: 0 });
  const first = await effects.claim(store.db, store.dialect, Date.now(), 100, 60_000);
  const shown = first.map((e) => `${e.kind}:${e.subject}:${e.kind === 'mqtt.publish' ? (e.payload as { payload: string }).payload : ''}`);
  assert.deepEqual(shown, ['device.jobs-changed:thing-a:', 'mqtt.publish:t/1:{"n":1}', 'mqtt.publish:t/2:{"n":3}']);
  // A change after the claim needs a run of its own: it gets a new waiting row.
  await effects.emit(store.db, scope, [{ kind: 'device.jobs-changed', subject: 'thing-a', payload: {} }]);
  assert.deepEqual(await effects.claim(store.db, store.dialect, Date.now(), 100, 60_000), []);
  await effects.done(
    store.db,
    first.map((e) => e.id),
  );
  const second = await effects.claim(store.db, store.dialect, Date.now(), 100, 60_000);
  assert.deepEqual(
    second.map((e) => e.subject),
    ['t/1', 'thing-a'],
  );
  await effects.done(
    store.db,
    second.map((e) => e.id),
  );
  assert.deepEqual(await effects.counts(store.db), { pending: 0, dead: 0 });
});

test('a rolled-back transaction leaves no effect; the runner carries out committed ones after the commit hook', async () => {
  const seen: string[] = [];
  let failOnce = true;
  const runner = new EffectRunner({
    store,
    log: pino({ level: 'silent' }),
    handlers: {
      'mqtt.publish': async (e: ClaimedEffect<'mqtt.publish'>) => {
        if (e.payload.topic === 'flaky' && failOnce) {
          failOnce = false;
          throw new Error('broker away');
        }
        seen.push(e.payload.payload);
      },
    },
  });
  store.afterCommit(runner.wake);
  await runner.start();
  try {
    await assert.rejects(
      store.transaction(async (tx) => {
        await effects.publish(tx, scope, 'x', 'lost');
        throw new Error('abort');
      }),
    );
    await store.transaction((tx) => effects.publish(tx, scope, 'x', 'one'));
    await store.transaction((tx) => effects.publish(tx, scope, 'x', 'two'));
    await store.transaction((tx) => effects.publish(tx, scope, 'flaky', 'retried'));
    await eventually(async () => assert.deepEqual(seen, ['one', 'two', 'retried']), 5000);
    await eventually(async () => assert.deepEqual(await effects.counts(store.db), { pending: 0, dead: 0 }));
  } finally {
    await runner.stop();
  }
});

test('an effect that keeps failing is kept as dead with its reason, and no longer claimed', async () => {
  await effects.publish(store.db, scope, 'doomed', 'x');
  const [row] = await effects.claim(store.db, store.dialect, Date.now(), 10, 60_000);
  await effects.failed(store.db, row!.id, 'gave up', Date.now(), true);
  assert.deepEqual(await effects.counts(store.db), { pending: 0, dead: 1 });
  assert.deepEqual(await effects.claim(store.db, store.dialect, Date.now() + 10_000_000, 10, 60_000), []);
  const dead = await store.db.selectFrom('effects').select(['last_error', 'attempts']).where('id', '=', row!.id).executeTakeFirstOrThrow();
  assert.deepEqual(dead, { last_error: 'gave up', attempts: 1 });
});
