// The HTTPS jobs data plane (`iot-jobs-data`, routed by signing service): a thin translation of the device jobs
// service (device-jobs.ts) to the AWS SDK's shapes and errors. Each operation runs its own transaction.
import type * as Data from '@aws-sdk/client-iot-jobs-data-plane';
import { ServiceError } from '../protocol/errors.ts';
import { ownTransaction, type RequestContext } from './context.ts';
import { DeviceJobs, DeviceJobsError, type DeviceErrorKind } from './device-jobs.ts';

const ERROR_NAMES: Record<DeviceErrorKind, string> = {
  InvalidRequest: 'InvalidRequestException',
  InvalidStateTransition: 'InvalidStateTransitionException',
  // The data-plane model has no version conflict error: a stale expectedVersion is an invalid transition (409).
  VersionConflict: 'InvalidStateTransitionException',
  TerminalState: 'TerminalStateException',
  ResourceNotFound: 'ResourceNotFoundException',
};

async function run<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof DeviceJobsError) throw new ServiceError(ERROR_NAMES[err.kind], err.message);
    throw err;
  }
}

const service = (ctx: RequestContext) => new DeviceJobs({ store: ctx.store, blob: ctx.server.blob });

export const jobsDataHandlers = {
  GetPendingJobExecutions: (input: Data.GetPendingJobExecutionsRequest, ctx: RequestContext): Promise<Data.GetPendingJobExecutionsResponse> =>
    run(() => service(ctx).pending(ctx.scope, input.thingName!)),

  StartNextPendingJobExecution: ownTransaction(
    (input: Data.StartNextPendingJobExecutionRequest, ctx: RequestContext): Promise<Data.StartNextPendingJobExecutionResponse> =>
      run(() => service(ctx).startNext(ctx.scope, input.thingName!, { statusDetails: input.statusDetails, stepTimeoutInMinutes: input.stepTimeoutInMinutes })),
  ),

  DescribeJobExecution: (input: Data.DescribeJobExecutionRequest, ctx: RequestContext): Promise<Data.DescribeJobExecutionResponse> =>
    run(() =>
      service(ctx).describe(ctx.scope, input.thingName!, input.jobId!, {
        executionNumber: input.executionNumber,
        includeJobDocument: input.includeJobDocument,
      }),
    ),

  UpdateJobExecution: ownTransaction(
    (input: Data.UpdateJobExecutionRequest, ctx: RequestContext): Promise<Data.UpdateJobExecutionResponse> =>
      run(() =>
        service(ctx).update(ctx.scope, input.thingName!, input.jobId!, {
          status: input.status!,
          statusDetails: input.statusDetails,
          expectedVersion: input.expectedVersion,
          executionNumber: input.executionNumber,
          includeJobExecutionState: input.includeJobExecutionState,
          includeJobDocument: input.includeJobDocument,
          stepTimeoutInMinutes: input.stepTimeoutInMinutes,
        }),
      ),
  ),
};
