// Unit tests of the pure catalog rules: lifecycle, editability, attribute size, ARNs, page tokens.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { packageArn, packageVersionArn, parseArn } from '../src/domain/arn.ts';
import { decodePageToken, encodePageToken, pageOf } from '../src/domain/pagination.ts';
import {
  applyAction,
  attributesSize,
  canBeDefault,
  checkAttributesSize,
  checkEditable,
  MAX_ATTRIBUTES_BYTES,
  type VersionAction,
  type VersionStatus,
} from '../src/domain/package-version.ts';

test('every lifecycle cell: PUBLISH from any state, DEPRECATE only once published, nothing back to DRAFT', () => {
  const table: [VersionStatus, VersionAction, VersionStatus | 'refused'][] = [
    ['DRAFT', 'PUBLISH', 'PUBLISHED'],
    ['DRAFT', 'DEPRECATE', 'refused'],
    ['PUBLISHED', 'PUBLISH', 'PUBLISHED'],
    ['PUBLISHED', 'DEPRECATE', 'DEPRECATED'],
    ['DEPRECATED', 'PUBLISH', 'PUBLISHED'],
    ['DEPRECATED', 'DEPRECATE', 'DEPRECATED'],
  ];
  for (const [from, action, expected] of table) {
    const result = applyAction(from, action);
    assert.equal(result.ok ? result.value : 'refused', expected, `${from} + ${action}`);
    if (!result.ok) assert.match(result.reason, /DRAFT/);
  }
});

test('attributes and artifact are editable only in DRAFT; other fields always', () => {
  for (const status of ['DRAFT', 'PUBLISHED', 'DEPRECATED'] as const) {
    assert.equal(checkEditable(status, {}).ok, true);
    assert.equal(checkEditable(status, { attributes: { a: 'b' } }).ok, status === 'DRAFT');
    assert.equal(checkEditable(status, { artifact: {} }).ok, status === 'DRAFT');
  }
  const refused = checkEditable('PUBLISHED', { attributes: {}, artifact: {} });
  assert.equal(refused.ok, false);
  assert.match(!refused.ok ? refused.reason : '', /attributes and artifact.*PUBLISHED/);
});

test('attribute size counts UTF-8 bytes of keys and values, up to 3072 inclusive', () => {
  assert.equal(attributesSize({ ab: 'cd', é: 'ü' }), 2 + 2 + 2 + 2);
  assert.equal(checkAttributesSize(undefined).ok, true);
  assert.equal(checkAttributesSize({ k: 'v'.repeat(MAX_ATTRIBUTES_BYTES - 1) }).ok, true);
  const over = checkAttributesSize({ k: 'v'.repeat(MAX_ATTRIBUTES_BYTES) });
  assert.equal(over.ok, false);
  assert.match(!over.ok ? over.reason : '', /3073 bytes/);
});

test('only PUBLISHED or DEPRECATED versions can be the default', () => {
  assert.equal(canBeDefault('DRAFT').ok, false);
  assert.equal(canBeDefault('PUBLISHED').ok, true);
  assert.equal(canBeDefault('DEPRECATED').ok, true);
});

test('ARNs round-trip and foreign ARNs are not ours', () => {
  const scope = { account: '123456789012', region: 'eu-west-1' };
  assert.equal(packageArn(scope, 'fw'), 'arn:aws:iot:eu-west-1:123456789012:package/fw');
  assert.deepEqual(parseArn(packageArn(scope, 'fw')), { scope, resource: { type: 'package', packageName: 'fw' } });
  assert.deepEqual(parseArn(packageVersionArn(scope, 'fw', '1.0.0')), {
    scope,
    resource: { type: 'packageVersion', packageName: 'fw', versionName: '1.0.0' },
  });
  for (const foreign of [
    'arn:aws:s3:::bucket',
    'arn:aws:iot:r:a:package/',
    'arn:aws:iot:r:a:package/p/version/',
    'not an arn',
    'arn:aws:iot:r:a:package/p/x/v',
  ]) {
    assert.equal(parseArn(foreign), undefined, foreign);
  }
});

test('page tokens are opaque, bound to their listing, and refuse garbage', () => {
  const token = encodePageToken('packages', ['b']);
  assert.deepEqual(decodePageToken('packages', token), ['b']);
  assert.equal(decodePageToken('versions/p/', token), undefined);
  for (const garbage of ['', 'zzz', Buffer.from('{"v":1,"l":"packages","a":[1]}').toString('base64url'), Buffer.from('null').toString('base64url')]) {
    assert.equal(decodePageToken('packages', garbage), undefined, garbage);
  }
});

test('pageOf gives a token only when more rows exist than the page holds', () => {
  const rows = ['a', 'b', 'c'];
  assert.deepEqual(
    pageOf(rows, 3, 'l', (r) => [r]),
    { items: rows },
  );
  const page = pageOf(rows, 2, 'l', (r) => [r]);
  assert.deepEqual(page.items, ['a', 'b']);
  assert.deepEqual(decodePageToken('l', page.nextToken!), ['b']);
});
