// A device's moves on its job executions, made in-process through the server's own store with the domain's
// transition rules, as the device data plane does (this stands in until that plane is merged: the same rule,
// the same repository call, so the change records the same effects and wakes the engine the same way).
import assert from 'node:assert/strict';
import { deviceUpdate, type ExecutionStatus } from '../../src/domain/jobs/execution-state.ts';
import { patchOf, stateOf } from '../../src/store/execution-rows.ts';
import { executions, jobs } from '../../src/store/jobs.ts';
import type { Flotilla } from '../../src/index.ts';

const SCOPE = { account: '000000000000', region: 'us-east-1' };

/** UpdateJobExecution of the thing's latest execution of the job. */
export async function report(flotilla: Flotilla, jobId: string, thingName: string, status: ExecutionStatus, stepTimeoutInMinutes?: number): Promise<void> {
  const { store } = flotilla;
  await store.transaction(async (tx) => {
    const job = await jobs.lock(tx, SCOPE, jobId, store.dialect);
    const row = await executions.get(tx, SCOPE, jobId, thingName);
    assert.ok(job && row, `no execution of ${jobId} on ${thingName}`);
    const timeoutConfig = job.timeout_config === null ? undefined : JSON.parse(job.timeout_config);
    const result = deviceUpdate(stateOf(row), { status, stepTimeoutInMinutes }, { at: Date.now(), timeoutConfig });
    assert.ok(result.ok, result.ok ? '' : result.message);
    await executions.update(tx, row, patchOf(result.state));
  });
}

/** All executions of the job, straight from the store: thing, number, retry attempt, status, queued time. */
export async function executionRows(flotilla: Flotilla, jobId: string) {
  return flotilla.store.db
    .selectFrom('job_executions')
    .select(['thing_name', 'execution_number', 'retry_attempt', 'status', 'queued_at'])
    .where('job_id', '=', jobId)
    .orderBy('queued_at')
    .orderBy('thing_name')
    .execute();
}
