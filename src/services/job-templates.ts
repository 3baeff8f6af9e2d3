// Job templates: CreateJobTemplate, DescribeJobTemplate, ListJobTemplates, DeleteJobTemplate, and the read-only
// AWS managed templates (ListManagedJobTemplates, DescribeManagedJobTemplate).
import type * as IoT from '@aws-sdk/client-iot';
import { jobTemplateArn, parseArn } from '../domain/arn.ts';
import { conflict, invalidRequest, notFound } from '../protocol/errors.ts';
import { jobs, jobTemplates } from '../store/jobs.ts';
import type { JobTemplateRow } from '../store/schema.ts';
import { isUniqueViolation } from '../store/store.ts';
import { tags } from '../store/tags.ts';
import type { Handlers, RequestContext } from './context.ts';
import { checkConfigs, checkDestinationArns, checkMaintenanceWindows, json, parsed } from './job-inputs.ts';
import { storedTemplateFields } from './job-templates-source.ts';
import { findManagedTemplate, managedTemplateArn, MANAGED_TEMPLATES } from './managed-templates.ts';
import { pageRequest } from './paging.ts';

export const jobTemplateHandlers = {
  async CreateJobTemplate(input: IoT.CreateJobTemplateRequest, ctx: RequestContext): Promise<IoT.CreateJobTemplateResponse> {
    const id = input.jobTemplateId!;
    const arn = jobTemplateArn(ctx.scope, id);
    const sources = [input.document, input.documentSource, input.jobArn].filter((s) => s !== undefined).length;
    if (sources !== 1) throw invalidRequest('A job template needs exactly one of document, documentSource or jobArn');
    let fields = {
      document: input.document,
      documentSource: input.documentSource,
      presignedUrlConfig: input.presignedUrlConfig,
      jobExecutionsRolloutConfig: input.jobExecutionsRolloutConfig,
      abortConfig: input.abortConfig,
      timeoutConfig: input.timeoutConfig,
      jobExecutionsRetryConfig: input.jobExecutionsRetryConfig,
      destinationPackageVersions: input.destinationPackageVersions,
      maintenanceWindows: input.maintenanceWindows,
    };
    if (input.jobArn !== undefined) {
      // The job's document as written and its configs; fields of the request win.
      const p = parseArn(input.jobArn);
      const ours = p && p.scope.account === ctx.scope.account && p.scope.region === ctx.scope.region;
      const job = ours && p.resource.type === 'job' ? await jobs.get(ctx.db, ctx.scope, p.resource.jobId) : undefined;
      if (!job) throw notFound(`Job ${input.jobArn} does not exist`);
      fields = {
        ...fields,
        document: job.document_source ? undefined : job.document_before,
        documentSource: job.document_source ?? undefined,
        presignedUrlConfig: fields.presignedUrlConfig ?? parsed(job.presigned_url_config),
        jobExecutionsRolloutConfig: fields.jobExecutionsRolloutConfig ?? parsed(job.rollout_config),
        abortConfig: fields.abortConfig ?? parsed(job.abort_config),
        timeoutConfig: fields.timeoutConfig ?? parsed(job.timeout_config),
        jobExecutionsRetryConfig: fields.jobExecutionsRetryConfig ?? parsed(job.retry_config),
        destinationPackageVersions: fields.destinationPackageVersions ?? parsed(job.destinations_before),
        maintenanceWindows: fields.maintenanceWindows ?? parsed<IoT.SchedulingConfig>(job.scheduling_config)?.maintenanceWindows,
      };
    }
    checkConfigs(fields, fields.timeoutConfig);
    if (fields.maintenanceWindows?.length) checkMaintenanceWindows(fields.maintenanceWindows, ctx.now.getTime());
    checkDestinationArns(ctx.scope, fields.destinationPackageVersions ?? []);
    const row: JobTemplateRow = {
      ...ctx.scope,
      template_id: id,
      arn,
      description: input.description!,
      document: fields.document ?? null,
      document_source: fields.documentSource ?? null,
      presigned_url_config: json(fields.presignedUrlConfig),
      rollout_config: json(fields.jobExecutionsRolloutConfig),
      abort_config: json(fields.abortConfig),
      timeout_config: json(fields.timeoutConfig),
      retry_config: json(fields.jobExecutionsRetryConfig),
      maintenance_windows: json(fields.maintenanceWindows),
      destinations: json(fields.destinationPackageVersions),
      created_at: ctx.now.getTime(),
    };
    if (await jobTemplates.get(ctx.db, ctx.scope, id)) throw conflict(`Job template ${id} already exists`, id);
    try {
      await jobTemplates.insert(ctx.db, row);
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict(`Job template ${id} already exists`, id);
      throw err;
    }
    await tags.put(ctx.db, ctx.scope, arn, Object.fromEntries((input.tags ?? []).map((t) => [t.Key!, t.Value ?? ''])));
    return { jobTemplateArn: arn, jobTemplateId: id };
  },

  async DescribeJobTemplate(input: IoT.DescribeJobTemplateRequest, ctx: RequestContext): Promise<IoT.DescribeJobTemplateResponse> {
    const row = await jobTemplates.get(ctx.db, ctx.scope, input.jobTemplateId!);
    if (!row) throw notFound(`Job template ${input.jobTemplateId} does not exist`);
    return {
      jobTemplateArn: row.arn,
      jobTemplateId: row.template_id,
      description: row.description,
      createdAt: new Date(row.created_at),
      ...storedTemplateFields(row),
    };
  },

  async ListJobTemplates(input: IoT.ListJobTemplatesRequest, ctx: RequestContext): Promise<IoT.ListJobTemplatesResponse> {
    const page = pageRequest('job-templates', input, 250, invalidRequest);
    const rows = await jobTemplates.list(ctx.db, ctx.scope, page.after?.[0], page.limit + 1);
    const { items, nextToken } = page.split(rows, (r) => [r.template_id]);
    return {
      jobTemplates: items.map((r) => ({ jobTemplateArn: r.arn, jobTemplateId: r.template_id, description: r.description, createdAt: new Date(r.created_at) })),
      nextToken,
    };
  },

  async DeleteJobTemplate(input: IoT.DeleteJobTemplateRequest, ctx: RequestContext): Promise<Record<string, never>> {
    const row = await jobTemplates.get(ctx.db, ctx.scope, input.jobTemplateId!);
    if (!row) throw notFound(`Job template ${input.jobTemplateId} does not exist`);
    await jobTemplates.delete(ctx.db, ctx.scope, row.template_id);
    await tags.remove(ctx.db, ctx.scope, row.arn);
    return {};
  },

  async ListManagedJobTemplates(input: IoT.ListManagedJobTemplatesRequest, ctx: RequestContext): Promise<IoT.ListManagedJobTemplatesResponse> {
    const page = pageRequest(`managed-job-templates/${input.templateName ?? ''}`, input, 250, invalidRequest);
    const all = MANAGED_TEMPLATES.filter((t) => input.templateName === undefined || t.name === input.templateName);
    if (input.templateName !== undefined && all.length === 0) throw notFound(`Managed job template ${input.templateName} does not exist`);
    const key = (t: (typeof all)[number]) => [t.name, t.version];
    const after = page.after;
    const rows = all.filter((t) => !after || t.name > after[0] || (t.name === after[0] && t.version > after[1])).slice(0, page.limit + 1);
    const { items, nextToken } = page.split(rows, key);
    return {
      managedJobTemplates: items.map((t) => ({
        templateArn: managedTemplateArn(ctx.scope, t),
        templateName: t.name,
        description: t.description,
        environments: t.environments,
        templateVersion: t.version,
      })),
      nextToken,
    };
  },

  async DescribeManagedJobTemplate(input: IoT.DescribeManagedJobTemplateRequest, ctx: RequestContext): Promise<IoT.DescribeManagedJobTemplateResponse> {
    const t = findManagedTemplate(input.templateName!, input.templateVersion);
    if (!t) throw notFound(`Managed job template ${input.templateName}${input.templateVersion ? ` version ${input.templateVersion}` : ''} does not exist`);
    return {
      templateName: t.name,
      templateArn: managedTemplateArn(ctx.scope, t),
      description: t.description,
      templateVersion: t.version,
      environments: t.environments,
      documentParameters: t.parameters.map((p) => ({ key: p.key, description: p.description, regex: p.regex, example: p.example, optional: p.optional })),
      document: t.document,
    };
  },
} satisfies Handlers<'iot'>;
