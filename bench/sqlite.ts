// The durability floor: what better-sqlite3 alone commits per second with Flotilla's settings
// (WAL, synchronous=FULL) on the same filesystem, so the API's durable write rate can be read against it.
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import BetterSqlite3 from 'better-sqlite3';

export interface SqliteResult {
  count: number;
  perSecond: number;
  /** Mean time of one commit, in ms. */
  meanMs: number;
}

export const CREATE_SCHEMA = `
  CREATE TABLE package_versions (
    account text NOT NULL, region text NOT NULL, package_name text NOT NULL, version_name text NOT NULL,
    arn text NOT NULL, description text, attributes text, artifact text, recipe text, status text NOT NULL,
    error_reason text, sbom text, sbom_validation_status text, created_at bigint NOT NULL, updated_at bigint NOT NULL,
    CONSTRAINT package_versions_pk PRIMARY KEY (account, region, package_name, version_name));
  CREATE TABLE packages (
    account text NOT NULL, region text NOT NULL, name text NOT NULL, arn text NOT NULL, description text,
    default_version text, created_at bigint NOT NULL, updated_at bigint NOT NULL,
    CONSTRAINT packages_pk PRIMARY KEY (account, region, name));
  CREATE TABLE idempotency (
    account text NOT NULL, region text NOT NULL, operation text NOT NULL, token text NOT NULL,
    request_hash text NOT NULL, response text NOT NULL, created_at bigint NOT NULL,
    CONSTRAINT idempotency_pk PRIMARY KEY (account, region, operation, token));
  CREATE INDEX idempotency_created ON idempotency (created_at);
`;

function open(dir: string, name: string) {
  const db = new BetterSqlite3(join(dir, name));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(CREATE_SCHEMA);
  db.prepare(`INSERT INTO packages VALUES ('000000000000', 'us-east-1', 'bench', 'arn:aws:iot:us-east-1:000000000000:package/bench', NULL, NULL, 0, 0)`).run();
  return db;
}

function versionRow(n: number) {
  const version = `raw-${n}`;
  const now = Date.now();
  return [
    '000000000000',
    'us-east-1',
    'bench',
    version,
    `arn:aws:iot:us-east-1:000000000000:package/bench/version/${version}`,
    'bench version',
    '{"kind":"bench"}',
    null,
    null,
    'DRAFT',
    null,
    null,
    null,
    now,
    now,
  ];
}

function timed(durationMs: number, step: (n: number) => void): SqliteResult {
  let count = 0;
  const t0 = performance.now();
  const deadline = t0 + durationMs;
  while (performance.now() < deadline) step(count++);
  const elapsed = performance.now() - t0;
  return { count, perSecond: (count / elapsed) * 1000, meanMs: elapsed / count };
}

/** One autocommit INSERT per row: one WAL fsync per row. */
export function rawInserts(dir: string, durationMs: number): SqliteResult {
  const db = open(dir, 'raw-insert.db');
  try {
    const insert = db.prepare('INSERT INTO package_versions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
    return timed(durationMs, (n) => insert.run(versionRow(n)));
  } finally {
    db.close();
  }
}

/**
 * The statements of one Flotilla CreatePackageVersion with a clientToken, in one transaction
 * (idempotency lookup, package lookup, version insert, idempotency insert): still one fsync per commit.
 */
export function rawCreateTransactions(dir: string, durationMs: number): SqliteResult {
  const db = open(dir, 'raw-tx.db');
  try {
    const findToken = db.prepare('SELECT * FROM idempotency WHERE account = ? AND region = ? AND operation = ? AND token = ?');
    const findPackage = db.prepare('SELECT * FROM packages WHERE account = ? AND region = ? AND name = ?');
    const insertVersion = db.prepare('INSERT INTO package_versions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
    const insertToken = db.prepare('INSERT INTO idempotency VALUES (?, ?, ?, ?, ?, ?, ?)');
    const create = db.transaction((n: number) => {
      const token = `token-${n}`;
      findToken.get('000000000000', 'us-east-1', 'CreatePackageVersion', token);
      findPackage.get('000000000000', 'us-east-1', 'bench');
      insertVersion.run(versionRow(n));
      insertToken.run('000000000000', 'us-east-1', 'CreatePackageVersion', token, 'f'.repeat(64), '{"status":"DRAFT"}', Date.now());
    });
    return timed(durationMs, (n) => create(n));
  } finally {
    db.close();
  }
}
