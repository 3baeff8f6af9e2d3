// End to end through @aws-sdk/client-iot: custom job templates (Create, Describe, List, Delete), AWS managed
// templates (List, Describe), and CreateJob from either kind, with request fields winning over template fields.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  CreateJobTemplateCommand,
  DeleteJobTemplateCommand,
  DescribeJobTemplateCommand,
  DescribeManagedJobTemplateCommand,
  GetJobDocumentCommand,
  ListJobTemplatesCommand,
  ListManagedJobTemplatesCommand,
  ListTagsForResourceCommand,
} from '@aws-sdk/client-iot';
import { DOC, expectError, jobsFixture, type JobsFixture } from './support/jobs.ts';

let f: JobsFixture;
before(async () => {
  f = await jobsFixture();
});
after(() => f.stop());

const MANAGED = [
  'AWS-Download-File',
  'AWS-Install-Application',
  'AWS-Reboot',
  'AWS-Remove-Application',
  'AWS-Restart-Application',
  'AWS-Run-Command',
  'AWS-Start-Application',
  'AWS-Stop-Application',
];

test('CreateJobTemplate, DescribeJobTemplate, ListJobTemplates, DeleteJobTemplate', async () => {
  const id = f.uniq('tpl');
  const fields = {
    presignedUrlConfig: { expiresInSec: 300 },
    jobExecutionsRolloutConfig: { maximumPerMinute: 10 },
    abortConfig: { criteriaList: [{ failureType: 'FAILED' as const, action: 'CANCEL' as const, thresholdPercentage: 20, minNumberOfExecutedThings: 5 }] },
    timeoutConfig: { inProgressTimeoutInMinutes: 60 },
    jobExecutionsRetryConfig: { criteriaList: [{ failureType: 'TIMED_OUT' as const, numberOfRetries: 2 }] },
    maintenanceWindows: [{ startTime: 'cron(0 2 ? * SUN *)', durationInMinutes: 120 }],
  };
  const created = await f.iot.send(
    new CreateJobTemplateCommand({ jobTemplateId: id, description: 'weekly', document: DOC, ...fields, tags: [{ Key: 'a', Value: 'b' }] }),
  );
  assert.equal(created.jobTemplateId, id);
  assert.match(created.jobTemplateArn!, new RegExp(`^arn:aws:iot:us-east-1:\\d{12}:jobtemplate/${id}$`));
  const d = await f.iot.send(new DescribeJobTemplateCommand({ jobTemplateId: id }));
  assert.equal(d.description, 'weekly');
  assert.equal(d.document, DOC);
  assert.ok(d.createdAt instanceof Date);
  for (const [key, value] of Object.entries(fields)) assert.deepEqual((d as any)[key], value, key);
  assert.deepEqual((await f.iot.send(new ListTagsForResourceCommand({ resourceArn: created.jobTemplateArn }))).tags, [{ Key: 'a', Value: 'b' }]);

  await expectError(() => f.iot.send(new CreateJobTemplateCommand({ jobTemplateId: id, description: 'again', document: DOC })), 'ConflictException', 409);
  await expectError(
    () => f.iot.send(new CreateJobTemplateCommand({ jobTemplateId: f.uniq('x'), description: 'none' })),
    'InvalidRequestException',
    400,
    /exactly one/,
  );
  await expectError(
    () =>
      f.iot.send(
        new CreateJobTemplateCommand({ jobTemplateId: f.uniq('x'), description: 'two', document: DOC, documentSource: 'https://s3.amazonaws.com/b/k' }),
      ),
    'InvalidRequestException',
    400,
    /exactly one/,
  );
  await expectError(() => f.iot.send(new CreateJobTemplateCommand({ jobTemplateId: f.uniq('x'), document: DOC } as any)), 'InvalidRequestException', 400);
  await expectError(
    () =>
      f.iot.send(
        new CreateJobTemplateCommand({
          jobTemplateId: f.uniq('x'),
          description: 'bad',
          document: DOC,
          jobExecutionsRetryConfig: { criteriaList: [{ failureType: 'TIMED_OUT', numberOfRetries: 1 }] },
        }),
      ),
    'InvalidRequestException',
    400,
    /timeoutConfig/,
  );

  const second = f.uniq('tpl');
  await f.iot.send(new CreateJobTemplateCommand({ jobTemplateId: second, description: 'two', document: DOC }));
  const ids: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await f.iot.send(new ListJobTemplatesCommand({ maxResults: 1, nextToken }));
    ids.push(...page.jobTemplates!.map((t) => t.jobTemplateId!));
    for (const t of page.jobTemplates!) assert.ok(t.createdAt instanceof Date && t.description && t.jobTemplateArn);
    nextToken = page.nextToken;
  } while (nextToken);
  assert.ok(ids.includes(id) && ids.includes(second));
  assert.deepEqual(ids, [...ids].sort());

  await f.iot.send(new DeleteJobTemplateCommand({ jobTemplateId: second }));
  await expectError(() => f.iot.send(new DescribeJobTemplateCommand({ jobTemplateId: second })), 'ResourceNotFoundException', 404);
  await expectError(() => f.iot.send(new DeleteJobTemplateCommand({ jobTemplateId: second })), 'ResourceNotFoundException', 404);
});

test('CreateJob from a custom template: template fields fill in, request fields win', async () => {
  const t = await f.thing();
  const id = f.uniq('tpl');
  const tplDoc = JSON.stringify({ from: 'template' });
  const { jobTemplateArn } = await f.iot.send(
    new CreateJobTemplateCommand({
      jobTemplateId: id,
      description: 'base',
      document: tplDoc,
      timeoutConfig: { inProgressTimeoutInMinutes: 30 },
      jobExecutionsRolloutConfig: { maximumPerMinute: 10 },
      maintenanceWindows: [{ startTime: 'cron(0 4 * * ? *)', durationInMinutes: 30 }],
    }),
  );
  const fromTemplate = await f.createJob({ targets: [t.arn], jobTemplateArn });
  let job = (await f.describe(fromTemplate)).job!;
  assert.equal(job.jobTemplateArn, jobTemplateArn);
  assert.deepEqual(job.timeoutConfig, { inProgressTimeoutInMinutes: 30 });
  assert.deepEqual(job.jobExecutionsRolloutConfig, { maximumPerMinute: 10 });
  assert.deepEqual(job.schedulingConfig, { maintenanceWindows: [{ startTime: 'cron(0 4 * * ? *)', durationInMinutes: 30 }] });
  assert.equal(job.scheduledJobRollouts!.length, 7);
  assert.equal((await f.iot.send(new GetJobDocumentCommand({ jobId: fromTemplate }))).document, tplDoc);

  const overridden = await f.createJob({ targets: [t.arn], jobTemplateArn, document: DOC, timeoutConfig: { inProgressTimeoutInMinutes: 5 } });
  job = (await f.describe(overridden)).job!;
  assert.deepEqual(job.timeoutConfig, { inProgressTimeoutInMinutes: 5 });
  assert.deepEqual(job.jobExecutionsRolloutConfig, { maximumPerMinute: 10 });
  assert.equal((await f.iot.send(new GetJobDocumentCommand({ jobId: overridden }))).document, DOC);

  await expectError(() => f.createJob({ targets: [t.arn], jobTemplateArn, documentParameters: { a: 'b' } }), 'InvalidRequestException', 400, /managed/);
  await expectError(() => f.createJob({ targets: [t.arn], jobTemplateArn: `${jobTemplateArn}-gone` }), 'ResourceNotFoundException', 404);

  // A template copied from a job takes its document (as written) and configs.
  const copy = f.uniq('copy');
  await f.iot.send(
    new CreateJobTemplateCommand({
      jobTemplateId: copy,
      description: 'copy',
      jobArn: job.jobArn,
      abortConfig: { criteriaList: [{ failureType: 'ALL', action: 'CANCEL', thresholdPercentage: 1, minNumberOfExecutedThings: 1 }] },
    }),
  );
  const c = await f.iot.send(new DescribeJobTemplateCommand({ jobTemplateId: copy }));
  assert.equal(c.document, DOC);
  assert.deepEqual(c.timeoutConfig, { inProgressTimeoutInMinutes: 5 });
  assert.deepEqual(c.maintenanceWindows, [{ startTime: 'cron(0 4 * * ? *)', durationInMinutes: 30 }]);
  assert.equal(c.abortConfig!.criteriaList![0].failureType, 'ALL');
  await expectError(
    () => f.iot.send(new CreateJobTemplateCommand({ jobTemplateId: f.uniq('x'), description: 'x', jobArn: `${job.jobArn}-gone` })),
    'ResourceNotFoundException',
    404,
  );
});

test('managed templates: listed, described, and used with documentParameters', async () => {
  const listed = await f.iot.send(new ListManagedJobTemplatesCommand({}));
  assert.deepEqual(
    listed.managedJobTemplates!.map((t) => t.templateName),
    MANAGED,
  );
  for (const t of listed.managedJobTemplates!) {
    assert.equal(t.templateVersion, '1.0');
    assert.deepEqual(t.environments, ['LINUX']);
    assert.equal(t.templateArn, `arn:aws:iot:us-east-1::jobtemplate/${t.templateName}:1.0`);
  }
  const paged: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await f.iot.send(new ListManagedJobTemplatesCommand({ maxResults: 3, nextToken }));
    paged.push(...page.managedJobTemplates!.map((t) => t.templateName!));
    nextToken = page.nextToken;
  } while (nextToken);
  assert.deepEqual(paged, MANAGED);
  assert.deepEqual(
    (await f.iot.send(new ListManagedJobTemplatesCommand({ templateName: 'AWS-Reboot' }))).managedJobTemplates!.map((t) => t.templateName),
    ['AWS-Reboot'],
  );
  await expectError(() => f.iot.send(new ListManagedJobTemplatesCommand({ templateName: 'AWS-Nope' })), 'ResourceNotFoundException', 404);

  const d = await f.iot.send(new DescribeManagedJobTemplateCommand({ templateName: 'AWS-Download-File', templateVersion: '1.0' }));
  assert.deepEqual(
    d.documentParameters!.map((p) => [p.key, p.optional]),
    [
      ['downloadUrl', false],
      ['filePath', false],
      ['runAsUser', true],
      ['pathToHandler', true],
    ],
  );
  const doc = JSON.parse(d.document!);
  assert.equal(doc.steps[0].action.type, 'runHandler');
  assert.equal(doc.steps[0].action.input.handler, 'download-file.sh');
  await expectError(
    () => f.iot.send(new DescribeManagedJobTemplateCommand({ templateName: 'AWS-Download-File', templateVersion: '9.9' })),
    'ResourceNotFoundException',
    404,
  );
  const run = await f.iot.send(new DescribeManagedJobTemplateCommand({ templateName: 'AWS-Run-Command' }));
  assert.equal(JSON.parse(run.document!).steps[0].action.type, 'runCommand');

  const t = await f.thing();
  const jobId = await f.createJob({
    targets: [t.arn],
    jobTemplateArn: d.templateArn,
    documentParameters: { downloadUrl: 'https://example.com/a"quoted".bin', filePath: '/tmp/a.bin' },
  });
  const resolved = JSON.parse((await f.iot.send(new GetJobDocumentCommand({ jobId }))).document!);
  assert.deepEqual(resolved.steps[0].action.input.args, ['https://example.com/a"quoted".bin', '/tmp/a.bin']);
  assert.equal(resolved.steps[0].action.runAsUser, '');
  assert.equal((await f.iot.send(new GetJobDocumentCommand({ jobId, beforeSubstitution: true }))).document, d.document);
  const job = (await f.describe(jobId)).job!;
  assert.deepEqual(job.documentParameters, { downloadUrl: 'https://example.com/a"quoted".bin', filePath: '/tmp/a.bin' });

  await expectError(
    () => f.createJob({ targets: [t.arn], jobTemplateArn: d.templateArn, documentParameters: { downloadUrl: 'https://x/y' } }),
    'InvalidRequestException',
    400,
    /needs 'filePath'/,
  );
  await expectError(
    () => f.createJob({ targets: [t.arn], jobTemplateArn: d.templateArn, documentParameters: { downloadUrl: 'ftp://x', filePath: '/a' } }),
    'InvalidRequestException',
    400,
    /downloadUrl/,
  );
  await expectError(
    () => f.createJob({ targets: [t.arn], jobTemplateArn: d.templateArn, documentParameters: { downloadUrl: 'https://x/y', filePath: '/a', extra: '1' } }),
    'InvalidRequestException',
    400,
    /extra/,
  );
  await expectError(
    () => f.createJob({ targets: [t.arn], jobTemplateArn: d.templateArn, document: DOC, documentParameters: { downloadUrl: 'https://x/y', filePath: '/a' } }),
    'InvalidRequestException',
    400,
    /managed template/,
  );
  // Without a version the latest one is used.
  const reboot = await f.createJob({ targets: [t.arn], jobTemplateArn: 'arn:aws:iot:us-east-1::jobtemplate/AWS-Reboot' });
  assert.equal(JSON.parse((await f.iot.send(new GetJobDocumentCommand({ jobId: reboot }))).document!).steps[0].action.input.handler, 'reboot.sh');
});
