// Job executions on the control plane: DescribeJobExecution, ListJobExecutionsForJob, ListJobExecutionsForThing,
// CancelJobExecution, DeleteJobExecution.
import type * as IoT from '@aws-sdk/client-iot';
import { cancelExecution, checkDeleteExecution } from '../domain/jobs/execution-state.ts';
import { invalidRequest, notFound } from '../protocol/errors.ts';
import { executions, jobs } from '../store/jobs.ts';
import type { JobExecutionRow } from '../store/schema.ts';
import type { Handlers, RequestContext } from './context.ts';
import { refusal } from './job-inputs.ts';
import { executionSummary, executionView, patchOf, stateOf } from './job-views.ts';
import { pageRequest } from './paging.ts';

const missing = (jobId: string, thingName: string, executionNumber?: number) =>
  notFound(`No execution${executionNumber !== undefined ? ` ${executionNumber}` : ''} of job ${jobId} exists on thing ${thingName}`);

/** A page key of [name, executionNumber] back from the token's strings. */
function afterKey(after: string[] | undefined): [string, number] | undefined {
  if (!after) return undefined;
  const n = Number(after[1]);
  if (after.length !== 2 || !Number.isSafeInteger(n)) throw invalidRequest('The nextToken is not valid for this request');
  return [after[0], n];
}

async function lockedExecution(ctx: RequestContext, jobId: string, thingName: string, executionNumber?: number) {
  const job = await jobs.lock(ctx.db, ctx.scope, jobId, ctx.store.dialect);
  const execution = job && (await executions.get(ctx.db, ctx.scope, jobId, thingName, executionNumber));
  if (!job || !execution) throw missing(jobId, thingName, executionNumber);
  return { job, execution };
}

export const jobExecutionHandlers = {
  async DescribeJobExecution(input: IoT.DescribeJobExecutionRequest, ctx: RequestContext): Promise<IoT.DescribeJobExecutionResponse> {
    const row = await executions.get(ctx.db, ctx.scope, input.jobId!, input.thingName!, input.executionNumber);
    if (!row) throw missing(input.jobId!, input.thingName!, input.executionNumber);
    return { execution: executionView(row, ctx.now.getTime()) };
  },

  async ListJobExecutionsForJob(input: IoT.ListJobExecutionsForJobRequest, ctx: RequestContext): Promise<IoT.ListJobExecutionsForJobResponse> {
    const jobId = input.jobId!;
    if (!(await jobs.get(ctx.db, ctx.scope, jobId))) throw notFound(`Job ${jobId} does not exist`);
    const page = pageRequest(`job-executions/${jobId}/${input.status ?? ''}`, input, 250, invalidRequest);
    const rows = await executions.listForJob(ctx.db, ctx.scope, jobId, input.status, afterKey(page.after), page.limit + 1);
    const { items, nextToken } = page.split(rows, (r) => [r.thing_name, String(r.execution_number)]);
    return { executionSummaries: items.map((r) => ({ thingArn: r.thing_arn, jobExecutionSummary: executionSummary(r) })), nextToken };
  },

  async ListJobExecutionsForThing(input: IoT.ListJobExecutionsForThingRequest, ctx: RequestContext): Promise<IoT.ListJobExecutionsForThingResponse> {
    const thingName = input.thingName!;
    const filter = { status: input.status, jobId: input.jobId, namespaceId: input.namespaceId };
    const page = pageRequest(`thing-executions/${thingName}/${JSON.stringify(filter)}`, input, 250, invalidRequest);
    const rows = await executions.listForThing(ctx.db, ctx.scope, thingName, filter, afterKey(page.after), page.limit + 1);
    const { items, nextToken } = page.split(rows, (r: JobExecutionRow) => [r.job_id, String(r.execution_number)]);
    return { executionSummaries: items.map((r) => ({ jobId: r.job_id, jobExecutionSummary: executionSummary(r) })), nextToken };
  },

  async CancelJobExecution(input: IoT.CancelJobExecutionRequest, ctx: RequestContext): Promise<Record<string, never>> {
    const { execution } = await lockedExecution(ctx, input.jobId!, input.thingName!);
    const now = ctx.now.getTime();
    const result = cancelExecution(stateOf(execution), { force: input.force, expectedVersion: input.expectedVersion, statusDetails: input.statusDetails }, now);
    if (!result.ok) throw refusal(result.kind, result.message);
    await executions.update(ctx.db, execution, patchOf(result.state));
    return {};
  },

  async DeleteJobExecution(input: IoT.DeleteJobExecutionRequest, ctx: RequestContext): Promise<Record<string, never>> {
    const { job, execution } = await lockedExecution(ctx, input.jobId!, input.thingName!, input.executionNumber!);
    if (input.namespaceId !== undefined && job.namespace_id !== input.namespaceId) throw missing(input.jobId!, input.thingName!, input.executionNumber);
    const check = checkDeleteExecution(stateOf(execution), input.force === true);
    if (!check.ok) throw refusal(check.kind, check.message);
    await executions.delete(ctx.db, execution);
    return {};
  },
} satisfies Handlers<'iot'>;
