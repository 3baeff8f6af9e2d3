// Hot queries compiled once: Kysely builds and compiles a query anew on every call (about as much CPU as SQLite
// takes to run a point lookup). A prepared query is built once per SQL dialect with placeholder values, and each
// call only puts its own values in their places; it still runs through the same Kysely connection and transaction.
import type { Compilable, CompiledQuery } from 'kysely';
import type { Db } from './schema.ts';

const MARKER = '\u0000flotilla-param:';

/**
 * `prepared((db, p) => db.selectFrom('t').selectAll().where('a', '=', p.a))` returns a function of (db, params) that
 * runs that query with `params`. Build only from `p`'s values and constants: the query's shape must not depend on them.
 */
export function prepared<P extends object, R>(build: (db: Db, p: P) => Compilable<R>): (db: Db, params: P) => Promise<R[]> {
  // One compiled query per dialect (keyed by its adapter, which a database and its transactions share).
  const compiled = new WeakMap<object, { query: CompiledQuery<R>; slots: Array<{ name: string } | { value: unknown }> }>();
  // While building, each of p's values is a marker string that each call swaps for its own value.
  const markers = new Proxy({} as P, { get: (_target, name) => `${MARKER}${String(name)}` });
  return async (db, params) => {
    const adapter = db.getExecutor().adapter;
    let entry = compiled.get(adapter);
    if (!entry) {
      const query = build(db, markers).compile();
      const slots = query.parameters.map((value) => (typeof value === 'string' && value.startsWith(MARKER) ? { name: value.slice(MARKER.length) } : { value }));
      entry = { query, slots };
      compiled.set(adapter, entry);
    }
    const parameters = entry.slots.map((slot) => ('name' in slot ? (params as Record<string, unknown>)[slot.name] : slot.value));
    const result = await db.executeQuery<R>({ ...entry.query, parameters });
    return result.rows;
  };
}
