// Opens the store (SQLite file or PostgreSQL), runs migrations, and runs units of work in one transaction.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteAdapter, SqliteDialect, type SelectQueryBuilder, type SqliteDatabase } from 'kysely';
import type { Logger } from 'pino';
import { WalSync } from './group-commit.ts';
import { migrations, type Dialect } from './migrations.ts';
import type { Database, Db } from './schema.ts';

export class Store {
  private readonly commitHooks: Array<() => void> = [];

  private constructor(
    readonly db: Db,
    readonly dialect: Dialect,
    /** SQLite's group commit; PostgreSQL makes each commit durable itself. */
    private readonly wal?: WalSync,
  ) {}

  /** `sqlite:<file>` or `postgres://…`; `log` hears errors of idle PostgreSQL connections. */
  static async open(url: string, log?: Pick<Logger, 'warn'>): Promise<Store> {
    const store = url.startsWith('postgres://') || url.startsWith('postgresql://') ? await Store.postgres(url, log) : Store.sqlite(url);
    await store.migrate();
    return store;
  }

  private static sqlite(url: string): Store {
    const file = url.replace(/^sqlite:/, '');
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    const database = new BetterSqlite3(file);
    database.pragma('journal_mode = WAL');
    // Commits reach the -wal file at once (a killed process loses nothing); transaction() then waits for a shared
    // fsync of it (group commit), so an acknowledged write survives power loss too.
    database.pragma('synchronous = NORMAL');
    database.pragma('busy_timeout = 5000');
    const wal = file === ':memory:' ? undefined : new WalSync(`${file}-wal`);
    return new Store(new Kysely<Database>({ dialect: new TransactionalDdlSqliteDialect({ database: withStatementCache(database) }) }), 'sqlite', wal);
  }

  private static async postgres(url: string, log?: Pick<Logger, 'warn'>): Promise<Store> {
    const { default: pg } = await import('pg'); // only PostgreSQL needs it: an SQLite server starts without loading it
    // int8 holds epoch milliseconds and counts: well inside Number's exact range.
    const types = { getTypeParser: (oid: number, format?: any) => (oid === 20 ? Number : pg.types.getTypeParser(oid, format)) };
    const pool = new pg.Pool({ connectionString: url, types, max: 10 });
    // An idle connection the server drops is replaced on next use; unheard, its error would end the process.
    pool.on('error', (err) => log?.warn({ err }, 'an idle PostgreSQL connection failed; the pool replaces it'));
    return new Store(new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }), 'postgres');
  }

  private async migrate(): Promise<void> {
    const provider = { getMigrations: async () => migrations(this.dialect) };
    const { error } = await new Migrator({ db: this.db, provider }).migrateToLatest();
    if (error) throw error;
  }

  /**
   * Runs `work` in one transaction: all of it commits, or none of it. Resolves once the commit is on disk (on SQLite
   * through the group commit), then the commit hooks run.
   */
  async transaction<T>(work: (tx: Db) => Promise<T>): Promise<T> {
    const result = await this.db.transaction().execute(work);
    await this.wal?.durable();
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
    const tables = await this.tables();
    await this.transaction(async (tx) => {
      for (const table of tables) {
        await tx.deleteFrom(table as keyof Database).execute();
      }
    });
  }

  /** Every table the migrations made (not Kysely's own bookkeeping). */
  private async tables(): Promise<string[]> {
    const tables = await this.db.introspection.getTables();
    return tables.map((t) => t.name).filter((name) => !name.startsWith('kysely_'));
  }

  async close(): Promise<void> {
    await this.wal?.close();
    await this.db.destroy();
  }
}

/** SQLite's DDL is transactional: the migrator then runs a fresh store's migrations in one commit, not one fsync per statement. */
class TransactionalDdlSqliteDialect extends SqliteDialect {
  override createAdapter() {
    return new (class extends SqliteAdapter {
      override get supportsTransactionalDdl() {
        return true;
      }
    })();
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
