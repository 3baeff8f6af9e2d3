// Pure rules of the thing registry (src/domain/things.ts) and the registry ARNs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseArn, thingArn, thingGroupArn, thingTypeArn } from '../src/domain/arn.ts';
import { applyAttributePayload, checkAttributeCount, checkChildDepth, checkMembership, checkThingIndexing, cleanAttributes } from '../src/domain/things.ts';

const scope = { account: '123456789012', region: 'eu-west-1' };

test('registry ARNs are built and parsed back', () => {
  assert.equal(thingArn(scope, 'a:b'), 'arn:aws:iot:eu-west-1:123456789012:thing/a:b');
  assert.deepEqual(parseArn(thingArn(scope, 'a:b')), { scope, resource: { type: 'thing', thingName: 'a:b' } });
  assert.deepEqual(parseArn(thingGroupArn(scope, 'g')), { scope, resource: { type: 'thingGroup', thingGroupName: 'g' } });
  assert.deepEqual(parseArn(thingTypeArn(scope, 't')), { scope, resource: { type: 'thingType', thingTypeName: 't' } });
  assert.equal(parseArn('arn:aws:iot:eu-west-1:123456789012:thing/'), undefined);
});

test('attribute payloads merge (empty removes) or replace; empty values are never stored', () => {
  assert.deepEqual(cleanAttributes({ b: '2', a: '', c: '3' }), { b: '2', c: '3' });
  assert.deepEqual(applyAttributePayload({ a: '1', b: '2' }, { attributes: { b: '', c: '3' }, merge: true }), { a: '1', c: '3' });
  assert.deepEqual(applyAttributePayload({ a: '1' }, { attributes: { z: '9', y: '' } }), { z: '9' });
  assert.deepEqual(applyAttributePayload({ a: '1' }, undefined), { a: '1' });
  assert.deepEqual(applyAttributePayload({ a: '1' }, { merge: true }), { a: '1' });
});

test('attribute counts, hierarchy depth and memberships', () => {
  assert.equal(checkAttributeCount({ a: '1', b: '2', c: '3' }, false).ok, true);
  assert.equal(checkAttributeCount({ a: '1', b: '2', c: '3', d: '4' }, false).ok, false);
  assert.equal(checkAttributeCount({ a: '1', b: '2', c: '3', d: '4' }, true).ok, true);
  assert.equal(checkChildDepth(6).ok, true);
  assert.equal(checkChildDepth(7).ok, false);
  const current = new Map([['child', 'root']]);
  assert.equal(checkMembership(current, 'root', 'root').ok, false);
  assert.equal(checkMembership(current, 'child', 'root').ok, true);
  assert.equal(checkMembership(current, 'other', 'other').ok, true);
  const ten = new Map(Array.from({ length: 10 }, (_, i) => [`g${i}`, `g${i}`] as [string, string]));
  assert.equal(checkMembership(ten, 'g10', 'g10').ok, false);
});

test('indexing mode combinations', () => {
  assert.equal(checkThingIndexing({ thingIndexingMode: 'OFF' }).ok, true);
  assert.equal(checkThingIndexing({ thingIndexingMode: 'OFF', thingConnectivityIndexingMode: 'STATUS' }).ok, false);
  assert.equal(checkThingIndexing({ thingIndexingMode: 'REGISTRY', namedShadowIndexingMode: 'ON' }).ok, false);
  assert.equal(
    checkThingIndexing({ thingIndexingMode: 'REGISTRY_AND_SHADOW', namedShadowIndexingMode: 'ON', filter: { namedShadowNames: ['$package'] } }).ok,
    true,
  );
  assert.equal(checkThingIndexing({ thingIndexingMode: 'REGISTRY_AND_SHADOW', filter: { namedShadowNames: ['$package'] } }).ok, false);
});
