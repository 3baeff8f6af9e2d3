// U+0000 in any text input is refused at the protocol edge with the operation's validation error, on both stores
// alike (PostgreSQL cannot store it; SQLite could, so without one rule the stores would disagree).
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { CreateJobCommand, CreatePackageCommand, CreateThingCommand, GetPackageCommand, ListJobsCommand, TagResourceCommand } from '@aws-sdk/client-iot';
import { expectError, startTestServer } from './support/server.ts';

const NUL = /Member must not contain the character U\+0000 \(NUL\)/;

const server = await startTestServer();
after(() => server.stop());
const iot = server.iot();

test('CreatePackage: a description or tag value with U+0000 is a ValidationException, and nothing is created', async () => {
  const err = await expectError(
    () => iot.send(new CreatePackageCommand({ packageName: 'nul-description', description: 'a\u0000b' })),
    'ValidationException',
    400,
    NUL,
  );
  assert.match(err.message, /Value 'a\\u0000b' at 'description'/);
  await expectError(() => iot.send(new CreatePackageCommand({ packageName: 'nul-tag', tags: { k: 'v\u0000' } })), 'ValidationException', 400, NUL);
  await expectError(() => iot.send(new GetPackageCommand({ packageName: 'nul-tag' })), 'ResourceNotFoundException', 404);
  const { packageArn } = await iot.send(new CreatePackageCommand({ packageName: 'clean' }));
  await expectError(
    () => iot.send(new TagResourceCommand({ resourceArn: packageArn, tags: [{ Key: 'k\u0000', Value: 'v' }] })),
    'InvalidRequestException',
    400,
    NUL,
  );
});

test('CreateThing: an attribute with U+0000 is an InvalidRequestException', async () => {
  await expectError(
    () => iot.send(new CreateThingCommand({ thingName: 'nul-thing', attributePayload: { attributes: { a: 'x\u0000y' } } })),
    'InvalidRequestException',
    400,
    NUL,
  );
});

test('CreateJob: a document or description with U+0000 is an InvalidRequestException', async () => {
  const { thingArn } = await iot.send(new CreateThingCommand({ thingName: 'target' }));
  const document = '{"op":"install","note":"a\u0000b"}'; // a raw U+0000 in the text, not JSON's escape of it
  await expectError(() => iot.send(new CreateJobCommand({ jobId: 'nul-doc', targets: [thingArn!], document })), 'InvalidRequestException', 400, NUL);
  await expectError(
    () => iot.send(new CreateJobCommand({ jobId: 'nul-description', targets: [thingArn!], document: '{}', description: 'x\u0000' })),
    'InvalidRequestException',
    400,
    NUL,
  );
  assert.deepEqual((await iot.send(new ListJobsCommand({}))).jobs, []);
});

test('a label or query parameter with %00 is refused the same way', async () => {
  const label = await fetch(`${server.endpoint}/jobs/a%00b`);
  assert.deepEqual([label.status, label.headers.get('x-amzn-errortype')], [400, 'InvalidRequestException']);
  assert.match(((await label.json()) as { message: string }).message, NUL);
  const query = await fetch(`${server.endpoint}/jobs?thingGroupName=g%00`);
  assert.deepEqual([query.status, query.headers.get('x-amzn-errortype')], [400, 'InvalidRequestException']);
  const report = await fetch(`${server.endpoint}/_flotilla/sbom-report/a%00b/1.0`);
  assert.deepEqual([report.status, report.headers.get('x-amzn-errortype')], [400, 'ValidationException']);
});
