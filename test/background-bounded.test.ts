// A background task that cannot write its result ends in a terminal state after a bounded number of attempts, with
// a logged reason; never an endless retry loop. The SBOM validator against a store that refuses its result rows
// (a trigger added here), and against a zip entry named with U+0000 (which PostgreSQL cannot store as text).
// PostgreSQL pool errors are logged.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import { CreateBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  AssociateSbomWithPackageVersionCommand,
  CreatePackageCommand,
  CreatePackageVersionCommand,
  GetPackageVersionCommand,
  ListSbomValidationResultsCommand,
  type IoTClient,
} from '@aws-sdk/client-iot';
import { zipSync } from 'fflate';
import { sql } from 'kysely';
import pg from 'pg';
import { pino } from 'pino';
import { startFlotilla } from '../src/index.ts';
import { Store } from '../src/store/store.ts';
import { KEY, startS3Server, type S3TestServer } from './support/s3.ts';
import { sbomFixture } from './support/sbom-fixtures.ts';
import { createTestDatabase, POSTGRES_URL } from './support/server.ts';

const TEST = { timeout: 60_000 };
const GOOD = sbomFixture('cdx-1.5-trivy-artifact.json');

let t: S3TestServer;
let s3: S3Client;
let iot: IoTClient;
let store: Store;
let versions = 0;

before(async () => {
  t = await startS3Server();
  s3 = t.s3;
  iot = t.server.iot(KEY);
  store = await Store.open(t.server.database);
  await s3.send(new CreateBucketCommand({ Bucket: 'sboms' }));
  await iot.send(new CreatePackageCommand({ packageName: 'fw' }));
  // Every result row whose file name mentions "poison" is refused by the store.
  if (store.dialect === 'postgres') {
    await sql`CREATE FUNCTION poison() RETURNS trigger AS $$ BEGIN IF NEW.file_name LIKE '%poison%' THEN RAISE EXCEPTION 'poisoned row'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql`.execute(
      store.db,
    );
    await sql`CREATE TRIGGER poison BEFORE INSERT ON sbom_results FOR EACH ROW EXECUTE FUNCTION poison()`.execute(store.db);
  } else {
    await sql`CREATE TRIGGER poison BEFORE INSERT ON sbom_results WHEN NEW.file_name LIKE '%poison%' BEGIN SELECT RAISE(ABORT, 'poisoned row'); END`.execute(
      store.db,
    );
  }
});
after(async () => {
  await store.close();
  await t.stop();
});

/** Uploads `body` as `key`, associates it with a new version, and waits (bounded) for a terminal status. */
async function validate(key: string, body: Uint8Array, waitMs = 30_000) {
  const versionName = `v${++versions}`;
  await s3.send(new PutObjectCommand({ Bucket: 'sboms', Key: key, Body: body }));
  await iot.send(new CreatePackageVersionCommand({ packageName: 'fw', versionName }));
  await iot.send(new AssociateSbomWithPackageVersionCommand({ packageName: 'fw', versionName, sbom: { s3Location: { bucket: 'sboms', key } } }));
  const deadline = Date.now() + waitMs;
  for (;;) {
    const v = await iot.send(new GetPackageVersionCommand({ packageName: 'fw', versionName }));
    if (v.sbomValidationStatus !== 'IN_PROGRESS') {
      const results = (await iot.send(new ListSbomValidationResultsCommand({ packageName: 'fw', versionName }))).validationResultSummaries ?? [];
      const attempts = (await store.db.selectFrom('package_versions').select('sbom_attempts').where('version_name', '=', versionName).executeTakeFirstOrThrow())
        .sbom_attempts;
      return { status: v.sbomValidationStatus, results, attempts };
    }
    if (Date.now() > deadline) assert.fail(`${key} still IN_PROGRESS after ${waitMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('a zip entry named with U+0000 ends validated, the character stored as U+FFFD', TEST, async () => {
  const out = await validate('sboms/nul.zip', zipSync({ 'a\u0000b.json': GOOD, 'good.json': GOOD }));
  assert.ok(out.status === 'SUCCEEDED' || out.status === 'FAILED');
  assert.ok(
    out.results.some((r) => r.fileName === 'a\uFFFDb.json'),
    JSON.stringify(out.results),
  );
  assert.equal(out.attempts, 1);
});

test('results the store refuses: FAILED after 3 attempts, with one result saying why', TEST, async () => {
  const out = await validate('sboms/bundle.zip', zipSync({ 'poison.json': GOOD, 'good.json': GOOD }));
  assert.equal(out.status, 'FAILED');
  assert.equal(out.attempts, 3);
  assert.equal(out.results.length, 1, JSON.stringify(out.results));
  assert.equal(out.results[0]!.fileName, 'sboms/bundle.zip');
  assert.equal(out.results[0]!.validationResult, 'FAILED');
  assert.match(out.results[0]!.errorMessage!, /could not be stored after 3 attempts: .*poisoned row/);
});

test('when even the explanation cannot be stored, the validation still ends FAILED (without results)', TEST, async () => {
  const out = await validate('sboms/poison.cdx.json', GOOD);
  assert.deepEqual([out.status, out.results, out.attempts], ['FAILED', [], 3]);
});

test('a validation claimed more than 3 times without ending is FAILED at the next claim, without running again', TEST, async () => {
  const versionName = `v${++versions}`;
  await s3.send(new PutObjectCommand({ Bucket: 'sboms', Key: 'sboms/crashy.json', Body: GOOD }));
  await iot.send(new CreatePackageVersionCommand({ packageName: 'fw', versionName }));
  // Seeded as an IN_PROGRESS validation with three claims behind it (three processes died in turn) and an expired lease.
  await store.db
    .updateTable('package_versions')
    .set({
      sbom: JSON.stringify({ s3Location: { bucket: 'sboms', key: 'sboms/crashy.json' } }),
      sbom_validation_status: 'IN_PROGRESS',
      sbom_attempts: 3,
      sbom_claimed_until: 1,
    })
    .where('version_name', '=', versionName)
    .execute();
  const deadline = Date.now() + 20_000;
  const statusNow = async () => (await iot.send(new GetPackageVersionCommand({ packageName: 'fw', versionName }))).sbomValidationStatus;
  let status = await statusNow();
  while (status === 'IN_PROGRESS') {
    if (Date.now() > deadline) assert.fail('never gave up');
    await new Promise((r) => setTimeout(r, 100));
    status = await statusNow();
  }
  assert.equal(status, 'FAILED');
  const results = (await iot.send(new ListSbomValidationResultsCommand({ packageName: 'fw', versionName }))).validationResultSummaries ?? [];
  assert.equal(results.length, 1);
  assert.match(results[0]!.errorMessage!, /started 3 times without completing/);
});

test('PostgreSQL: an idle connection that fails is logged, and the server goes on', { skip: !POSTGRES_URL, timeout: 30_000 }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'flotilla-pool-'));
  const database = await createTestDatabase(dataDir);
  const lines: string[] = [];
  const log = pino(
    { level: 'warn' },
    new Writable({
      write: (chunk, _enc, done) => {
        lines.push(String(chunk));
        done();
      },
    }),
  );
  const flotilla = await startFlotilla({ port: 0, mqttPort: 0, dataDir, database: database.url }, log);
  try {
    assert.equal((await fetch(`${flotilla.endpoint}/packages`)).status, 200);
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
    await admin.end();
    const deadline = Date.now() + 10_000;
    while (!lines.some((l) => l.includes('idle PostgreSQL connection failed'))) {
      if (Date.now() > deadline) assert.fail(`nothing logged: ${lines.join('')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal((await fetch(`${flotilla.endpoint}/packages`)).status, 200);
  } finally {
    await flotilla.stop();
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
