// Repositories of the thing registry: things, thing types, static thing groups and their members, indexing config.
import { sql } from 'kysely';
import type { Scope } from '../domain/arn.ts';
import type { Db, IndexingConfigRow, ThingGroupRow, ThingRow, ThingTypeRow } from './schema.ts';
import { inScope } from './scope.ts';

type Patch<T> = Partial<Omit<T, 'account' | 'region' | 'name'>>;
type Dialect = 'sqlite' | 'postgres';

/** `substr(column, 1, length(prefix)) = prefix`: a byte-exact, case-sensitive prefix match on both databases. */
const startsWith = (column: string, prefix: string) => sql<boolean>`substr(${sql.ref(column)}, 1, ${prefix.length}) = ${prefix}`;

export const things = {
  get(db: Db, scope: Scope, name: string): Promise<ThingRow | undefined> {
    return db.selectFrom('things').selectAll().$call(inScope(scope)).where('name', '=', name).executeTakeFirst();
  },

  /** Locks the thing row for the rest of the transaction (PostgreSQL). */
  lock(db: Db, scope: Scope, name: string, dialect: Dialect): Promise<ThingRow | undefined> {
    let query = db.selectFrom('things').selectAll().$call(inScope(scope)).where('name', '=', name);
    if (dialect === 'postgres') query = query.forUpdate();
    return query.executeTakeFirst();
  },

  async insert(db: Db, row: ThingRow): Promise<void> {
    await db.insertInto('things').values(row).execute();
    await things.writeAttributes(db, row, row.name, JSON.parse(row.attributes));
  },

  async update(db: Db, scope: Scope, name: string, patch: Patch<ThingRow>): Promise<void> {
    await db.updateTable('things').set(patch).$call(inScope(scope)).where('name', '=', name).execute();
    if (patch.attributes !== undefined) await things.writeAttributes(db, scope, name, JSON.parse(patch.attributes));
  },

  async writeAttributes(db: Db, scope: Scope, name: string, attributes: Record<string, string>): Promise<void> {
    await db.deleteFrom('thing_attributes').$call(inScope(scope)).where('thing_name', '=', name).execute();
    const values = Object.entries(attributes).map(([attr_name, attr_value]) => ({
      account: scope.account,
      region: scope.region,
      thing_name: name,
      attr_name,
      attr_value,
    }));
    if (values.length) await db.insertInto('thing_attributes').values(values).execute();
  },

  /** Deletes the thing, its attributes and its group and billing group memberships. */
  async delete(db: Db, scope: Scope, name: string): Promise<void> {
    await db.deleteFrom('thing_group_members').$call(inScope(scope)).where('thing_name', '=', name).execute();
    await db.deleteFrom('billing_group_members').$call(inScope(scope)).where('thing_name', '=', name).execute();
    await db.deleteFrom('thing_attributes').$call(inScope(scope)).where('thing_name', '=', name).execute();
    await db.deleteFrom('things').$call(inScope(scope)).where('name', '=', name).execute();
  },

  list(
    db: Db,
    scope: Scope,
    filter: { thingTypeName?: string; attributeName?: string; attributeValue?: string; prefix?: boolean },
    after: string | undefined,
    limit: number,
  ): Promise<ThingRow[]> {
    let query = db.selectFrom('things').selectAll().$call(inScope(scope));
    if (filter.thingTypeName !== undefined) query = query.where('thing_type_name', '=', filter.thingTypeName);
    if (filter.attributeName !== undefined) {
      const { attributeName, attributeValue, prefix } = filter;
      query = query.where(({ exists, selectFrom }) => {
        let sub = selectFrom('thing_attributes')
          .select('thing_attributes.attr_name')
          .whereRef('thing_attributes.account', '=', 'things.account')
          .whereRef('thing_attributes.region', '=', 'things.region')
          .whereRef('thing_attributes.thing_name', '=', 'things.name')
          .where('thing_attributes.attr_name', '=', attributeName);
        if (attributeValue !== undefined) {
          sub = prefix ? sub.where(startsWith('thing_attributes.attr_value', attributeValue)) : sub.where('thing_attributes.attr_value', '=', attributeValue);
        }
        return exists(sub);
      });
    }
    if (after !== undefined) query = query.where('name', '>', after);
    return query.orderBy('name').limit(limit).execute();
  },

  async countOfType(db: Db, scope: Scope, typeName: string): Promise<number> {
    const row = await db
      .selectFrom('things')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .$call(inScope(scope))
      .where('thing_type_name', '=', typeName)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  },
};

export const thingTypes = {
  get(db: Db, scope: Scope, name: string): Promise<ThingTypeRow | undefined> {
    return db.selectFrom('thing_types').selectAll().$call(inScope(scope)).where('name', '=', name).executeTakeFirst();
  },

  lock(db: Db, scope: Scope, name: string, dialect: Dialect): Promise<ThingTypeRow | undefined> {
    let query = db.selectFrom('thing_types').selectAll().$call(inScope(scope)).where('name', '=', name);
    if (dialect === 'postgres') query = query.forUpdate();
    return query.executeTakeFirst();
  },

  /** Share-locks the type (PostgreSQL): it cannot be deleted or deprecated until the transaction ends. */
  share(db: Db, scope: Scope, name: string, dialect: Dialect): Promise<ThingTypeRow | undefined> {
    let query = db.selectFrom('thing_types').selectAll().$call(inScope(scope)).where('name', '=', name);
    if (dialect === 'postgres') query = query.forShare();
    return query.executeTakeFirst();
  },

  async insert(db: Db, row: ThingTypeRow): Promise<void> {
    await db.insertInto('thing_types').values(row).execute();
  },

  async update(db: Db, scope: Scope, name: string, patch: Patch<ThingTypeRow>): Promise<void> {
    await db.updateTable('thing_types').set(patch).$call(inScope(scope)).where('name', '=', name).execute();
  },

  async delete(db: Db, scope: Scope, name: string): Promise<void> {
    await db.deleteFrom('thing_types').$call(inScope(scope)).where('name', '=', name).execute();
  },

  list(db: Db, scope: Scope, name: string | undefined, after: string | undefined, limit: number): Promise<ThingTypeRow[]> {
    let query = db.selectFrom('thing_types').selectAll().$call(inScope(scope));
    if (name !== undefined) query = query.where('name', '=', name);
    if (after !== undefined) query = query.where('name', '>', after);
    return query.orderBy('name').limit(limit).execute();
  },
};

export const thingGroups = {
  get(db: Db, scope: Scope, name: string): Promise<ThingGroupRow | undefined> {
    return db.selectFrom('thing_groups').selectAll().$call(inScope(scope)).where('name', '=', name).executeTakeFirst();
  },

  lock(db: Db, scope: Scope, name: string, dialect: Dialect): Promise<ThingGroupRow | undefined> {
    let query = db.selectFrom('thing_groups').selectAll().$call(inScope(scope)).where('name', '=', name);
    if (dialect === 'postgres') query = query.forUpdate();
    return query.executeTakeFirst();
  },

  /** Share-locks the group (PostgreSQL): it cannot be deleted or changed until the transaction ends. */
  share(db: Db, scope: Scope, name: string, dialect: Dialect): Promise<ThingGroupRow | undefined> {
    let query = db.selectFrom('thing_groups').selectAll().$call(inScope(scope)).where('name', '=', name);
    if (dialect === 'postgres') query = query.forShare();
    return query.executeTakeFirst();
  },

  async insert(db: Db, row: ThingGroupRow): Promise<void> {
    await db.insertInto('thing_groups').values(row).execute();
  },

  async update(db: Db, scope: Scope, name: string, patch: Patch<ThingGroupRow>): Promise<void> {
    await db.updateTable('thing_groups').set(patch).$call(inScope(scope)).where('name', '=', name).execute();
  },

  /** Deletes the group and its memberships (the things themselves stay). */
  async delete(db: Db, scope: Scope, name: string): Promise<void> {
    await db.deleteFrom('thing_group_members').$call(inScope(scope)).where('group_name', '=', name).execute();
    await db.deleteFrom('thing_groups').$call(inScope(scope)).where('name', '=', name).execute();
  },

  async hasChildren(db: Db, scope: Scope, name: string): Promise<boolean> {
    const row = await db.selectFrom('thing_groups').select('name').$call(inScope(scope)).where('parent_name', '=', name).limit(1).executeTakeFirst();
    return row !== undefined;
  },

  /** The group's ancestors, root first (not including the group itself). */
  async ancestors(db: Db, scope: Scope, group: ThingGroupRow): Promise<ThingGroupRow[]> {
    const chain: ThingGroupRow[] = [];
    let parent = group.parent_name;
    while (parent !== null) {
      const row = await thingGroups.get(db, scope, parent);
      if (!row || chain.length > 16) break;
      chain.unshift(row);
      parent = row.parent_name;
    }
    return chain;
  },

  /** Names of every group below `name` (not including it), by breadth. */
  async descendants(db: Db, scope: Scope, name: string): Promise<string[]> {
    const out: string[] = [];
    let level = [name];
    for (let depth = 0; level.length > 0 && depth < 16; depth++) {
      const rows = await db.selectFrom('thing_groups').select('name').$call(inScope(scope)).where('parent_name', 'in', level).execute();
      level = rows.map((r) => r.name);
      out.push(...level);
    }
    return out;
  },

  /**
   * Groups in name order: all of them, only roots (`parent: null`), the children of `parent`, or (`within`) the
   * listed names; optionally only names starting with `prefix`.
   */
  list(
    db: Db,
    scope: Scope,
    filter: { parent?: string | null; within?: string[]; prefix?: string },
    after: string | undefined,
    limit: number,
  ): Promise<ThingGroupRow[]> {
    let query = db.selectFrom('thing_groups').selectAll().$call(inScope(scope));
    if (filter.parent === null) query = query.where('parent_name', 'is', null);
    else if (filter.parent !== undefined) query = query.where('parent_name', '=', filter.parent);
    if (filter.within !== undefined) {
      if (filter.within.length === 0) return Promise.resolve([]);
      query = query.where('name', 'in', filter.within);
    }
    if (filter.prefix !== undefined) query = query.where(startsWith('name', filter.prefix));
    if (after !== undefined) query = query.where('name', '>', after);
    return query.orderBy('name').limit(limit).execute();
  },

  /** Thing names of the group (and, when `recursive`, of every group below it): sorted, distinct. */
  async thingsInGroup(db: Db, scope: Scope, groupName: string, recursive: boolean): Promise<string[]> {
    const groups = recursive ? [groupName, ...(await thingGroups.descendants(db, scope, groupName))] : [groupName];
    return thingGroups.membersOf(db, scope, groups, undefined, undefined);
  },

  /** Distinct thing names that are members of any of `groups`, in name order, after `after`. */
  async membersOf(db: Db, scope: Scope, groups: string[], after: string | undefined, limit: number | undefined): Promise<string[]> {
    if (groups.length === 0) return [];
    let query = db.selectFrom('thing_group_members').select('thing_name').distinct().$call(inScope(scope)).where('group_name', 'in', groups);
    if (after !== undefined) query = query.where('thing_name', '>', after);
    query = query.orderBy('thing_name');
    if (limit !== undefined) query = query.limit(limit);
    return (await query.execute()).map((r) => r.thing_name);
  },

  /** Names of the groups the thing is directly in, in name order. */
  async groupsOfThing(db: Db, scope: Scope, thingName: string, after?: string, limit?: number): Promise<string[]> {
    let query = db.selectFrom('thing_group_members').select('group_name').$call(inScope(scope)).where('thing_name', '=', thingName);
    if (after !== undefined) query = query.where('group_name', '>', after);
    query = query.orderBy('group_name');
    if (limit !== undefined) query = query.limit(limit);
    return (await query.execute()).map((r) => r.group_name);
  },

  /** Adds the membership; false when the thing was already a member. */
  async addThing(db: Db, scope: Scope, groupName: string, thingName: string, now: number): Promise<boolean> {
    const result = await db
      .insertInto('thing_group_members')
      .values({ ...scope, group_name: groupName, thing_name: thingName, added_at: now })
      .onConflict((oc) => oc.columns(['account', 'region', 'group_name', 'thing_name']).doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
  },

  /** Removes the membership; false when the thing was not a member. */
  async removeThing(db: Db, scope: Scope, groupName: string, thingName: string): Promise<boolean> {
    const result = await db
      .deleteFrom('thing_group_members')
      .$call(inScope(scope))
      .where('group_name', '=', groupName)
      .where('thing_name', '=', thingName)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  },
};

export const indexingConfig = {
  get(db: Db, scope: Scope): Promise<IndexingConfigRow | undefined> {
    return db.selectFrom('indexing_config').selectAll().$call(inScope(scope)).executeTakeFirst();
  },

  async put(db: Db, row: IndexingConfigRow): Promise<void> {
    await db
      .insertInto('indexing_config')
      .values(row)
      .onConflict((oc) =>
        oc.columns(['account', 'region']).doUpdateSet({ thing_config: row.thing_config, group_config: row.group_config, updated_at: row.updated_at }),
      )
      .execute();
  },
};
