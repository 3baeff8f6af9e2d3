// The shadow topic handler against a real store (no broker): replies on /accepted and /rejected, and the /delta and
// /documents messages it leaves in the effects table, published after the commit. Malformed input never throws.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { OutgoingMessage } from '../src/bus/types.ts';
import { shadowTopicHandler } from '../src/services/shadows-mqtt.ts';
import { Store } from '../src/store/store.ts';
import { createTestDatabase } from './support/server.ts';

const scope = { account: '000000000000', region: 'us-east-1' };
let store: Store;
let dir: string;
let drop: () => Promise<void>;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'flotilla-shadow-topics-'));
  const database = await createTestDatabase(dir);
  drop = database.drop;
  store = await Store.open(database.url);
});
after(async () => {
  await store.close();
  await drop();
  rmSync(dir, { recursive: true, force: true });
});

const handler = () => shadowTopicHandler({ store });
const send = (topic: string, payload: unknown) =>
  handler().handle({
    clientId: 'c',
    scope,
    topic,
    payload: Buffer.isBuffer(payload) ? payload : Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload)),
  });
const only = (replies: OutgoingMessage[]) => {
  assert.equal(replies.length, 1);
  return { topic: replies[0].topic, doc: JSON.parse(String(replies[0].payload)) };
};

/** The MQTT messages waiting in the effects table, oldest first, and removes them. */
async function published(): Promise<Array<{ topic: string; doc: any }>> {
  const rows = await store.db.selectFrom('effects').selectAll().where('kind', '=', 'mqtt.publish').orderBy('id').execute();
  await store.db.deleteFrom('effects').execute();
  return rows.map((r) => {
    const p = JSON.parse(r.payload);
    return { topic: p.topic, doc: JSON.parse(p.payload) };
  });
}

test('accepts only the shadow request topics', () => {
  const h = handler();
  for (const t of ['$aws/things/a/shadow/get', '$aws/things/a/shadow/update', '$aws/things/a/shadow/delete', '$aws/things/a/shadow/name/n/update'])
    assert.ok(h.accepts(t), t);
  for (const t of [
    '$aws/things/a/shadow/get/accepted',
    '$aws/things/a/shadow/update/delta',
    '$aws/things/a/jobs/get',
    'a/shadow/get',
    '$aws/things/a/shadow/name/n',
  ])
    assert.ok(!h.accepts(t), t);
});

test('update → /update/accepted reply; /delta and /documents follow as effects; get echoes clientToken', async () => {
  await published();
  const r = only(await send('$aws/things/t1/shadow/update', { state: { desired: { led: 'on' } }, clientToken: 'abc' }));
  assert.equal(r.topic, '$aws/things/t1/shadow/update/accepted');
  assert.equal(r.doc.version, 1);
  assert.equal(r.doc.clientToken, 'abc');
  const effects = await published();
  assert.deepEqual(
    effects.map((e) => e.topic),
    ['$aws/things/t1/shadow/update/delta', '$aws/things/t1/shadow/update/documents'],
  );
  assert.deepEqual(effects[0].doc.state, { led: 'on' });
  assert.equal(effects[0].doc.clientToken, 'abc');
  assert.deepEqual(effects[1].doc.current.state, { desired: { led: 'on' } });
  assert.equal(effects[1].doc.previous, undefined);

  // A report that matches: no delta, documents with previous and current.
  only(await send('$aws/things/t1/shadow/update', { state: { reported: { led: 'on' } } }));
  const second = await published();
  assert.deepEqual(
    second.map((e) => e.topic),
    ['$aws/things/t1/shadow/update/documents'],
  );
  assert.equal(second[0].doc.previous.version, 1);
  assert.equal(second[0].doc.current.version, 2);

  const g = only(await send('$aws/things/t1/shadow/get', { clientToken: 'g1' }));
  assert.equal(g.topic, '$aws/things/t1/shadow/get/accepted');
  assert.deepEqual(g.doc.state, { desired: { led: 'on' }, reported: { led: 'on' } });
  assert.equal(g.doc.clientToken, 'g1');
  assert.equal(only(await send('$aws/things/t1/shadow/get', '')).doc.version, 2);
});

test('named shadows answer on their own topics; delete then get is rejected with 404', async () => {
  only(await send('$aws/things/t2/shadow/name/cfg/update', { state: { reported: { a: 1 } } }));
  await published();
  const d = only(await send('$aws/things/t2/shadow/name/cfg/delete', { clientToken: 'd' }));
  assert.equal(d.topic, '$aws/things/t2/shadow/name/cfg/delete/accepted');
  assert.deepEqual(Object.keys(d.doc).sort(), ['clientToken', 'timestamp', 'version']);
  assert.equal(d.doc.version, 1);
  const g = only(await send('$aws/things/t2/shadow/name/cfg/get', ''));
  assert.equal(g.topic, '$aws/things/t2/shadow/name/cfg/get/rejected');
  assert.equal(g.doc.code, 404);
  assert.equal(g.doc.message, "No shadow exists with name: 't2~cfg'");
  assert.equal(typeof g.doc.timestamp, 'number');
  assert.deepEqual(await published(), [], 'MQTT deletes and refusals publish nothing else');
});

test('malformed payloads get AWS error documents on /rejected, never a throw, and write nothing', async () => {
  const cases: Array<[string, unknown, number, RegExp]> = [
    ['$aws/things/t3/shadow/update', '{oops', 400, /^Payload contains invalid json$/],
    ['$aws/things/t3/shadow/update', '', 400, /^Payload contains invalid json$/],
    ['$aws/things/t3/shadow/update', { clientToken: 'tok' }, 400, /^Missing required node: state$/],
    ['$aws/things/t3/shadow/update', { state: { desired: { x: 1 } }, version: 9, clientToken: 'tok' }, 409, /^Version conflict$/],
    ['$aws/things/t3/shadow/update', { state: { reported: { x: 'y'.repeat(8200) } } }, 413, /exceeds the maximum size/],
    ['$aws/things/t3/shadow/update', Buffer.from([0xff, 0xfe]), 415, /UTF-8/],
    ['$aws/things/t3/shadow/get', '{', 400, /invalid json/],
    ['$aws/things/t3/shadow/delete', '', 404, /No shadow exists with name: 't3'/],
    ['$aws/things/t3/shadow/name/$package/update', { state: { desired: { a: { version: '1' } } } }, 400, /only a reported section/],
    ['$aws/things/t%3/shadow/update', { state: {} }, 400, /Invalid thing name/],
  ];
  for (const [topic, payload, code, message] of cases) {
    const r = only(await send(topic, payload));
    assert.ok(r.topic.endsWith('/rejected'), `${topic}: ${r.topic}`);
    assert.equal(r.doc.code, code, `${topic} ${String(payload).slice(0, 40)}`);
    assert.match(r.doc.message, message);
    if (typeof payload === 'object' && payload && 'clientToken' in payload) assert.equal(r.doc.clientToken, 'tok');
  }
  assert.deepEqual(await published(), []);
  assert.equal(only(await send('$aws/things/t3/shadow/get', '')).doc.code, 404);
});
