// The handler of the `device.jobs-changed` effect (subject: the thing): tells the thing's devices what changed in
// their pending jobs (jobs-semantics §3.3, §2.14). It reads the pending list and compares it with what was last
// notified (table job_notify_state). It publishes the notifications first and records the new state after: a crash
// in between runs the handler again (the effect row is still there) and sends them again, so a notification is never
// lost and a duplicate is possible only in that window. Publishing straight to the bus rather than through
// `mqtt.publish` effect rows spares each notification a claim and a delete; order per thing holds because the effect
// runner runs one row per subject at a time and this handler awaits each publish.
import type { Scope } from '../domain/arn.ts';
import { MAX_PENDING_LISTED, planNotifications } from '../domain/jobs/notifications.ts';
import { devicePending, notifyState } from '../store/device-jobs.ts';
import type { OutgoingMessage } from '../bus/types.ts';
import type { ClaimedEffect } from '../store/effects.ts';
import { executions, jobs } from '../store/jobs.ts';
import type { JobExecutionRow } from '../store/schema.ts';
import { DeviceJobs, documentObject, orderedPending, summaryView, type DeviceJobsDeps, type ExecutionView } from './device-jobs.ts';

interface Message {
  topic: string;
  payload: object;
}

/** Longest wait for one publish before the run fails (and is retried by the effect runner). */
const PUBLISH_TIMEOUT_MS = 10_000;

export interface JobsNotifyDeps extends DeviceJobsDeps {
  publish(message: OutgoingMessage): Promise<void>;
}

export function jobsChangedHandler(deps: JobsNotifyDeps): (effect: ClaimedEffect<'device.jobs-changed'>) => Promise<void> {
  const service = new DeviceJobs(deps);
  const { store } = deps;

  // The execution as notify-next and notify-namespace carry it: the document is a JSON object, as in every MQTT reply.
  const executionOf = async (scope: Scope, row: JobExecutionRow, pending: boolean): Promise<object | undefined> => {
    const job = await jobs.get(store.db, scope, row.job_id);
    if (!job) return undefined;
    const view: ExecutionView = await service.view(scope, job, row, pending, Date.now());
    const { jobDocument, ...rest } = view;
    return { ...rest, jobDocument: jobDocument === undefined ? undefined : documentObject(jobDocument) };
  };

  return async ({ scope, subject: thingName }) => {
    // Read and render outside the transaction: signing URLs may reach the network. Runs of one thing never overlap
    // (the effect runner runs one row per subject at a time); the locked re-read below guards a lease taken over.
    const rows = await devicePending.list(store.db, scope, thingName);
    const last = await notifyState.get(store.db, scope, thingName);
    const plan = planNotifications(
      last,
      rows.map((r) => ({
        jobId: r.job_id,
        executionNumber: r.execution_number,
        status: r.status as 'QUEUED' | 'IN_PROGRESS',
        queuedAt: r.queued_at,
        namespaceId: r.namespace_id ?? undefined,
      })),
    );
    if (!plan.notify && !plan.notifyNext && plan.namespaced.length === 0) return;

    const timestamp = Math.floor(Date.now() / 1000);
    const base = `$aws/things/${thingName}/jobs`;
    const listed = orderedPending(rows);
    const messages: Message[] = [];
    if (plan.notify) {
      const shown = listed.slice(0, MAX_PENDING_LISTED);
      const jobsByStatus: Record<string, object[]> = {};
      for (const status of ['IN_PROGRESS', 'QUEUED']) {
        const of = shown.filter((r) => r.status === status).map(summaryView);
        if (of.length) jobsByStatus[status] = of;
      }
      messages.push({ topic: `${base}/notify`, payload: { timestamp, jobs: jobsByStatus } });
    }
    if (plan.notifyNext) {
      const execution = listed[0] && (await executionOf(scope, listed[0], true));
      messages.push({ topic: `${base}/notify-next`, payload: execution ? { timestamp, execution } : { timestamp } });
    }
    for (const jobId of plan.namespaced) {
      const job = await jobs.get(store.db, scope, jobId);
      const row = rows.find((r) => r.job_id === jobId) ?? (await executions.get(store.db, scope, jobId, thingName));
      if (!job?.namespace_id || !row) continue; // the job or the execution is gone: nobody to tell about it
      const pending = row.status === 'QUEUED' || row.status === 'IN_PROGRESS';
      const execution = await executionOf(scope, row, pending);
      if (execution) messages.push({ topic: `${base}/${jobId}/notify-namespace-${job.namespace_id}/`, payload: { timestamp, execution } });
    }

    for (const m of messages) await within(deps.publish({ topic: m.topic, payload: JSON.stringify(m.payload), qos: 1 }), `publishing ${m.topic}`);
    await store.transaction(async (tx) => {
      const now = await notifyState.get(tx, scope, thingName, store.dialect);
      if (JSON.stringify(now) !== JSON.stringify(last)) throw new Error(`the notification state of ${thingName} changed meanwhile; planning again`);
      await notifyState.put(tx, scope, thingName, plan.next, Date.now());
    });
  };
}

async function within(work: Promise<void>, what: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${PUBLISH_TIMEOUT_MS} ms`)), PUBLISH_TIMEOUT_MS);
  });
  try {
    await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
