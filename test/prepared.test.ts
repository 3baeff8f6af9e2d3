// Queries compiled once (src/store/prepared.ts): each call runs with its own values in their places, with constants
// kept, on the database or inside a transaction (which sees its own uncommitted rows), on either store.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { prepared } from '../src/store/prepared.ts';
import { Store } from '../src/store/store.ts';
import { createTestDatabase } from './support/server.ts';

let store: Store;
let drop: () => Promise<void>;

before(async () => {
  const db = await createTestDatabase(mkdtempSync(join(tmpdir(), 'flotilla-prepared-')));
  drop = db.drop;
  store = await Store.open(db.url);
});
after(async () => {
  await store.close();
  await drop();
});

const row = (account: string, name: string, created_at: number) => ({
  account,
  region: 'us-east-1',
  name,
  arn: `arn:${account}:${name}`,
  description: null,
  default_version: null,
  created_at,
  updated_at: created_at,
});

const byName = prepared((db, p: { account: string; region: string; name: string }) =>
  db.selectFrom('packages').select(['name', 'account']).where('account', '=', p.account).where('region', '=', p.region).where('name', '=', p.name),
);
/** A constant among the parameters: only rows created after 100 (a fixed value, not one of p's). */
const newerThan100 = prepared((db, p: { account: string; after: string }) =>
  db.selectFrom('packages').select('name').where('created_at', '>', 100).where('account', '=', p.account).where('name', '>', p.after).orderBy('name'),
);

test('a prepared query binds each call its own values, in their places, and keeps its constants', async () => {
  await store.db
    .insertInto('packages')
    .values([row('111111111111', 'a', 50), row('111111111111', 'b', 150), row('111111111111', 'c', 150), row('222222222222', 'a', 150)])
    .execute();
  assert.deepEqual(await byName(store.db, { account: '111111111111', region: 'us-east-1', name: 'a' }), [{ name: 'a', account: '111111111111' }]);
  assert.deepEqual(await byName(store.db, { account: '222222222222', region: 'us-east-1', name: 'a' }), [{ name: 'a', account: '222222222222' }]);
  assert.deepEqual(await byName(store.db, { account: '222222222222', region: 'eu-west-1', name: 'a' }), []);
  assert.deepEqual(await newerThan100(store.db, { account: '111111111111', after: '' }), [{ name: 'b' }, { name: 'c' }]);
  assert.deepEqual(await newerThan100(store.db, { account: '111111111111', after: 'b' }), [{ name: 'c' }]);
});

test('inside a transaction a prepared query sees the transaction’s own rows; others see them after the commit only', async () => {
  const key = { account: '333333333333', region: 'us-east-1', name: 'tx' };
  await assert.rejects(
    store.transaction(async (tx) => {
      await tx
        .insertInto('packages')
        .values(row(key.account, key.name, 1))
        .execute();
      assert.deepEqual(await byName(tx, key), [{ name: 'tx', account: key.account }]);
      throw new Error('roll back');
    }),
    /roll back/,
  );
  assert.deepEqual(await byName(store.db, key), []);
  await store.transaction(async (tx) => {
    await tx
      .insertInto('packages')
      .values(row(key.account, key.name, 1))
      .execute();
  });
  assert.deepEqual(await byName(store.db, key), [{ name: 'tx', account: key.account }]);
});
