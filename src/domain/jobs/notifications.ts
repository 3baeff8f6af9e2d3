// What a thing's devices hear after its pending job executions change (jobs-semantics §3.3, §2.14): the pending
// list and its order, and which notifications a change calls for compared with what was last sent.

/** At most this many executions are listed by GetPendingJobExecutions and `notify`. */
export const MAX_PENDING_LISTED = 10;

export interface PendingExecution {
  jobId: string;
  executionNumber: number;
  status: 'QUEUED' | 'IN_PROGRESS';
  queuedAt: number;
  /** Set for customer-managed jobs: they notify on their own topic and stay out of the list. */
  namespaceId?: string;
}

/** IN_PROGRESS first, then by queue time (job id breaks ties): the order of the list and of `$next`. */
export function orderPending<T extends PendingExecution>(executions: readonly T[]): T[] {
  const rank = (e: PendingExecution) => (e.status === 'IN_PROGRESS' ? 0 : 1);
  return [...executions].sort((a, b) => rank(a) - rank(b) || a.queuedAt - b.queuedAt || (a.jobId < b.jobId ? -1 : a.jobId > b.jobId ? 1 : 0));
}

/** What was last notified for a thing; the empty state when nothing was ever sent. */
export interface NotifiedState {
  /** One entry per listed execution: `jobId#executionNumber#status`, in list order. */
  list: string[];
  /** `jobId#executionNumber` of the head of the list, or null when the list was empty. */
  head: string | null;
  /** Pending customer-managed executions: jobId → `executionNumber#status`. */
  namespaced: Record<string, string>;
}

export const NOTHING_NOTIFIED: NotifiedState = { list: [], head: null, namespaced: {} };

export interface NotificationPlan {
  /** Send `notify` with the current list. */
  notify: boolean;
  /** Send `notify-next`: with the new head, or without `execution` when the list emptied. */
  notifyNext: boolean;
  /** Customer-managed jobs whose execution changed (status, attempt, or it left the pending set). */
  namespaced: string[];
  next: NotifiedState;
}

/**
 * Compares the current pending executions with what was last notified. The list notification follows any change of
 * its entries (an execution queued, started, or finished); notify-next only a change of the head, not of its status.
 */
export function planNotifications(last: NotifiedState, pending: readonly PendingExecution[]): NotificationPlan {
  const ordered = orderPending(pending);
  const listed = ordered.filter((e) => e.namespaceId === undefined);
  const list = listed.slice(0, MAX_PENDING_LISTED).map((e) => `${e.jobId}#${e.executionNumber}#${e.status}`);
  const head = listed.length ? `${listed[0].jobId}#${listed[0].executionNumber}` : null;
  const namespaced: Record<string, string> = {};
  for (const e of ordered) if (e.namespaceId !== undefined) namespaced[e.jobId] = `${e.executionNumber}#${e.status}`;
  const changedNamespaced = [...new Set([...Object.keys(last.namespaced), ...Object.keys(namespaced)])]
    .filter((jobId) => last.namespaced[jobId] !== namespaced[jobId])
    .sort();
  return {
    notify: list.length !== last.list.length || list.some((entry, i) => entry !== last.list[i]),
    notifyNext: head !== last.head,
    namespaced: changedNamespaced,
    next: { list, head, namespaced },
  };
}
