// Job document substitution: every placeholder kind, the destinationPackageVersions checks, and per-fetch
// presigning with an injected signer.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  bindExecutionVariables,
  checkDocumentMatchesDestinations,
  needsPresigning,
  parsePlaceholder,
  renderForDevice,
  resolveAtCreate,
  resolveDestinations,
  scanPlaceholders,
  type CatalogView,
  type CreateContext,
  type PackageVersionView,
  type PresignRequest,
} from '../src/domain/jobs/document.ts';
import { parseS3Url } from '../src/domain/jobs/s3-url.ts';

const ARN = 'arn:aws:iot:eu-west-1:123456789012:package/';
const vArn = (pkg: string, ver: string) => `${ARN}${pkg}/version/${ver}`;
const DEFAULTS: Record<string, string> = { app: '2.0.0', os: '5.1' };
const VERSIONS: Record<string, PackageVersionView> = {
  'app@1.0.0': { attributes: { channel: 'stable', 'build:id': '17' } },
  'app@2.0.0': { attributes: { channel: 'beta', note: 'say "hi"' }, artifact: { bucket: 'pkgs', key: 'app/2.0.0.tgz', versionId: 'v9' } },
  'os@5.1': { attributes: {} },
};
const catalog: CatalogView = {
  defaultVersion: (p) => DEFAULTS[p],
  version: (p, v) => VERSIONS[`${p}@${v}`],
};

/** A signer that notes each request in `seen` and answers `url`. */
function recordingSigner(seen: PresignRequest[], url = 'u'): (req: PresignRequest) => string {
  return (req) => {
    seen.push(req);
    return url;
  };
}

function created(document: string, ctx: CreateContext) {
  const r = resolveAtCreate(document, { catalog, ...ctx });
  assert.ok(r.ok, r.ok ? '' : r.errors.join('; '));
  return r;
}
function errorsOf(document: string, ctx: CreateContext): string[] {
  const r = resolveAtCreate(document, { catalog, ...ctx });
  assert.equal(r.ok, false);
  return r.ok ? [] : r.errors;
}

test('parameter: escaped inside a JSON string, raw outside one', () => {
  const doc = '{"url":"${aws:iot:parameter:downloadUrl}","n":${aws:iot:parameter:count}}';
  const r = created(doc, { documentParameters: { downloadUrl: 'https://x/"a"\\b', count: '3' } });
  assert.equal(r.document, '{"url":"https://x/\\"a\\"\\\\b","n":3}');
  assert.deepEqual(JSON.parse(r.document), { url: 'https://x/"a"\\b', n: 3 });
});

test('parameter: missing value is an error; without documentParameters the placeholder stays', () => {
  assert.match(errorsOf('"${aws:iot:parameter:filePath}"', { documentParameters: {} })[0], /no value for 'filePath'/);
  assert.equal(created('"${aws:iot:parameter:filePath}"', {}).document, '"${aws:iot:parameter:filePath}"');
  assert.match(errorsOf('"${aws:iot:parameter:bad name}"', {})[0], /parameter name/);
});

test('package attribute: one key (keys may hold colons), in and out of strings', () => {
  const r = created('{"c":"${aws:iot:package:app:version:1.0.0:attributes:channel}","b":${aws:iot:package:app:version:1.0.0:attributes:build:id}}', {});
  assert.deepEqual(JSON.parse(r.document), { c: 'stable', b: 17 });
  assert.deepEqual(r.referenced, [{ packageName: 'app', versionName: '1.0.0' }]);
});

test('package attributes: the whole map as a JSON object, or as JSON text inside a string', () => {
  const bare = created('{"a":${aws:iot:package:app:version:2.0.0:attributes}}', {});
  assert.deepEqual(JSON.parse(bare.document), { a: { channel: 'beta', note: 'say "hi"' } });
  const quoted = created('{"a":"${aws:iot:package:app:version:2.0.0:attributes}"}', {});
  assert.deepEqual(JSON.parse(JSON.parse(quoted.document).a), { channel: 'beta', note: 'say "hi"' });
});

test('package attributes: $default resolves to the current default version', () => {
  const r = created('"${aws:iot:package:app:version:$default:attributes:channel}"', {});
  assert.equal(r.document, '"beta"');
  assert.deepEqual(r.referenced, [{ packageName: 'app', versionName: '2.0.0' }]);
});

test('package attributes: unknown package, version, attribute or default are errors', () => {
  assert.match(errorsOf('"${aws:iot:package:app:version:9.9:attributes}"', {})[0], /no version '9.9'/);
  assert.match(errorsOf('"${aws:iot:package:app:version:1.0.0:attributes:missing}"', {})[0], /no attribute 'missing'/);
  assert.match(errorsOf('"${aws:iot:package:nopkg:version:$default:attributes}"', {})[0], /no default version/);
  assert.match(errorsOf('"${aws:iot:package:app:version::attributes}"', {})[0], /both given or both empty/);
  assert.match(errorsOf('"${aws:iot:package:app:version:1.0.0:sbom}"', {})[0], /unknown package field 'sbom'/);
  assert.match(errorsOf('"${aws:iot:package:a b:version:1:attributes}"', {})[0], /not a valid package name/);
});

test('empty names are filled from the single destination ARN ($default resolved first)', () => {
  const r = created('"${aws:iot:package::version::attributes:channel}"', { destinationPackageVersions: [vArn('app', '$default')] });
  assert.equal(r.document, '"beta"');
  assert.deepEqual(r.destinationPackageVersions, [vArn('app', '2.0.0')]);
});

test('empty names need exactly one destination that names a version', () => {
  for (const destinationPackageVersions of [[], [vArn('app', '1.0.0'), vArn('os', '5.1')], [vArn('app', '$null')]]) {
    assert.match(errorsOf('"${aws:iot:package::version::attributes}"', { destinationPackageVersions })[0], /exactly one/);
  }
});

test('document and destinationPackageVersions must name the same version', () => {
  const doc = '"${aws:iot:package:app:version:1.0.0:attributes:channel}"';
  assert.match(
    errorsOf(doc, { destinationPackageVersions: [vArn('app', '2.0.0')] })[0],
    /app version 1.0.0 but destinationPackageVersions names version 2.0.0/,
  );
  assert.match(errorsOf(doc, { destinationPackageVersions: [vArn('os', '5.1')] })[0], /package 'app', which destinationPackageVersions does not name/);
  assert.equal(created(doc, { destinationPackageVersions: [vArn('app', '1.0.0'), vArn('os', '5.1')] }).ok, true, 'extra destinations are fine');
  assert.equal(created(doc, { destinationPackageVersions: [vArn('app', '$default'), vArn('app', '1.0.0')] }).ok, true);
  assert.deepEqual(checkDocumentMatchesDestinations([{ packageName: 'app', versionName: '1' }], []), [], 'nothing to compare');
});

test('destinations: $default resolved, $null kept, non-version ARNs refused', () => {
  assert.deepEqual(resolveDestinations([vArn('os', '$default'), vArn('app', '$null')], catalog), {
    arns: [vArn('os', '5.1'), vArn('app', '$null')],
    errors: [],
  });
  assert.match(resolveDestinations([`${ARN}app`], catalog).errors[0], /not a package version ARN/);
  assert.match(resolveDestinations([vArn('zzz', '$default')], catalog).errors[0], /no default version/);
});

test('artifact location: names made concrete at CreateJob, signed from the artifact on each fetch', () => {
  const r = created('{"u":"${aws:iot:package:app:version:$default:artifact-location:s3-presigned-url}"}', {});
  assert.equal(r.document, '{"u":"${aws:iot:package:app:version:2.0.0:artifact-location:s3-presigned-url}"}');
  const seen: PresignRequest[] = [];
  const out = renderForDevice(r.document, {
    presign: recordingSigner(seen, 'https://signed/1'),
    artifactOf: (ref) => catalog.version(ref.packageName, ref.versionName)?.artifact,
  });
  assert.equal(out.document, '{"u":"https://signed/1"}');
  assert.deepEqual(seen, [{ method: 'GET', location: { bucket: 'pkgs', key: 'app/2.0.0.tgz', versionId: 'v9' } }]);
  assert.match(errorsOf('"${aws:iot:package:app:version:1.0.0:artifact-location:s3-presigned-url}"', {})[0], /has no artifact/);
});

test('presigned v1: bucket and key from a path-style URL, the key taken as written', () => {
  const p = parsePlaceholder('aws:iot:s3-presigned-url:https://s3.us-west-2.amazonaws.com/my-bucket/fw/a%20b v1.bin');
  assert.deepEqual(p, { kind: 'presignedUrl', form: 'v1', location: { bucket: 'my-bucket', key: 'fw/a%20b v1.bin' } });
});

test('presigned v2: the URL is percent-encoded and may carry a versionId', () => {
  const url = encodeURIComponent('https://my-bucket.s3.eu-west-1.amazonaws.com/fw/a%20b.bin?versionId=abc%2B1');
  assert.deepEqual(parsePlaceholder(`aws:iot:s3-presigned-url-v2:${url}`), {
    kind: 'presignedUrl',
    form: 'v2',
    location: { bucket: 'my-bucket', key: 'fw/a b.bin', versionId: 'abc+1' },
  });
});

test('presigned placeholders stay through CreateJob and are signed on every fetch', () => {
  const doc =
    '{"get":"${aws:iot:s3-presigned-url:https://s3.amazonaws.com/b/k}","v2":"${aws:iot:s3-presigned-url-v2:https%3A%2F%2Fs3.amazonaws.com%2Fb%2Fk2}"}';
  assert.equal(created(doc, {}).document, doc);
  assert.equal(needsPresigning(doc), true);
  let n = 0;
  const out = renderForDevice(doc, { presign: (req) => `https://signed/${req.location?.key}?n=${++n}` });
  assert.deepEqual(JSON.parse(out.document), { get: 'https://signed/k?n=1', v2: 'https://signed/k2?n=2' });
  assert.deepEqual(out.unresolved, []);
});

test('upload: execution variables bound at execution creation, then signed as a PUT', () => {
  const doc =
    '{"log":"${aws:iot:s3-presigned-url-upload:https://s3.us-east-1.amazonaws.com/logs/${thingName}/${jobId}-${executionNumber}/${thingName}.txt}","x":"${thingName}"}';
  assert.equal(created(doc, {}).document, doc);
  const bound = bindExecutionVariables(doc, { thingName: 'pump-7', jobId: 'job1', executionNumber: '3' });
  assert.equal(bound, '{"log":"${aws:iot:s3-presigned-url-upload:https://s3.us-east-1.amazonaws.com/logs/pump-7/job1-3/pump-7.txt}","x":"${thingName}"}');
  const seen: PresignRequest[] = [];
  renderForDevice(bound, { presign: recordingSigner(seen) });
  assert.deepEqual(seen, [{ method: 'PUT', location: { bucket: 'logs', key: 'pump-7/job1-3/pump-7.txt' } }]);
});

test('upload: variables at most twice each, never in the bucket, no others', () => {
  const up = (url: string) => parsePlaceholder(`aws:iot:s3-presigned-url-upload:${url}`);
  assert.match(JSON.stringify(up('https://s3.amazonaws.com/b/${jobId}${jobId}${jobId}')), /at most twice/);
  assert.match(JSON.stringify(up('https://${thingName}.s3.amazonaws.com/k')), /not allowed in the bucket/);
  assert.match(JSON.stringify(up('https://s3.amazonaws.com/b/${region}/k')), /unknown variable/);
  assert.deepEqual(parsePlaceholder('aws:iot:s3-presigned-url-upload'), { kind: 'presignedUpload' });
  const seen: PresignRequest[] = [];
  renderForDevice('"${aws:iot:s3-presigned-url-upload}"', { presign: recordingSigner(seen) });
  assert.deepEqual(seen, [{ method: 'PUT', location: undefined }], 'no bucket and key: the caller picks the location');
});

test('a signer that declines leaves the placeholder and reports it', () => {
  const doc = '"${aws:iot:s3-presigned-url:https://s3.amazonaws.com/b/k}"';
  assert.deepEqual(renderForDevice(doc, { presign: () => undefined }), { document: doc, unresolved: [doc.slice(1, -1)] });
  const art = '"${aws:iot:package:app:version:2.0.0:artifact-location:s3-presigned-url}"';
  assert.equal(renderForDevice(art, { presign: () => 'x' }).unresolved.length, 1, 'no artifact lookup given');
});

test('unknown aws:iot placeholders (code signing included) are kept and listed; other ${…} untouched', () => {
  const doc = '{"sig":"${aws:iot:code-sign-signature:s3://eu-west-1.b/f@v1}","x":"${aws:iot:future:thing}","y":"${env:HOME}"}';
  const r = created(doc, {});
  assert.equal(r.document, doc);
  assert.deepEqual(r.unknown, ['${aws:iot:code-sign-signature:s3://eu-west-1.b/f@v1}', '${aws:iot:future:thing}']);
  assert.equal(needsPresigning(doc), false);
});

test('malformed presigned URLs are CreateJob errors', () => {
  assert.match(errorsOf('"${aws:iot:s3-presigned-url:ftp://host/b/k}"', {})[0], /not an https URL/);
  assert.match(errorsOf('"${aws:iot:s3-presigned-url:https://s3.amazonaws.com/only-bucket}"', {})[0], /both a bucket and a key/);
});

test('scanning: string tracking survives escaped quotes; unterminated placeholders are text', () => {
  const doc = '{"a":"x\\"${aws:iot:parameter:p}","b":${aws:iot:parameter:q},"c":"${aws:iot:parameter:r"}';
  const tokens = scanPlaceholders(doc);
  assert.deepEqual(
    tokens.map((t) => [t.raw, t.inString]),
    [
      ['${aws:iot:parameter:p}', true],
      ['${aws:iot:parameter:q}', false],
    ],
  );
  assert.equal(scanPlaceholders('"${aws:iot:parameter:p').length, 0);
});

test('S3 URLs: other hosts are read path-style (ports ignored); virtual-hosted AWS names the bucket in the host', () => {
  assert.deepEqual(parseS3Url('http://minio.local:9000/fw/a/b.bin', false), { ok: true, location: { bucket: 'fw', key: 'a/b.bin' } });
  assert.deepEqual(parseS3Url('https://my.dotted.bucket.s3.amazonaws.com/k', false), { ok: true, location: { bucket: 'my.dotted.bucket', key: 'k' } });
  assert.deepEqual(parseS3Url('https://s3.dualstack.us-east-1.amazonaws.com/b/k', false), { ok: true, location: { bucket: 'b', key: 'k' } });
  assert.equal(parseS3Url('https://b.s3.amazonaws.com/', false).ok, false);
});
