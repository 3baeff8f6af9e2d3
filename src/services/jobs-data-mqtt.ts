// The jobs device protocol over MQTT (jobs-semantics §3.1–§3.4): requests on `$aws/things/{thing}/jobs/get`,
// `/start-next`, `/{jobId}/get` and `/{jobId}/update`, answered on the request topic + `/accepted` or `/rejected`
// with AWS's payloads and error documents. It reads the payload, then calls the same device jobs service as HTTPS.
// Every message on a jobs request topic gets an answer: a malformed one its error document, never silence.
import type { Logger } from 'pino';
import type { DeviceMessage, OutgoingMessage, TopicHandler } from '../bus/types.ts';
import { EXECUTION_STATUSES, type ExecutionStatus } from '../domain/jobs/execution-state.ts';
import {
  DeviceJobs,
  DeviceJobsError,
  documentObject,
  type DeviceErrorKind,
  type DeviceJobsDeps,
  type ExecutionStateView,
  type ExecutionView,
} from './device-jobs.ts';

const JOBS_TOPIC = /^\$aws\/things\/([^/]*)\/jobs(?:\/(.*))?$/;
const THING_NAME = /^[a-zA-Z0-9:_-]{1,128}$/;
const JOB_ID = /^[a-zA-Z0-9_-]{1,64}$/;
const MAX_CLIENT_TOKEN = 64;

export type JobsErrorCode =
  | 'InvalidTopic'
  | 'InvalidJson'
  | 'InvalidRequest'
  | 'InvalidStateTransition'
  | 'ResourceNotFound'
  | 'VersionMismatch'
  | 'TerminalStateReached'
  | 'RequestThrottled'
  | 'InternalError';

const CODES: Record<DeviceErrorKind, JobsErrorCode> = {
  InvalidRequest: 'InvalidRequest',
  InvalidStateTransition: 'InvalidStateTransition',
  VersionConflict: 'VersionMismatch',
  TerminalState: 'TerminalStateReached',
  ResourceNotFound: 'ResourceNotFound',
};

class Rejection extends Error {
  constructor(
    readonly code: JobsErrorCode,
    message: string,
    readonly executionState?: ExecutionStateView,
  ) {
    super(message);
  }
}

export interface JobsTopicDeps extends DeviceJobsDeps {
  log?: Logger;
}

export function jobsTopicHandler(deps: JobsTopicDeps): TopicHandler {
  const service = new DeviceJobs(deps);
  return {
    accepts: (topic) => JOBS_TOPIC.test(topic),
    async handle(message: DeviceMessage): Promise<OutgoingMessage[]> {
      const timestamp = Math.floor(Date.now() / 1000);
      let clientToken: string | undefined;
      try {
        const request = readPayload(message.payload);
        clientToken = readClientToken(request);
        const body = await answer(service, message, request);
        return [{ topic: `${message.topic}/accepted`, payload: JSON.stringify({ ...body, timestamp, clientToken }) }];
      } catch (err) {
        const rejection = asRejection(err, deps.log, message);
        // executionState belongs only to these two codes (AWS's ErrorResponse).
        const withState = rejection.code === 'InvalidStateTransition' || rejection.code === 'VersionMismatch';
        const error = {
          code: rejection.code,
          message: rejection.message,
          clientToken,
          timestamp,
          executionState: withState ? rejection.executionState : undefined,
        };
        return [{ topic: `${message.topic}/rejected`, payload: JSON.stringify(error) }];
      }
    },
  };
}

async function answer(service: DeviceJobs, message: DeviceMessage, request: Record<string, unknown>): Promise<object> {
  const [, thingName, rest = ''] = JOBS_TOPIC.exec(message.topic)!;
  const parts = rest.split('/');
  const operation = parts.length === 1 ? parts[0] : parts.length === 2 && (parts[1] === 'get' || parts[1] === 'update') ? `{jobId}/${parts[1]}` : '';
  if (!['get', 'start-next', '{jobId}/get', '{jobId}/update'].includes(operation)) {
    throw new Rejection('InvalidTopic', `The topic ${message.topic} does not map to any jobs operation`);
  }
  if (!THING_NAME.test(thingName)) throw new Rejection('InvalidRequest', `The thing name '${thingName}' must be 1-128 characters of [a-zA-Z0-9:_-]`);
  const { scope } = message;
  if (operation === 'get') return service.pending(scope, thingName);
  if (operation === 'start-next') {
    return wire(await service.startNext(scope, thingName, { statusDetails: details(request), stepTimeoutInMinutes: integer(request, 'stepTimeoutInMinutes') }));
  }
  const jobId = parts[0];
  const isNext = jobId === '$next' && operation === '{jobId}/get';
  if (!isNext && !JOB_ID.test(jobId)) throw new Rejection('InvalidRequest', `The job id '${jobId}' must be 1-64 characters of [a-zA-Z0-9_-]`);
  if (operation === '{jobId}/get') {
    return wire(
      await service.describe(scope, thingName, jobId, {
        executionNumber: integer(request, 'executionNumber'),
        includeJobDocument: flag(request, 'includeJobDocument'),
      }),
    );
  }
  const result = await service.update(scope, thingName, jobId, {
    status: status(request),
    statusDetails: details(request),
    expectedVersion: integer(request, 'expectedVersion'),
    executionNumber: integer(request, 'executionNumber'),
    includeJobExecutionState: flag(request, 'includeJobExecutionState'),
    includeJobDocument: flag(request, 'includeJobDocument'),
    stepTimeoutInMinutes: integer(request, 'stepTimeoutInMinutes'),
  });
  return { executionState: result.executionState, jobDocument: result.jobDocument === undefined ? undefined : documentObject(result.jobDocument) };
}

/** Over MQTT the job document is a JSON object, not the string HTTPS sends. */
function wire(result: { execution?: ExecutionView }): object {
  if (!result.execution) return {};
  const { jobDocument, ...execution } = result.execution;
  return { execution: { ...execution, jobDocument: jobDocument === undefined ? undefined : documentObject(jobDocument) } };
}

// An empty payload reads as `{}`, as an empty HTTPS body does; anything else must be a JSON object in UTF-8.
function readPayload(payload: Buffer): Record<string, unknown> {
  if (payload.length === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch {
    throw new Rejection('InvalidJson', 'The request payload could not be read as UTF-8 encoded JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Rejection('InvalidRequest', 'The request payload must be a JSON object');
  return value as Record<string, unknown>;
}

function readClientToken(request: Record<string, unknown>): string | undefined {
  const token = request.clientToken;
  if (token === undefined) return undefined;
  if (typeof token !== 'string' || token.length < 1 || token.length > MAX_CLIENT_TOKEN) {
    throw new Rejection('InvalidRequest', `clientToken must be a string of 1-${MAX_CLIENT_TOKEN} characters`);
  }
  return token;
}

function integer(request: Record<string, unknown>, name: string): number | undefined {
  const value = request[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw new Rejection('InvalidRequest', `${name} must be an integer`);
  return value;
}

function flag(request: Record<string, unknown>, name: string): boolean | undefined {
  const value = request[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw new Rejection('InvalidRequest', `${name} must be true or false`);
  return value;
}

function details(request: Record<string, unknown>): Record<string, string> | undefined {
  const value = request.statusDetails;
  if (value === undefined) return undefined;
  if (value === null || typeof value !== 'object' || Array.isArray(value) || Object.values(value).some((v) => typeof v !== 'string')) {
    throw new Rejection('InvalidRequest', 'statusDetails must be an object of string values');
  }
  return value as Record<string, string>;
}

function status(request: Record<string, unknown>): ExecutionStatus {
  const value = request.status;
  if (value === undefined) throw new Rejection('InvalidRequest', 'status is required');
  if (typeof value !== 'string' || !(EXECUTION_STATUSES as readonly string[]).includes(value)) {
    throw new Rejection('InvalidRequest', `status must be one of ${EXECUTION_STATUSES.join(', ')}`);
  }
  return value as ExecutionStatus;
}

/** Busy databases (SQLite's lock wait, PostgreSQL deadlocks and lock timeouts) ask the device to try again. */
const BUSY = new Set(['SQLITE_BUSY', 'SQLITE_LOCKED', '40001', '40P01', '55P03']);

function asRejection(err: unknown, log: Logger | undefined, message: DeviceMessage): Rejection {
  if (err instanceof Rejection) return err;
  if (err instanceof DeviceJobsError) return new Rejection(CODES[err.kind], err.message, err.executionState);
  if (BUSY.has((err as { code?: string })?.code ?? '')) return new Rejection('RequestThrottled', 'The request was throttled; try again');
  log?.error({ err, topic: message.topic, clientId: message.clientId }, 'jobs request failed');
  return new Rejection('InternalError', 'An internal error occurred; the request was not applied');
}
