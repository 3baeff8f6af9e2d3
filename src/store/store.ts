// Opens the store (SQLite file or PostgreSQL), runs migrations, and runs units of work in one transaction.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, type SelectQueryBuilder, type SqliteDatabase } from 'kysely';
import pg from 'pg';
import { migrations, type Dialect } from './migrations.ts';
import type { Database, Db } from './schema.ts';

export class Store {
  private readonly commitHooks: Array<() => void> = [];

  private constructor(
    readonly db: Db,
    readonly dialect: Dialect,
  ) {}

  /** `sqlite:<file>` or `postgres://…`. */
  static async open(url: string): Promise<Store> {
    const store = url.startsWith('postgres://') || url.startsWith('postgresql://') ? Store.postgres(url) : Store.sqlite(url);
    await store.migrate();
    return store;
  }

  private static sqlite(url: string): Store {
    const file = url.replace(/^sqlite:/, '');
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    const database = new BetterSqlite3(file);
    database.pragma('journal_mode = WAL');
    database.pragma('synchronous = FULL'); // an acknowledged write survives power loss
    database.pragma('busy_timeout = 5000');
    return new Store(new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(database) }) }), 'sqlite');
  }

  private static postgres(url: string): Store {
    // int8 holds epoch milliseconds and counts: well inside Number's exact range.
    const types = { getTypeParser: (oid: number, format?: any) => (oid === 20 ? Number : pg.types.getTypeParser(oid, format)) };
    const pool = new pg.Pool({ connectionString: url, types, max: 10 });
    // An idle connection the server drops is replaced on next use; unheard, its error would end the process.
    pool.on('error', () => {});
    return new Store(new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }), 'postgres');
  }

  private async migrate(): Promise<void> {
    const provider = { getMigrations: async () => migrations(this.dialect) };
    const { error } = await new Migrator({ db: this.db, provider }).migrateToLatest();
    if (error) throw error;
  }

  /** Runs `work` in one transaction: all of it commits, or none of it. Then the commit hooks run. */
  async transaction<T>(work: (tx: Db) => Promise<T>): Promise<T> {
    const result = await this.db.transaction().execute(work);
    for (const hook of this.commitHooks) hook();
    return result;
  }

  /**
   * Runs `hook` after every committed transaction. The server wires the effect runner's wake-up here, so effects a
   * transaction recorded are carried out right after it commits.
   */
  afterCommit(hook: () => void): void {
    this.commitHooks.push(hook);
  }

  /** Locks the selected rows until the transaction ends (PostgreSQL; SQLite has a single writer already). */
  forUpdate<QB extends SelectQueryBuilder<Database, any, any>>(query: QB): QB {
    return this.dialect === 'postgres' ? (query.forUpdate() as QB) : query;
  }

  /** Wipes every row of every table (the admin reset). */
  async reset(): Promise<void> {
    await this.transaction(async (tx) => {
      for (const table of ['effects', 'packages', 'package_versions', 'tags', 'package_config', 'idempotency', 's3_objects', 's3_buckets', 'things', 'thing_attributes', 'thing_types', 'thing_groups', 'thing_group_members', 'indexing_config', 'jobs', 'job_targets', 'job_executions', 'job_templates', 'sbom_results', 'mqtt_connectivity', 'retained_messages', 'shadows'] as const) {
        await tx.deleteFrom(table).execute();
      }
    });
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}

/**
 * Kysely prepares every statement anew; a prepared statement costs about as much as running a point
 * lookup, so keep the most recent ones by their SQL text (statements are reusable in better-sqlite3).
 */
function withStatementCache(database: BetterSqlite3.Database, size = 500): SqliteDatabase {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => database.close(),
    prepare(sql: string) {
      let statement = cache.get(sql);
      if (statement) {
        cache.delete(sql); // re-inserted below: the map's order is recency
      } else {
        statement = database.prepare(sql);
        if (cache.size >= size) cache.delete(cache.keys().next().value!);
      }
      cache.set(sql, statement);
      return statement;
    },
  };
}

/** True when the error is a primary-key or unique violation, on either database. */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string };
  return e?.code === '23505' || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE';
}
