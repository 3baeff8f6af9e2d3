// Tags of any resource, keyed by its ARN.
import type { Scope } from '../domain/arn.ts';
import type { Db } from './schema.ts';
import { inScope } from './scope.ts';

export const tags = {
  async list(db: Db, scope: Scope, arn: string): Promise<Record<string, string>> {
    const rows = await db
      .selectFrom('tags')
      .select(['tag_key', 'tag_value'])
      .$call(inScope(scope))
      .where('resource_arn', '=', arn)
      .orderBy('tag_key')
      .execute();
    return Object.fromEntries(rows.map((r) => [r.tag_key, r.tag_value]));
  },

  /** Adds or overwrites the given tags. */
  async put(db: Db, scope: Scope, arn: string, entries: Record<string, string>): Promise<void> {
    const values = Object.entries(entries).map(([tag_key, tag_value]) => ({ ...scope, resource_arn: arn, tag_key, tag_value }));
    if (values.length === 0) return;
    await db
      .insertInto('tags')
      .values(values)
      .onConflict((oc) => oc.columns(['account', 'region', 'resource_arn', 'tag_key']).doUpdateSet((eb) => ({ tag_value: eb.ref('excluded.tag_value') })))
      .execute();
  },

  async remove(db: Db, scope: Scope, arn: string, keys?: string[]): Promise<void> {
    let query = db.deleteFrom('tags').$call(inScope(scope)).where('resource_arn', '=', arn);
    if (keys) {
      if (keys.length === 0) return;
      query = query.where('tag_key', 'in', keys);
    }
    await query.execute();
  },
};
