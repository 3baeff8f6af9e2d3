// Job documents end to end: documentSource read from object storage, destinationPackageVersions with $default
// and $null, package placeholders resolved at creation, and beforeSubstitution on DescribeJob / GetJobDocument.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  CreatePackageCommand,
  CreatePackageVersionCommand,
  GetJobDocumentCommand,
  UpdatePackageCommand,
  UpdatePackageVersionCommand,
} from '@aws-sdk/client-iot';
import { expectError, jobsFixture, type JobsFixture } from './support/jobs.ts';

let f: JobsFixture;
let s3: S3Client;
let account: string;
before(async () => {
  f = await jobsFixture();
  s3 = new S3Client({
    endpoint: f.server.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' },
    maxAttempts: 1,
  });
  account = (await f.thing()).arn.split(':')[4];
});
after(async () => {
  s3.destroy();
  await f.stop();
});

const versionArn = (pkg: string, version: string) => `arn:aws:iot:us-east-1:${account}:package/${pkg}/version/${version}`;
const document = (jobId: string, beforeSubstitution?: boolean) => f.iot.send(new GetJobDocumentCommand({ jobId, beforeSubstitution })).then((o) => o.document!);

async function publishedPackage(versions: string[], attributes: Record<string, string> = {}) {
  const pkg = f.uniq('pkg');
  await f.iot.send(new CreatePackageCommand({ packageName: pkg }));
  for (const v of versions) {
    await f.iot.send(new CreatePackageVersionCommand({ packageName: pkg, versionName: v, attributes: { ...attributes, v } }));
    await f.iot.send(new UpdatePackageVersionCommand({ packageName: pkg, versionName: v, action: 'PUBLISH' }));
  }
  return pkg;
}

test('documentSource: the document is read from object storage and the URL is described', async () => {
  const t = await f.thing();
  await s3.send(new CreateBucketCommand({ Bucket: 'job-docs' }));
  const body = JSON.stringify({ steps: ['download', 'install'] });
  await s3.send(new PutObjectCommand({ Bucket: 'job-docs', Key: 'ota/doc 1.json', Body: body }));
  const source = 'https://s3.us-east-1.amazonaws.com/job-docs/ota/doc%201.json';
  const jobId = await f.createJob({ targets: [t.arn], documentSource: source });
  const described = await f.describe(jobId);
  assert.equal(described.documentSource, source);
  assert.equal(await document(jobId), body);
  await expectError(
    () => f.createJob({ targets: [t.arn], documentSource: 'https://s3.us-east-1.amazonaws.com/job-docs/missing.json' }),
    'InvalidRequestException',
    400,
    /no object/,
  );
  await expectError(() => f.createJob({ targets: [t.arn], documentSource: 'not a url' }), 'InvalidRequestException', 400);
  await s3.send(new PutObjectCommand({ Bucket: 'job-docs', Key: 'big.json', Body: JSON.stringify({ x: 'y'.repeat(33000) }) }));
  await expectError(
    () => f.createJob({ targets: [t.arn], documentSource: 'https://job-docs.s3.amazonaws.com/big.json' }),
    'InvalidRequestException',
    400,
    /at most 32768/,
  );
});

test('$default resolves at creation; beforeSubstitution shows the template form', async () => {
  const t = await f.thing();
  const pkg = await publishedPackage(['1.0', '2.0'], { url: 'https://x/fw.bin' });
  await f.iot.send(new UpdatePackageCommand({ packageName: pkg, defaultVersionName: '2.0' }));
  const template = JSON.stringify({
    version: `\${aws:iot:package:${pkg}:version:$default:attributes:v}`,
    url: `\${aws:iot:package:${pkg}:version:$default:attributes:url}`,
    fetch: '${aws:iot:s3-presigned-url:https://s3.us-east-1.amazonaws.com/b/k.bin}',
  });
  const jobId = await f.createJob({ targets: [t.arn], document: template, destinationPackageVersions: [versionArn(pkg, '$default')] });
  const resolved = JSON.parse(await document(jobId));
  assert.deepEqual(resolved, { version: '2.0', url: 'https://x/fw.bin', fetch: '${aws:iot:s3-presigned-url:https://s3.us-east-1.amazonaws.com/b/k.bin}' });
  assert.equal(await document(jobId, true), template);
  assert.deepEqual((await f.describe(jobId)).job!.destinationPackageVersions, [versionArn(pkg, '2.0')]);
  assert.deepEqual((await f.describe(jobId, true)).job!.destinationPackageVersions, [versionArn(pkg, '$default')]);

  // A later default change does not touch the created job.
  await f.iot.send(new UpdatePackageCommand({ packageName: pkg, defaultVersionName: '1.0' }));
  assert.equal(JSON.parse(await document(jobId)).version, '2.0');

  // The whole attribute map, with the package left empty: filled from the single destination.
  const whole = await f.createJob({
    targets: [t.arn],
    document: '{"attrs": ${aws:iot:package::version::attributes}}',
    destinationPackageVersions: [versionArn(pkg, '2.0')],
  });
  assert.deepEqual(JSON.parse(await document(whole)), { attrs: { url: 'https://x/fw.bin', v: '2.0' } });
});

test('destinationPackageVersions are checked: status, existence, count, match with the document, $null', async () => {
  const t = await f.thing();
  const pkg = await publishedPackage(['1.0']);
  await f.iot.send(new CreatePackageVersionCommand({ packageName: pkg, versionName: 'draft' }));
  const doc = '{"a":1}';
  await expectError(
    () => f.createJob({ targets: [t.arn], document: doc, destinationPackageVersions: [versionArn(pkg, 'draft')] }),
    'InvalidRequestException',
    400,
    /DRAFT/,
  );
  await expectError(
    () => f.createJob({ targets: [t.arn], document: doc, destinationPackageVersions: [versionArn(pkg, '9.9')] }),
    'ResourceNotFoundException',
    404,
  );
  await expectError(
    () => f.createJob({ targets: [t.arn], document: doc, destinationPackageVersions: [versionArn(pkg, '$default')] }),
    'InvalidRequestException',
    400,
    /no default version/,
  );
  await expectError(
    () => f.createJob({ targets: [t.arn], document: doc, destinationPackageVersions: [versionArn('no-such-package', '$default')] }),
    'ResourceNotFoundException',
    404,
    /no-such-package/,
  );
  await expectError(
    () => f.createJob({ targets: [t.arn], document: doc, destinationPackageVersions: ['arn:aws:iot:us-east-1:999999999999:package/x/version/1'] }),
    'InvalidRequestException',
    400,
  );
  const many = Array.from({ length: 26 }, (_, i) => versionArn(`p${i}`, '1.0'));
  await expectError(() => f.createJob({ targets: [t.arn], document: doc, destinationPackageVersions: many }), 'InvalidRequestException', 400, /at most 25/);
  const other = await publishedPackage(['3.0']);
  await expectError(
    () =>
      f.createJob({
        targets: [t.arn],
        document: `{"v":"\${aws:iot:package:${other}:version:3.0:attributes:v}"}`,
        destinationPackageVersions: [versionArn(pkg, '1.0')],
      }),
    'InvalidRequestException',
    400,
    /does not name/,
  );
  // DEPRECATED versions may still be deployed; $null removes a package and needs no version.
  await f.iot.send(new UpdatePackageVersionCommand({ packageName: pkg, versionName: '1.0', action: 'DEPRECATE' }));
  const jobId = await f.createJob({ targets: [t.arn], document: doc, destinationPackageVersions: [versionArn(pkg, '1.0'), versionArn(other, '$null')] });
  assert.deepEqual((await f.describe(jobId)).job!.destinationPackageVersions, [versionArn(pkg, '1.0'), versionArn(other, '$null')]);
});
