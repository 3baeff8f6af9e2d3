// Jobs (control plane): CreateJob, DescribeJob, GetJobDocument, UpdateJob, CancelJob, DeleteJob, ListJobs,
// AssociateTargetsWithJob. Requests record the job and answer at once; the rollout engine (src/engine/jobs.ts),
// woken by a `job.rollout` effect written in the same transaction, creates and cancels the executions.
import type * as IoT from '@aws-sdk/client-iot';
import { jobArn } from '../domain/arn.ts';
import { resolveAtCreate } from '../domain/jobs/document.ts';
import { cancelJob, deleteJob, initialJobStatus, type JobStatus } from '../domain/jobs/job-state.ts';
import { schedulePhase, type SchedulingConfig } from '../domain/jobs/schedule.ts';
import { timeoutConfigEditable } from '../domain/jobs/timeouts.ts';
import { invalidRequest, notFound, ServiceError } from '../protocol/errors.ts';
import { effects } from '../store/effects.ts';
import { publishJobEvent } from '../store/event-config.ts';
import { executions, jobs, jobTargets } from '../store/jobs.ts';
import type { JobRow } from '../store/schema.ts';
import { isUniqueViolation } from '../store/store.ts';
import { tags } from '../store/tags.ts';
import { fetched, phased, fetchedValue, type Fetched, type Handlers, type RequestContext } from './context.ts';
import {
  catalogFor,
  checkConfigs,
  checkDestinationArns,
  checkJsonDocument,
  checkScheduling,
  json,
  MAX_TARGETS,
  parsed,
  readDocumentSource,
  refusal,
  resolveTargets,
  type Target,
} from './job-inputs.ts';
import { templateFields, type TemplateFields } from './job-templates-source.ts';
import { jobSummary, jobView } from './job-views.ts';
import { checkDocumentParameters } from './managed-templates.ts';
import { pageRequest } from './paging.ts';

const limitExceeded = (message: string) => new ServiceError('LimitExceededException', message);

/** The job, or ResourceNotFound; a given namespaceId must be the job's own. Locked when the request writes. */
async function requireJob(ctx: RequestContext, jobId: string, namespaceId?: string, lock = false): Promise<JobRow> {
  const row = lock ? await jobs.lock(ctx.db, ctx.scope, jobId, ctx.store.dialect) : await jobs.get(ctx.db, ctx.scope, jobId);
  if (!row || (namespaceId !== undefined && row.namespace_id !== namespaceId)) {
    throw notFound(`Job ${jobId} does not exist${namespaceId !== undefined ? ` in namespace ${namespaceId}` : ''}`);
  }
  return row;
}

/** The engine takes the job up right after this request commits. */
const wakeEngine = (ctx: RequestContext, jobId: string) => effects.schedule(ctx.db, ctx.scope, 'job.rollout', jobId, ctx.now.getTime());

const unique = (arns: string[]) => [...new Set(arns)];

const targetRows = (ctx: RequestContext, jobId: string, targets: Target[]) =>
  targets.map((t) => ({ ...ctx.scope, job_id: jobId, target_arn: t.arn, kind: t.kind, name: t.name, group_id: t.groupId }));

/** The documentSource CreateJob reads (the request's, else its custom template's) and what reading it gave. */
interface SourceRead {
  url: string;
  document: Fetched<string>;
}

/** CreateJob's prefetch: reads the documentSource the job will use, outside the transaction. */
async function readSource(input: IoT.CreateJobRequest, ctx: RequestContext): Promise<SourceRead | undefined> {
  if (input.document !== undefined) return undefined;
  let url = input.documentSource;
  if (url === undefined && input.jobTemplateArn !== undefined) {
    // A template that cannot be read now fails the same way inside the transaction.
    const template = await fetched(() => templateFields(ctx, input.jobTemplateArn!));
    if (template.ok) url = template.value.documentSource;
  }
  return url === undefined ? undefined : { url, document: await fetched(() => readDocumentSource(ctx, url)) };
}

/** The document read in the prefetch; the transaction re-checks that the URL it resolved is the one read. */
function sourceDocument(read: SourceRead | undefined, url: string): string {
  if (read?.url !== url) throw invalidRequest(`The job template's documentSource changed while the job was being created; retry the request`);
  return fetchedValue(read.document);
}

/** The document as written (before substitution) and the documentSource to report, request first, then template. */
function documentOf(input: IoT.CreateJobRequest, base: TemplateFields, read: SourceRead | undefined): { before: string; source?: string } {
  if (input.document !== undefined && input.documentSource !== undefined) throw invalidRequest('Give either document or documentSource, not both');
  if (base.managed && (input.document !== undefined || input.documentSource !== undefined)) {
    throw invalidRequest('A job from an AWS managed template takes its document from the template; document and documentSource cannot be given');
  }
  if (input.document !== undefined) return { before: input.document };
  if (input.documentSource !== undefined) return { before: sourceDocument(read, input.documentSource), source: input.documentSource };
  if (base.document !== undefined) return { before: base.document };
  if (base.documentSource !== undefined) return { before: sourceDocument(read, base.documentSource), source: base.documentSource };
  throw invalidRequest('A job needs a document, a documentSource or a jobTemplateArn');
}

export const jobHandlers = {
  CreateJob: phased({
    // A documentSource is read before the transaction (docs/architecture.md).
    prefetch: (input: IoT.CreateJobRequest, ctx: RequestContext) => readSource(input, ctx),
    async run(input, ctx, prefetched): Promise<IoT.CreateJobResponse> {
      const jobId = input.jobId!;
      const now = ctx.now.getTime();
      const arn = jobArn(ctx.scope, jobId);
      const alreadyExists = () => new ServiceError('ResourceAlreadyExistsException', `Job ${jobId} already exists`, { resourceId: jobId, resourceArn: arn });
      if (await jobs.get(ctx.db, ctx.scope, jobId)) throw alreadyExists();
      const targetArns = unique(input.targets!);
      if (targetArns.length > MAX_TARGETS) throw limitExceeded(`A job can have at most ${MAX_TARGETS} targets, got ${targetArns.length}`);

      const base: TemplateFields = input.jobTemplateArn !== undefined ? await templateFields(ctx, input.jobTemplateArn) : {};
      let parameters: Record<string, string> | undefined;
      if (input.documentParameters !== undefined) {
        if (!base.managed) throw invalidRequest('documentParameters can only be used with an AWS managed job template');
      }
      if (base.managed) {
        const checked = checkDocumentParameters(base.managed, input.documentParameters ?? {});
        if (checked.problems.length) throw invalidRequest(checked.problems.join('; '));
        parameters = checked.values;
      }
      const configs = {
        presignedUrlConfig: input.presignedUrlConfig ?? base.presignedUrlConfig,
        jobExecutionsRolloutConfig: input.jobExecutionsRolloutConfig ?? base.jobExecutionsRolloutConfig,
        abortConfig: input.abortConfig ?? base.abortConfig,
        timeoutConfig: input.timeoutConfig ?? base.timeoutConfig,
        jobExecutionsRetryConfig: input.jobExecutionsRetryConfig ?? base.jobExecutionsRetryConfig,
      };
      checkConfigs(configs, configs.timeoutConfig);
      let scheduling = input.schedulingConfig;
      if (base.maintenanceWindows?.length && !scheduling?.maintenanceWindows) scheduling = { ...scheduling, maintenanceWindows: base.maintenanceWindows };
      if (scheduling) checkScheduling(scheduling, now);

      const { before, source } = documentOf(input, base, prefetched);
      const destinationsBefore = input.destinationPackageVersions ?? base.destinationPackageVersions;
      checkDestinationArns(ctx.scope, destinationsBefore ?? []);
      const catalog = await catalogFor(ctx, before, destinationsBefore ?? []);
      const resolved = resolveAtCreate(before, { documentParameters: parameters, destinationPackageVersions: destinationsBefore, catalog });
      if (!resolved.ok) throw invalidRequest(resolved.errors.join('; '));
      checkJsonDocument(resolved.document);

      const targets = await resolveTargets(ctx, targetArns);
      const phase = scheduling ? schedulePhase(scheduling as SchedulingConfig, now).phase : 'ROLLING_OUT';
      const status = initialJobStatus(phase === 'BEFORE_START' || phase === 'BETWEEN_WINDOWS');
      const row: JobRow = {
        ...ctx.scope,
        job_id: jobId,
        arn,
        status,
        target_selection: input.targetSelection ?? 'SNAPSHOT',
        targets: JSON.stringify(targetArns),
        description: input.description ?? null,
        document: resolved.document,
        document_before: before,
        document_source: source ?? null,
        destinations: destinationsBefore === undefined ? null : JSON.stringify(resolved.destinationPackageVersions),
        destinations_before: json(destinationsBefore),
        document_parameters: json(input.documentParameters),
        presigned_url_config: json(configs.presignedUrlConfig),
        rollout_config: json(configs.jobExecutionsRolloutConfig),
        abort_config: json(configs.abortConfig),
        timeout_config: json(configs.timeoutConfig),
        retry_config: json(configs.jobExecutionsRetryConfig),
        scheduling_config: json(scheduling),
        namespace_id: input.namespaceId ?? null,
        job_template_arn: input.jobTemplateArn ?? null,
        force_canceled: null,
        reason_code: null,
        comment: null,
        created_at: now,
        updated_at: now,
        completed_at: null,
        fanout_pending: 1,
        fanout_cursor: null,
        released: 0,
      };
      try {
        await jobs.insert(ctx.db, row);
      } catch (err) {
        if (isUniqueViolation(err)) throw alreadyExists();
        throw err;
      }
      await jobTargets.insert(ctx.db, targetRows(ctx, jobId, targets));
      await tags.put(ctx.db, ctx.scope, arn, Object.fromEntries((input.tags ?? []).map((t) => [t.Key!, t.Value ?? ''])));
      await wakeEngine(ctx, jobId);
      return { jobArn: arn, jobId, description: input.description };
    },
  }),

  async DescribeJob(input: IoT.DescribeJobRequest, ctx: RequestContext): Promise<IoT.DescribeJobResponse> {
    const row = await requireJob(ctx, input.jobId!);
    return { documentSource: row.document_source ?? undefined, job: await jobView(ctx.db, row, ctx.now.getTime(), input.beforeSubstitution === true) };
  },

  async GetJobDocument(input: IoT.GetJobDocumentRequest, ctx: RequestContext): Promise<IoT.GetJobDocumentResponse> {
    const row = await requireJob(ctx, input.jobId!);
    return { document: input.beforeSubstitution ? row.document_before : row.document };
  },

  async UpdateJob(input: IoT.UpdateJobRequest, ctx: RequestContext): Promise<Record<string, never>> {
    const row = await requireJob(ctx, input.jobId!, input.namespaceId, true);
    if (row.status === 'DELETION_IN_PROGRESS') throw invalidRequest(`Job ${row.job_id} is being deleted`);
    const timeout = input.timeoutConfig ?? parsed<IoT.TimeoutConfig>(row.timeout_config);
    checkConfigs(input, timeout);
    if (input.jobExecutionsRetryConfig === undefined && input.timeoutConfig !== undefined && row.retry_config) {
      checkConfigs({ jobExecutionsRetryConfig: parsed(row.retry_config) }, timeout);
    }
    if (input.timeoutConfig !== undefined && !timeoutConfigEditable((await executions.anyStarted(ctx.db, ctx.scope, row.job_id)) ? 1 : 0)) {
      throw invalidRequest('timeoutConfig can no longer be changed: executions of this job have already started');
    }
    const patch: Partial<JobRow> = { updated_at: ctx.now.getTime() };
    if (input.description !== undefined) patch.description = input.description;
    if (input.presignedUrlConfig !== undefined) patch.presigned_url_config = json(input.presignedUrlConfig);
    if (input.jobExecutionsRolloutConfig !== undefined) patch.rollout_config = json(input.jobExecutionsRolloutConfig);
    if (input.abortConfig !== undefined) patch.abort_config = json(input.abortConfig);
    if (input.timeoutConfig !== undefined) patch.timeout_config = json(input.timeoutConfig);
    if (input.jobExecutionsRetryConfig !== undefined) patch.retry_config = json(input.jobExecutionsRetryConfig);
    await jobs.update(ctx.db, ctx.scope, row.job_id, patch);
    return {};
  },

  async CancelJob(input: IoT.CancelJobRequest, ctx: RequestContext): Promise<IoT.CancelJobResponse> {
    const row = await requireJob(ctx, input.jobId!, undefined, true);
    const now = ctx.now.getTime();
    const outcome = cancelJob({ status: row.status as JobStatus, forceCanceled: row.force_canceled === 1 }, input);
    if (!outcome.ok) throw refusal(outcome.kind, outcome.message);
    const { value } = outcome;
    const patch = {
      status: value.status,
      force_canceled: value.forceCanceled ? 1 : 0,
      reason_code: value.reasonCode ?? row.reason_code,
      comment: value.comment ?? row.comment,
      fanout_pending: 0,
      updated_at: now,
    };
    await jobs.update(ctx.db, ctx.scope, row.job_id, patch);
    // The engine cancels the executions (QUEUED, and IN_PROGRESS when forced) in batches.
    await wakeEngine(ctx, row.job_id);
    if (row.status !== 'CANCELED') await publishJobEvent(ctx.db, { ...row, ...patch }, 'canceled', now);
    return { jobArn: row.arn, jobId: row.job_id, description: row.description ?? undefined };
  },

  async DeleteJob(input: IoT.DeleteJobRequest, ctx: RequestContext): Promise<Record<string, never>> {
    const row = await requireJob(ctx, input.jobId!, input.namespaceId, true);
    const deleting = await jobs.countInStatus(ctx.db, ctx.scope, 'DELETION_IN_PROGRESS');
    const outcome = deleteJob(row.status as JobStatus, input.force === true, deleting);
    if (!outcome.ok) throw refusal(outcome.kind, outcome.message);
    // DELETION_IN_PROGRESS lasts only as long as this transaction: the job, its executions and tags go now.
    const now = ctx.now.getTime();
    await jobs.update(ctx.db, ctx.scope, row.job_id, { status: outcome.value, updated_at: now });
    await publishJobEvent(ctx.db, { ...row, status: outcome.value, updated_at: now }, 'deleted', now);
    await jobs.delete(ctx.db, ctx.scope, row.job_id);
    await tags.remove(ctx.db, ctx.scope, row.arn);
    return {};
  },

  async ListJobs(input: IoT.ListJobsRequest, ctx: RequestContext): Promise<IoT.ListJobsResponse> {
    const filter = {
      status: input.status,
      targetSelection: input.targetSelection,
      namespaceId: input.namespaceId,
      groupName: input.thingGroupName,
      groupId: input.thingGroupId,
    };
    const page = pageRequest(`jobs/${JSON.stringify(filter)}`, input, 250, invalidRequest);
    const rows = await jobs.list(ctx.db, ctx.scope, filter, page.after?.[0], page.limit + 1);
    const { items, nextToken } = page.split(rows, (r) => [r.job_id]);
    const summaries: IoT.JobSummary[] = [];
    for (const row of items) {
      const groups = (await jobTargets.list(ctx.db, ctx.scope, row.job_id)).filter((t) => t.kind === 'thinggroup');
      const shown = groups.find((g) => g.name === input.thingGroupName || g.group_id === input.thingGroupId) ?? groups[0];
      summaries.push(jobSummary(row, shown?.group_id ?? undefined));
    }
    return { jobs: summaries, nextToken };
  },

  async AssociateTargetsWithJob(input: IoT.AssociateTargetsWithJobRequest, ctx: RequestContext): Promise<IoT.AssociateTargetsWithJobResponse> {
    const row = await requireJob(ctx, input.jobId!, input.namespaceId, true);
    if (row.target_selection !== 'CONTINUOUS') throw invalidRequest('Targets can only be added to a CONTINUOUS job');
    if (row.status !== 'IN_PROGRESS' && row.status !== 'SCHEDULED') throw invalidRequest(`Targets cannot be added to a ${row.status} job`);
    const current: string[] = JSON.parse(row.targets);
    const added = unique(input.targets!).filter((arn) => !current.includes(arn));
    const total = current.length + added.length;
    if (total > MAX_TARGETS) throw limitExceeded(`A job can have at most ${MAX_TARGETS} targets; this request would give it ${total}`);
    const targets = await resolveTargets(ctx, added);
    const now = ctx.now.getTime();
    await jobTargets.insert(ctx.db, targetRows(ctx, row.job_id, targets));
    // The engine expands the targets again from the start; things that already have an execution are skipped.
    await jobs.update(ctx.db, ctx.scope, row.job_id, {
      targets: JSON.stringify([...current, ...added]),
      fanout_pending: 1,
      fanout_cursor: null,
      updated_at: now,
    });
    await wakeEngine(ctx, row.job_id);
    return { jobArn: row.arn, jobId: row.job_id, description: row.description ?? undefined };
  },
} satisfies Handlers<'iot'>;
