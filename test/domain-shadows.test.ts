// Unit tests of the pure shadow rules (src/domain/shadows.ts), with injected time.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  applyUpdate,
  baseVersionAfterDelete,
  deltaOf,
  getDocument,
  packageVersionsRequest,
  parseTokenRequest,
  parseUpdateRequest,
  ShadowError,
  SHADOW_LIMITS,
  type JsonObject,
  type ShadowState,
} from '../src/domain/shadows.ts';

const T1 = 1_700_000_000_000;
const T2 = T1 + 5_000;
const sec = (ms: number) => Math.floor(ms / 1000);
const req = (doc: unknown, name = '') => parseUpdateRequest(Buffer.from(typeof doc === 'string' ? doc : JSON.stringify(doc)), name);
const update = (current: ShadowState | undefined, doc: unknown, now = T1, name = '') => applyUpdate(current, 0, req(doc, name), now);

function refusal(fn: () => unknown, code: number, message: RegExp) {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ShadowError, `expected a ShadowError, got ${err}`);
    assert.equal(err.code, code);
    assert.match(err.message, message);
    return true;
  });
}

test('a first update creates version 1 with metadata mirroring the state', () => {
  const r = update(undefined, { state: { desired: { color: 'red', lights: { on: true, level: 3 }, list: [1, 2] } }, clientToken: 'tok' });
  assert.equal(r.next.version, 1);
  assert.deepEqual(r.next.state, { desired: { color: 'red', lights: { on: true, level: 3 }, list: [1, 2] } });
  const ts = { timestamp: sec(T1) };
  assert.deepEqual(r.next.metadata, { desired: { color: ts, lights: { on: ts, level: ts }, list: [ts, ts] } });
  assert.deepEqual(r.accepted, {
    state: { desired: { color: 'red', lights: { on: true, level: 3 }, list: [1, 2] } },
    metadata: r.next.metadata,
    version: 1,
    timestamp: sec(T1),
    clientToken: 'tok',
  });
  assert.equal(r.documents.previous, undefined);
  assert.deepEqual(r.documents.current, { state: r.next.state, metadata: r.next.metadata, version: 1 });
  assert.equal(r.documents.clientToken, 'tok');
  assert.deepEqual(r.delta, { version: 1, timestamp: sec(T1), state: r.next.state.desired, metadata: r.next.metadata.desired, clientToken: 'tok' });
});

test('updates merge field by field; null deletes recursively; timestamps move only for written fields', () => {
  const first = update(undefined, { state: { reported: { a: 1, b: { c: 2, d: 3 }, e: [1] } } }).next;
  const r = update(first, { state: { reported: { a: null, b: { c: 5 }, e: ['x', 'y'] } } }, T2);
  assert.equal(r.next.version, 2);
  assert.deepEqual(r.next.state.reported, { b: { c: 5, d: 3 }, e: ['x', 'y'] });
  assert.deepEqual(r.next.metadata.reported, {
    b: { c: { timestamp: sec(T2) }, d: { timestamp: sec(T1) } },
    e: [{ timestamp: sec(T2) }, { timestamp: sec(T2) }],
  });
  // The accepted document echoes the request, nulls included, with metadata for each written field.
  assert.deepEqual(r.accepted.state, { reported: { a: null, b: { c: 5 }, e: ['x', 'y'] } });
  assert.deepEqual((r.accepted.metadata as JsonObject).reported, {
    a: { timestamp: sec(T2) },
    b: { c: { timestamp: sec(T2) } },
    e: [{ timestamp: sec(T2) }, { timestamp: sec(T2) }],
  });
  assert.deepEqual((r.documents.previous as JsonObject).version, 1);
  assert.equal(r.delta, undefined, 'a reported-only update publishes no delta');
  // Deleting the last fields of an object removes it; the last fields of a section remove the section.
  const emptied = update(r.next, { state: { reported: { b: { c: null, d: null }, e: null } } }, T2).next;
  assert.deepEqual(emptied.state, {});
  assert.deepEqual(emptied.metadata, {});
});

test('a section set to null is removed; an object replaces a scalar and a scalar an object', () => {
  const s = update(undefined, { state: { desired: { a: 1 }, reported: { a: { x: 1 } } } }).next;
  const r = update(s, { state: { desired: null, reported: { a: 7 } } }, T2);
  assert.deepEqual(r.next.state, { reported: { a: 7 } });
  assert.deepEqual((r.accepted.metadata as JsonObject).desired, { timestamp: sec(T2) });
  const back = update(r.next, { state: { reported: { a: { y: 2 } } } }, T2).next;
  assert.deepEqual(back.state.reported, { a: { y: 2 } });
  const same = update(back, { state: { reported: { a: {} } } }, T2).next;
  assert.deepEqual(same.state.reported, { a: { y: 2 } }, 'an empty object sets nothing');
});

test('delta: desired fields that reported lacks or differs on, nested paths to the root, arrays as values', () => {
  const desired = { color: 'RED', state: 'STOP', lights: { color: { r: 255, g: 255, b: 255 } }, arr: [1, 2] };
  const reported = { color: 'GREEN', engine: 'ON', lights: { color: { r: 255, g: 0, b: 255 } }, arr: [1, 2] };
  const meta = {
    color: { timestamp: 1 },
    state: { timestamp: 2 },
    lights: { color: { r: { timestamp: 3 }, g: { timestamp: 4 }, b: { timestamp: 5 } } },
    arr: [{ timestamp: 6 }, { timestamp: 6 }],
  };
  const d = deltaOf(desired, reported, meta)!;
  assert.deepEqual(d.state, { color: 'RED', state: 'STOP', lights: { color: { g: 255 } } });
  assert.deepEqual(d.metadata, { color: { timestamp: 1 }, state: { timestamp: 2 }, lights: { color: { g: { timestamp: 4 } } } });
  assert.equal(deltaOf({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] }, {}), undefined);
  assert.deepEqual(deltaOf({ a: [1, 2] }, { a: [2, 1] }, {})!.state, { a: [1, 2] });
  assert.equal(deltaOf(undefined, { a: 1 }, undefined), undefined);
});

test('the get document carries the delta only when desired and reported differ', () => {
  const s = update(undefined, { state: { desired: { a: 1 }, reported: { a: 2, b: 3 } } }).next;
  const doc = getDocument(s, T2, 'tk');
  assert.deepEqual(doc.state, { desired: { a: 1 }, reported: { a: 2, b: 3 }, delta: { a: 1 } });
  assert.equal(doc.clientToken, 'tk');
  assert.equal(doc.timestamp, sec(T2));
  const synced = update(s, { state: { reported: { a: 1 } } }, T2).next;
  assert.equal((getDocument(synced, T2).state as JsonObject).delta, undefined);
});

test('versions: an expected version must match the current one; a missing shadow has none', () => {
  const s = update(undefined, { state: { reported: { a: 1 } } }).next;
  assert.equal(update(s, { state: { reported: { a: 2 } }, version: 1 }).next.version, 2);
  refusal(() => update(s, { state: { reported: { a: 2 } }, version: 5 }), 409, /^Version conflict$/);
  refusal(() => update(undefined, { state: { reported: { a: 2 } }, version: 1 }), 409, /^Version conflict$/);
  assert.equal(applyUpdate(undefined, 7, req({ state: {} }), T1).next.version, 8, 'a recently deleted shadow carries its version on');
  assert.equal(baseVersionAfterDelete(7, T1, T1 + SHADOW_LIMITS.versionMemoryMs), 7);
  assert.equal(baseVersionAfterDelete(7, T1, T1 + SHADOW_LIMITS.versionMemoryMs + 1), 0);
});

test('request validation answers AWS messages', () => {
  refusal(() => req('{nope'), 400, /^Payload contains invalid json$/);
  refusal(() => req('[1]'), 400, /^Payload contains invalid json$/);
  refusal(() => req({ clientToken: 'x' }), 400, /^Missing required node: state$/);
  refusal(() => req({ state: 5 }), 400, /^State node must be an object$/);
  refusal(() => req({ state: { desired: 'x' } }), 400, /^Desired node must be an object$/);
  refusal(() => req({ state: { reported: [1] } }), 400, /^Reported node must be an object$/);
  refusal(() => req({ state: { delta: {} } }), 400, /^State contains an invalid node/);
  refusal(() => req({ state: {}, version: 'x' }), 400, /^Invalid version$/);
  refusal(() => req({ state: {}, version: 1.5 }), 400, /^Invalid version$/);
  refusal(() => req({ state: {}, clientToken: 'x'.repeat(65) }), 400, /^Invalid clientToken$/);
  refusal(() => req({ state: {}, clientToken: 5 }), 400, /^Invalid clientToken$/);
  refusal(() => req({ state: { desired: { a: [null, 1] } } }), 400, /^State contains an invalid node/);
  refusal(() => parseUpdateRequest(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), ''), 415, /UTF-8/);
  refusal(() => parseUpdateRequest(Buffer.alloc(SHADOW_LIMITS.payloadBytes + 1, 0x20), ''), 413, /^The payload exceeds the maximum size allowed$/);
  assert.deepEqual(req({ state: {}, clientToken: 'x'.repeat(64), extra: 1 }).clientToken, 'x'.repeat(64));
  assert.deepEqual(parseTokenRequest(Buffer.alloc(0)), {});
  assert.deepEqual(parseTokenRequest(Buffer.from('{"clientToken":"c"}')), { clientToken: 'c' });
  refusal(() => parseTokenRequest(Buffer.from('{')), 400, /invalid json/);
});

test('depth: six levels inside a section pass, seven are refused; arrays count as a level', () => {
  const nest = (levels: number): JsonObject => (levels === 1 ? { k: 1 } : { k: nest(levels - 1) });
  assert.ok(req({ state: { desired: nest(6) } }));
  refusal(() => req({ state: { reported: nest(7) } }), 400, /^JSON contains too many levels of nesting; maximum is 6$/);
  assert.ok(req({ state: { desired: { a: { b: { c: { d: { e: [1] } } } } } } }));
  refusal(() => req({ state: { desired: { a: { b: { c: { d: { e: { f: [1] } } } } } } } }), 400, /too many levels/);
});

test('size: each section may hold 8 KB of compact JSON after the merge; metadata and whitespace do not count', () => {
  const key = (n: number) => `k${String(n).padStart(3, '0')}`;
  // {"k000":"vvvv…",…}: 100 fields of 70 value bytes each stay under 8192 bytes, and indented JSON is fine.
  const fields = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [key(i), 'v'.repeat(70)]));
  assert.ok(Buffer.byteLength(JSON.stringify(fields)) <= 8192);
  const s = applyUpdate(undefined, 0, parseUpdateRequest(Buffer.from(JSON.stringify({ state: { desired: fields, reported: fields } }, null, 4)), ''), T1).next;
  refusal(() => update(s, { state: { desired: { more: 'x'.repeat(200) } } }), 413, /^The payload exceeds the maximum size allowed$/);
  // Exactly at the limit passes: {"a":"…"} is 8 bytes of syntax.
  assert.ok(update(undefined, { state: { reported: { a: 'x'.repeat(8192 - 8) } } }));
  refusal(() => update(undefined, { state: { reported: { a: 'x'.repeat(8192 - 7) } } }), 413, /exceeds/);
  // Multi-byte characters count as bytes.
  refusal(() => update(undefined, { state: { reported: { a: 'é'.repeat(4100) } } }), 413, /exceeds/);
});

test('$package accepts only reported packages of version and attributes', () => {
  const pkg = (doc: unknown) => req(doc, '$package');
  assert.ok(pkg({ state: { reported: { firmware: { version: '1.0.0', attributes: { os: 'linux' } }, old: null } } }));
  refusal(() => pkg({ state: { desired: { firmware: { version: '2' } } } }), 400, /only a reported section/);
  refusal(() => pkg({ state: { reported: { firmware: { version: '1', description: 'x' } } } }), 400, /only version and attributes, not description/);
  refusal(() => pkg({ state: { reported: { firmware: '1.0.0' } } }), 400, /must be an object/);
  refusal(() => pkg({ state: { reported: { firmware: { version: 1 } } } }), 400, /version must be a string/);
  refusal(() => pkg({ state: { reported: { firmware: { attributes: { a: 1 } } } } }), 400, /attributes must map names to strings/);
  // The same document is fine on any other shadow.
  assert.ok(req({ state: { reported: { firmware: { version: 1, description: 'x' } } } }, 'other'));
});

test('packageVersionsRequest merges versions and removes null packages, leaving siblings alone', () => {
  const s = update(
    undefined,
    { state: { reported: { a: { version: '1', attributes: { os: 'x' } }, b: { version: '1' }, c: { version: '9' } } } },
    T1,
    '$package',
  ).next;
  const r = applyUpdate(s, 0, packageVersionsRequest({ a: '2', b: null, d: '1' }), T2);
  assert.deepEqual(r.next.state.reported, { a: { version: '2', attributes: { os: 'x' } }, c: { version: '9' }, d: { version: '1' } });
});
