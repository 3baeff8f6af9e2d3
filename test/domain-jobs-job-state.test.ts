// The job status machine: scheduling, completion (SNAPSHOT vs CONTINUOUS), cancel, abort, endTime, delete
// and the jobProcessDetails counters.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EXECUTION_STATUSES } from '../src/domain/jobs/execution-state.ts';
import {
  abortJob,
  ABORT_REASON_CODE,
  cancelJob,
  closeWindow,
  completionDue,
  deleteJob,
  endTimeEffect,
  initialJobStatus,
  JOB_STATUSES,
  jobProcessDetails,
  MAX_JOBS_DELETING,
  startScheduled,
  type CompletionInput,
  type JobResult,
  type JobStatus,
} from '../src/domain/jobs/job-state.ts';

const NOW = Date.UTC(2025, 5, 1);
const outcome = <T>(r: JobResult<T>) => (r.ok ? r.value : r.kind);
const ACTIVE: JobStatus[] = ['SCHEDULED', 'IN_PROGRESS'];

test('a job is created SCHEDULED when it waits for a start time or window, else IN_PROGRESS', () => {
  assert.equal(initialJobStatus(true), 'SCHEDULED');
  assert.equal(initialJobStatus(false), 'IN_PROGRESS');
});

for (const from of JOB_STATUSES) {
  test(`schedule start from ${from}`, () => {
    if (from === 'SCHEDULED') {
      assert.equal(outcome(startScheduled(from, false)), 'IN_PROGRESS');
      assert.equal(outcome(startScheduled(from, true)), 'CANCELED', 'at the concurrency limit the job is canceled');
    } else assert.equal(outcome(startScheduled(from, false)), 'InvalidStateTransition');
  });
  test(`window end from ${from}`, () => {
    assert.equal(outcome(closeWindow(from)), from === 'IN_PROGRESS' ? 'SCHEDULED' : 'InvalidStateTransition');
  });
}

const base: CompletionInput = { status: 'IN_PROGRESS', targetSelection: 'SNAPSHOT', rolloutFinished: true, openExecutions: 0 };

test('SNAPSHOT completes when rollout is done and nothing is open', () => {
  assert.equal(completionDue(base, NOW), true);
  assert.equal(completionDue({ ...base, openExecutions: 1 }, NOW), false);
  assert.equal(completionDue({ ...base, rolloutFinished: false }, NOW), false);
  assert.equal(completionDue({ ...base, status: 'SCHEDULED' }, NOW), true, 'between windows, once all is done');
});

test('SNAPSHOT whose endTime passed completes even if rollout never reached everyone', () => {
  const ending = { ...base, rolloutFinished: false, endTime: NOW };
  assert.equal(completionDue(ending, NOW - 1), false);
  assert.equal(completionDue(ending, NOW), true);
});

test('CONTINUOUS without endTime never completes', () => {
  assert.equal(completionDue({ ...base, targetSelection: 'CONTINUOUS' }, NOW), false);
});

test('CONTINUOUS with endTime completes at endTime, not before, and only with nothing open', () => {
  const c = { ...base, targetSelection: 'CONTINUOUS' as const, endTime: NOW };
  assert.equal(completionDue(c, NOW - 1), false);
  assert.equal(completionDue(c, NOW), true);
  assert.equal(completionDue({ ...c, openExecutions: 2 }, NOW + 1), false);
});

test('finished jobs do not complete again', () => {
  for (const status of ['COMPLETED', 'CANCELED', 'DELETION_IN_PROGRESS'] as const) assert.equal(completionDue({ ...base, status }, NOW), false);
});

for (const from of JOB_STATUSES) {
  for (const force of [false, true]) {
    test(`CancelJob ${force ? 'with' : 'without'} force on ${from}`, () => {
      const r = cancelJob({ status: from }, { force, reasonCode: 'BAD_BUILD', comment: 'c' });
      if (from === 'COMPLETED' || from === 'DELETION_IN_PROGRESS') {
        assert.equal(outcome(r), 'InvalidRequest');
        return;
      }
      assert.ok(r.ok);
      assert.deepEqual(r.value, {
        status: 'CANCELED',
        forceCanceled: force,
        reasonCode: 'BAD_BUILD',
        comment: 'c',
        cancelExecutions: force ? 'QUEUED_AND_IN_PROGRESS' : 'QUEUED',
      });
    });
  }
}

test('a force-canceled job stays force-canceled when canceled again without force', () => {
  const r = cancelJob({ status: 'CANCELED', forceCanceled: true }, {});
  assert.ok(r.ok);
  assert.equal(r.value.forceCanceled, true);
});

for (const from of JOB_STATUSES) {
  test(`abort on ${from}`, () => {
    const r = abortJob(from);
    if (!ACTIVE.includes(from)) return assert.equal(outcome(r), 'InvalidStateTransition');
    assert.ok(r.ok);
    assert.deepEqual(r.value, { status: 'CANCELED', forceCanceled: false, reasonCode: ABORT_REASON_CODE, cancelExecutions: 'QUEUED' });
  });
}

test('endTime: STOP_ROLLOUT (and no behaviour) only stop rollout; CANCEL and FORCE_CANCEL cancel the job', () => {
  assert.deepEqual(endTimeEffect('IN_PROGRESS', undefined), { stopRollout: true });
  assert.deepEqual(endTimeEffect('IN_PROGRESS', 'STOP_ROLLOUT'), { stopRollout: true });
  assert.deepEqual(endTimeEffect('SCHEDULED', 'CANCEL'), { stopRollout: true, status: 'CANCELED', forceCanceled: false, cancelExecutions: 'QUEUED' });
  assert.deepEqual(endTimeEffect('IN_PROGRESS', 'FORCE_CANCEL'), {
    stopRollout: true,
    status: 'CANCELED',
    forceCanceled: true,
    cancelExecutions: 'QUEUED_AND_IN_PROGRESS',
  });
  for (const status of ['COMPLETED', 'CANCELED', 'DELETION_IN_PROGRESS'] as const) assert.equal(endTimeEffect(status, 'CANCEL'), undefined);
});

for (const from of JOB_STATUSES) {
  for (const force of [false, true]) {
    const expected = from === 'DELETION_IN_PROGRESS' || (ACTIVE.includes(from) && !force) ? 'InvalidStateTransition' : 'DELETION_IN_PROGRESS';
    test(`DeleteJob ${force ? 'with' : 'without'} force on ${from}: ${expected}`, () => {
      assert.equal(outcome(deleteJob(from, force, 0)), expected);
    });
  }
}

test('at most 10 jobs in DELETION_IN_PROGRESS: the 10th is accepted, the 11th is LimitExceeded', () => {
  assert.equal(MAX_JOBS_DELETING, 10);
  assert.equal(outcome(deleteJob('COMPLETED', false, 9)), 'DELETION_IN_PROGRESS');
  assert.equal(outcome(deleteJob('COMPLETED', false, 10)), 'LimitExceeded');
  assert.equal(outcome(deleteJob('IN_PROGRESS', false, 10)), 'InvalidStateTransition', 'the state is checked first');
});

test('jobProcessDetails counts each status into its own counter', () => {
  const counts = Object.fromEntries(EXECUTION_STATUSES.map((s) => [s, 1]));
  assert.deepEqual(jobProcessDetails({ ...counts, SUCCEEDED: 3, QUEUED: 2 }), {
    numberOfCanceledThings: 1,
    numberOfSucceededThings: 3,
    numberOfFailedThings: 1,
    numberOfRejectedThings: 1,
    numberOfQueuedThings: 2,
    numberOfInProgressThings: 1,
    numberOfRemovedThings: 1,
    numberOfTimedOutThings: 1,
  });
});

test('jobProcessDetails: processingTargets only while rolling out; empty input gives zeros', () => {
  const d = jobProcessDetails({}, ['arn:aws:iot:eu-west-1:123456789012:thinggroup/g']);
  assert.deepEqual(d.processingTargets, ['arn:aws:iot:eu-west-1:123456789012:thinggroup/g']);
  assert.equal(d.numberOfQueuedThings, 0);
  assert.equal('processingTargets' in jobProcessDetails({}), false);
});
