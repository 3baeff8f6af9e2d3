// The PostgreSQL write figures' anchor and housekeeping: fresh databases created for one bench run and dropped after
// it, and what the `pg` driver alone commits per second with the statements of one Flotilla CreatePackageVersion.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { CREATE_SCHEMA, type SqliteResult } from './sqlite.ts';

/** The server the bench may create databases on (trust auth on this machine); BENCH_POSTGRES_URL overrides it. */
export const POSTGRES_ADMIN_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** Creates a database with a fresh name and returns its URL and a function that drops it. */
export async function freshDatabase(prefix: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `${prefix}_${randomUUID().slice(0, 8)}`;
  const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL, connectionTimeoutMillis: 5000 });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  const drop = async () => {
    const c = new pg.Client({ connectionString: POSTGRES_ADMIN_URL, connectionTimeoutMillis: 5000 });
    await c.connect();
    try {
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } finally {
      await c.end();
    }
  };
  return { url: url.toString(), drop };
}

/**
 * The statements of one CreatePackageVersion with a clientToken (idempotency lookup, package row locked, version
 * insert, idempotency insert) in one transaction through `pg` alone, from `concurrency` callers sharing a pool of
 * Flotilla's size (10): each commit is durable (synchronous_commit on), as Flotilla's are.
 */
export async function rawPgCreateTransactions(url: string, durationMs: number, concurrency: number): Promise<SqliteResult> {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  try {
    await pool.query(CREATE_SCHEMA);
    await pool.query(
      `INSERT INTO packages VALUES ('000000000000', 'us-east-1', 'bench', 'arn:aws:iot:us-east-1:000000000000:package/bench', NULL, NULL, 0, 0)`,
    );
    let n = 0;
    const create = async () => {
      const i = n++;
      const version = `raw-${i}`;
      const token = `token-${i}`;
      const now = Date.now();
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await client.query('SELECT * FROM idempotency WHERE account = $1 AND region = $2 AND operation = $3 AND token = $4', [
          '000000000000',
          'us-east-1',
          'CreatePackageVersion',
          token,
        ]);
        await client.query('SELECT * FROM packages WHERE account = $1 AND region = $2 AND name = $3 FOR UPDATE', ['000000000000', 'us-east-1', 'bench']);
        await client.query('INSERT INTO package_versions VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)', [
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
        ]);
        await client.query('INSERT INTO idempotency VALUES ($1, $2, $3, $4, $5, $6, $7)', [
          '000000000000',
          'us-east-1',
          'CreatePackageVersion',
          token,
          'f'.repeat(64),
          '{"status":"DRAFT"}',
          now,
        ]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw err;
      } finally {
        client.release();
      }
    };
    let count = 0;
    const t0 = performance.now();
    const deadline = t0 + durationMs;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < deadline) {
          await create();
          count++;
        }
      }),
    );
    const elapsed = performance.now() - t0;
    return { count, perSecond: (count / elapsed) * 1000, meanMs: (elapsed * concurrency) / count };
  } finally {
    await pool.end();
  }
}
