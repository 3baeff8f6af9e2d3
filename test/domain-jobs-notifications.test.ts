// Pure rules of device notifications: list order, when notify and notify-next are due, namespaced jobs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NOTHING_NOTIFIED, orderPending, planNotifications, type PendingExecution } from '../src/domain/jobs/notifications.ts';

const q = (jobId: string, queuedAt: number, status: PendingExecution['status'] = 'QUEUED', namespaceId?: string): PendingExecution => ({
  jobId,
  executionNumber: 1,
  status,
  queuedAt,
  namespaceId,
});

test('IN_PROGRESS comes first, then queue time, then job id', () => {
  assert.deepEqual(
    orderPending([q('c', 3), q('b', 1), q('a', 1), q('d', 9, 'IN_PROGRESS')]).map((e) => e.jobId),
    ['d', 'a', 'b', 'c'],
  );
});

test('the example of the developer guide, step by step', () => {
  let plan = planNotifications(NOTHING_NOTIFIED, [q('job1', 1)]);
  assert.deepEqual([plan.notify, plan.notifyNext], [true, true]);
  plan = planNotifications(plan.next, [q('job1', 1), q('job2', 2)]);
  assert.deepEqual([plan.notify, plan.notifyNext], [true, false], 'a second job changes the list, not the head');
  plan = planNotifications(plan.next, [q('job1', 1, 'IN_PROGRESS'), q('job2', 2)]);
  assert.deepEqual([plan.notify, plan.notifyNext], [true, false], 'the head started: the list changed, the head did not');
  const same = planNotifications(plan.next, [q('job1', 1, 'IN_PROGRESS'), q('job2', 2)]);
  assert.deepEqual([same.notify, same.notifyNext], [false, false], 'nothing changed, nothing is sent');
  plan = planNotifications(plan.next, [q('job2', 2)]);
  assert.deepEqual([plan.notify, plan.notifyNext], [true, true], 'the head finished');
  plan = planNotifications(plan.next, []);
  assert.deepEqual([plan.notify, plan.notifyNext, plan.next.head], [true, true, null], 'the list emptied');
  assert.deepEqual([planNotifications(plan.next, []).notify, planNotifications(plan.next, []).notifyNext], [false, false]);
});

test('a new attempt of the same job is a new head', () => {
  const first = planNotifications(NOTHING_NOTIFIED, [q('job1', 1)]);
  const retry = planNotifications(first.next, [{ ...q('job1', 5), executionNumber: 2 }]);
  assert.deepEqual([retry.notify, retry.notifyNext], [true, true]);
});

test('only the first ten are listed: changes past them send nothing', () => {
  const ten = Array.from({ length: 10 }, (_, i) => q(`j${i}`, i));
  const plan = planNotifications(NOTHING_NOTIFIED, ten);
  assert.equal(plan.next.list.length, 10);
  const more = planNotifications(plan.next, [...ten, q('late', 99)]);
  assert.deepEqual([more.notify, more.notifyNext], [false, false]);
});

test('namespaced jobs stay out of the list and are reported when they change', () => {
  let plan = planNotifications(NOTHING_NOTIFIED, [q('ns-job', 1, 'QUEUED', 'edge')]);
  assert.deepEqual([plan.notify, plan.notifyNext, plan.namespaced], [false, false, ['ns-job']]);
  plan = planNotifications(plan.next, [q('ns-job', 1, 'IN_PROGRESS', 'edge'), q('plain', 2)]);
  assert.deepEqual([plan.notify, plan.notifyNext, plan.namespaced], [true, true, ['ns-job']]);
  plan = planNotifications(plan.next, [q('plain', 2)]);
  assert.deepEqual([plan.notify, plan.notifyNext, plan.namespaced], [false, false, ['ns-job']], 'it left the pending set');
  assert.deepEqual(plan.next.namespaced, {});
});
