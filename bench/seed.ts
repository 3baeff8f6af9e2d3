// Seeds a migrated Flotilla SQLite file directly (better-sqlite3, one transaction, no fsyncs) with `total` rows
// across packages, package versions, things and job executions, for the start-up-under-data figure.
import { statSync } from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';

const ACCOUNT = '000000000000';
const REGION = 'us-east-1';
const ARN = `arn:aws:iot:${REGION}:${ACCOUNT}`;

export function seedRows(file: string, total: number): { rows: number; detail: string; fileMiB: number } {
  const db = new BetterSqlite3(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  const packages = Math.max(1, Math.round(total * 0.01));
  const versionsPer = Math.max(1, Math.round((total * 0.39) / packages));
  const things = Math.round(total * 0.3);
  const jobs = Math.max(1, Math.round(total * 0.001));
  const executions = total - packages - packages * versionsPer - things - jobs;
  const now = Date.now();
  const pkg = db.prepare('INSERT INTO packages (account, region, name, arn, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)');
  const ver = db.prepare(
    `INSERT INTO package_versions (account, region, package_name, version_name, arn, description, attributes, status, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, 'seeded', '{"kind":"seed"}', 'PUBLISHED', ?, ?)`,
  );
  const thing = db.prepare(
    `INSERT INTO things (account, region, name, arn, thing_id, attributes, version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, '{}', 1, ?, ?)`,
  );
  const job = db.prepare(
    `INSERT INTO jobs (account, region, job_id, arn, status, target_selection, targets, document, document_before, created_at, updated_at)
     VALUES (?, ?, ?, ?, 'IN_PROGRESS', 'SNAPSHOT', '[]', '{}', '{}', ?, ?)`,
  );
  const exec = db.prepare(
    `INSERT INTO job_executions (account, region, job_id, thing_name, execution_number, thing_arn, status, version_number, retry_attempt, queued_at, last_updated_at)
     VALUES (?, ?, ?, ?, ?, ?, 'QUEUED', 1, 0, ?, ?)`,
  );
  db.transaction(() => {
    for (let p = 0; p < packages; p++) {
      const name = `pkg-${p}`;
      pkg.run(ACCOUNT, REGION, name, `${ARN}:package/${name}`, now, now);
      for (let v = 0; v < versionsPer; v++) ver.run(ACCOUNT, REGION, name, `1.${v}.0`, `${ARN}:package/${name}/version/1.${v}.0`, now, now);
    }
    for (let t = 0; t < things; t++) thing.run(ACCOUNT, REGION, `thing-${t}`, `${ARN}:thing/thing-${t}`, `id-${t}`, now, now);
    for (let j = 0; j < jobs; j++) job.run(ACCOUNT, REGION, `job-${j}`, `${ARN}:job/job-${j}`, now, now);
    for (let e = 0; e < executions; e++) {
      const t = e % things;
      exec.run(ACCOUNT, REGION, `job-${Math.floor(e / things) % jobs}`, `thing-${t}`, 1 + Math.floor(e / (things * jobs)), `${ARN}:thing/thing-${t}`, now, now);
    }
  })();
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  const detail = `${packages} packages, ${packages * versionsPer} versions, ${things} things, ${jobs} jobs, ${executions} executions`;
  return { rows: packages + packages * versionsPer + things + jobs + executions, detail, fileMiB: statSync(file).size / 2 ** 20 };
}
