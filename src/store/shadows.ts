// Repository of device shadows. A row outlives its shadow's deletion (state null) so the version carries on.
import { sql } from 'kysely';
import type { Scope } from '../domain/arn.ts';
import type { Db, ShadowRow } from './schema.ts';
import { inScope } from './scope.ts';

type Patch = Partial<Pick<ShadowRow, 'state' | 'metadata' | 'version' | 'created_at' | 'updated_at' | 'deleted_at'>>;

export const shadows = {
  get(db: Db, scope: Scope, thingName: string, shadowName: string): Promise<ShadowRow | undefined> {
    return db
      .selectFrom('shadows')
      .selectAll()
      .$call(inScope(scope))
      .where('thing_name', '=', thingName)
      .where('shadow_name', '=', shadowName)
      .executeTakeFirst();
  },

  /**
   * The row, locked for the rest of the transaction. A shadow never seen before gets a placeholder row first (deleted
   * long ago, version 0), so that concurrent first writes queue on one row instead of racing to insert it.
   */
  async lock(db: Db, scope: Scope, thingName: string, shadowName: string, now: number): Promise<ShadowRow> {
    await db
      .insertInto('shadows')
      .values({
        ...scope,
        thing_name: thingName,
        shadow_name: shadowName,
        state: null,
        metadata: null,
        version: 0,
        created_at: now,
        updated_at: now,
        deleted_at: 0,
      })
      .onConflict((oc) => oc.columns(['account', 'region', 'thing_name', 'shadow_name']).doNothing())
      .execute();
    // A no-op write takes the row lock on PostgreSQL (SQLite has a single writer already).
    await db
      .updateTable('shadows')
      .set({ version: sql`version` })
      .$call(inScope(scope))
      .where('thing_name', '=', thingName)
      .where('shadow_name', '=', shadowName)
      .execute();
    return (await shadows.get(db, scope, thingName, shadowName))!;
  },

  async update(db: Db, scope: Scope, thingName: string, shadowName: string, patch: Patch): Promise<void> {
    await db.updateTable('shadows').set(patch).$call(inScope(scope)).where('thing_name', '=', thingName).where('shadow_name', '=', shadowName).execute();
  },

  /** Names of the thing's live named shadows after `after`, in byte order. */
  async listNamed(db: Db, scope: Scope, thingName: string, after: string | undefined, limit: number): Promise<string[]> {
    let query = db
      .selectFrom('shadows')
      .select('shadow_name')
      .$call(inScope(scope))
      .where('thing_name', '=', thingName)
      .where('shadow_name', '<>', '')
      .where('state', 'is not', null);
    if (after !== undefined) query = query.where('shadow_name', '>', after);
    const rows = await query.orderBy('shadow_name').limit(limit).execute();
    return rows.map((r) => r.shadow_name);
  },
};
