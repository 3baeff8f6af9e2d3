// Job and job-execution events (jobs-semantics §2.16): the topics and payloads AWS IoT publishes when the account
// enabled JOB / JOB_EXECUTION events. Times in payloads are epoch seconds, like the developer guide's samples.
export type JobOperation = 'completed' | 'canceled' | 'deleted';

export interface JobFacts {
  jobId: string;
  status: string;
  targetSelection: string;
  targets: string[];
  description?: string;
  createdAt: number;
  lastUpdatedAt: number;
  completedAt?: number;
}

const seconds = (ms: number) => Math.floor(ms / 1000);

export const jobEventTopic = (jobId: string, operation: JobOperation) => `$aws/events/job/${jobId}/${operation}`;

export function jobEvent(job: JobFacts, operation: JobOperation, at: number, eventId: string) {
  return {
    eventType: 'JOB',
    eventId,
    timestamp: seconds(at),
    operation,
    jobId: job.jobId,
    status: job.status,
    targetSelection: job.targetSelection,
    targets: job.targets,
    description: job.description,
    createdAt: seconds(job.createdAt),
    lastUpdatedAt: seconds(job.lastUpdatedAt),
    completedAt: job.completedAt === undefined ? undefined : seconds(job.completedAt),
  };
}

/** The execution statuses that have an event, and its topic's last segment. */
const EXECUTION_OPERATIONS: Record<string, string> = {
  SUCCEEDED: 'succeeded',
  FAILED: 'failed',
  REJECTED: 'rejected',
  CANCELED: 'canceled',
  REMOVED: 'removed',
  TIMED_OUT: 'timed_out',
};

export interface ExecutionFacts {
  jobId: string;
  thingArn: string;
  status: string;
  statusDetails?: Record<string, string>;
}

/** The event of an execution that ended, or undefined when its status has none. */
export function executionEvent(execution: ExecutionFacts, at: number, eventId: string): { topic: string; payload: object } | undefined {
  const operation = EXECUTION_OPERATIONS[execution.status];
  if (!operation) return undefined;
  return {
    topic: `$aws/events/jobExecution/${execution.jobId}/${operation}`,
    payload: {
      eventType: 'JOB_EXECUTION',
      eventId,
      timestamp: seconds(at),
      operation,
      jobId: execution.jobId,
      thingArn: execution.thingArn,
      status: execution.status,
      statusDetails: execution.statusDetails,
    },
  };
}
