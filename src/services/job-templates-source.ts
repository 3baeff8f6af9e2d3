// What a jobTemplateArn contributes to CreateJob: a custom template's stored fields, or a managed template.
import type * as IoT from '@aws-sdk/client-iot';
import { parseArn } from '../domain/arn.ts';
import { notFound } from '../protocol/errors.ts';
import { jobTemplates } from '../store/jobs.ts';
import type { JobTemplateRow } from '../store/schema.ts';
import type { RequestContext } from './context.ts';
import { parsed } from './job-inputs.ts';
import { findManagedTemplate, parseManagedTemplateArn, type ManagedTemplate } from './managed-templates.ts';

export interface TemplateFields {
  document?: string;
  documentSource?: string;
  presignedUrlConfig?: IoT.PresignedUrlConfig;
  jobExecutionsRolloutConfig?: IoT.JobExecutionsRolloutConfig;
  abortConfig?: IoT.AbortConfig;
  timeoutConfig?: IoT.TimeoutConfig;
  jobExecutionsRetryConfig?: IoT.JobExecutionsRetryConfig;
  maintenanceWindows?: IoT.MaintenanceWindow[];
  destinationPackageVersions?: string[];
  /** Set for AWS managed templates, which alone take documentParameters. */
  managed?: ManagedTemplate;
}

export async function templateFields(ctx: RequestContext, arn: string): Promise<TemplateFields> {
  const managedRef = parseManagedTemplateArn(arn);
  if (managedRef) {
    const managed = findManagedTemplate(managedRef.name, managedRef.version);
    if (!managed) throw notFound(`Managed job template ${managedRef.name}${managedRef.version ? `:${managedRef.version}` : ''} does not exist`);
    return { document: managed.document, managed };
  }
  const p = parseArn(arn);
  const ours = p && p.scope.account === ctx.scope.account && p.scope.region === ctx.scope.region;
  const row = ours && p.resource.type === 'jobTemplate' ? await jobTemplates.get(ctx.db, ctx.scope, p.resource.jobTemplateId) : undefined;
  if (!row) throw notFound(`Job template ${arn} does not exist`);
  return storedTemplateFields(row);
}

/** The fields a stored custom template carries, as the API shapes them. */
export function storedTemplateFields(row: JobTemplateRow): Omit<TemplateFields, 'managed'> {
  return {
    document: row.document ?? undefined,
    documentSource: row.document_source ?? undefined,
    presignedUrlConfig: parsed(row.presigned_url_config),
    jobExecutionsRolloutConfig: parsed(row.rollout_config),
    abortConfig: parsed(row.abort_config),
    timeoutConfig: parsed(row.timeout_config),
    jobExecutionsRetryConfig: parsed(row.retry_config),
    maintenanceWindows: parsed(row.maintenance_windows),
    destinationPackageVersions: parsed(row.destinations),
  };
}
