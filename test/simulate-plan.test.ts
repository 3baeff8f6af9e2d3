// Pure rules of the device simulator: outcome draws, rates, URLs and package versions read from job documents.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkRates, downloadUrls, formatDuration, packageVersions, pickOutcome, thingNames } from '../src/simulate/plan.ts';
import { progressLine } from '../src/simulate/progress.ts';

test('outcomes follow the rates: reject, then fail, then hang, the rest succeeds', () => {
  const rates = { reject: 0.1, fail: 0.2, hang: 0.3 };
  assert.equal(pickOutcome(rates, 0.05), 'REJECTED');
  assert.equal(pickOutcome(rates, 0.1), 'FAILED');
  assert.equal(pickOutcome(rates, 0.29), 'FAILED');
  assert.equal(pickOutcome(rates, 0.5), 'HANG');
  assert.equal(pickOutcome(rates, 0.61), 'SUCCEEDED');
  assert.equal(pickOutcome({ reject: 0, fail: 0, hang: 0 }, 0), 'SUCCEEDED');
});

test('rates must be fractions adding up to at most 1', () => {
  assert.equal(checkRates({ fail: 0.5, reject: 0.5, hang: 0 }), undefined);
  assert.match(checkRates({ fail: 0.7, reject: 0.5, hang: 0 })!, /add up to 1.2/);
  assert.match(checkRates({ fail: -1, reject: 0, hang: 0 })!, /--fail-rate must be between 0 and 1/);
  assert.match(checkRates({ fail: Number.NaN, reject: 0, hang: 0 })!, /--fail-rate/);
});

test('URLs and package versions are read from anywhere in a document', () => {
  const doc = {
    steps: [{ download: { url: 'https://127.0.0.1:4580/b/fw.bin?X-Amz-Signature=abc' } }, { note: 'not a url: https://x y' }],
    install: 'arn:aws:iot:us-east-1:000000000000:package/firmware/version/2.0.1',
    remove: ['arn:aws:iot:us-east-1:000000000000:package/legacy/version/$null'],
  };
  assert.deepEqual(downloadUrls(doc), ['https://127.0.0.1:4580/b/fw.bin?X-Amz-Signature=abc']);
  assert.deepEqual(packageVersions(doc), { firmware: '2.0.1', legacy: null });
  assert.deepEqual(packageVersions(undefined), {});
});

test('thing names sort in order; durations and the progress line read well', () => {
  assert.deepEqual(thingNames('sim-', 11).slice(0, 2), ['sim-00', 'sim-01']);
  assert.deepEqual(thingNames('d', 1), ['d0']);
  assert.equal(formatDuration(65_000), '1m05s');
  assert.equal(formatDuration(Number.POSITIVE_INFINITY), '--');
  const counts = {
    started: 5,
    inProgress: 2,
    succeeded: 2,
    failed: 1,
    rejected: 0,
    timedOut: 0,
    hung: 0,
    devicesDone: 3,
    downloads: 0,
    downloadedBytes: 0,
    downloadErrors: 0,
    errors: 0,
  };
  assert.equal(progressLine(counts, 10, 1.5, 10), '[###.......] 30% waiting 5 in-progress 2 succeeded 2 failed 1 rejected 0 timed-out 0 hung 0 | 1.5/s ETA 5s');
});
