// Static thing groups and their members: Create/Describe/Update/Delete/ListThingGroups, Add/RemoveThingTo/FromThingGroup,
// ListThingsInThingGroup, ListThingGroupsForThing, UpdateThingGroupsForThing.
import { randomUUID } from 'node:crypto';
import type * as IoT from '@aws-sdk/client-iot';
import { parseArn, thingGroupArn } from '../domain/arn.ts';
import { applyAttributePayload, checkChildDepth, checkMembership, cleanAttributes, sameAttributes, type Attributes } from '../domain/things.ts';
import { invalidRequest, notFound } from '../protocol/errors.ts';
import type { ThingGroupRow, ThingRow } from '../store/schema.ts';
import { isUniqueViolation } from '../store/store.ts';
import { tags } from '../store/tags.ts';
import { effects } from '../store/effects.ts';
import { thingGroups, things } from '../store/things.ts';
import type { Handlers, RequestContext } from './context.ts';
import { pageRequest } from './paging.ts';
import { alreadyExists, check, versionConflict } from './things.ts';

const attributesOf = (text: string): Attributes => JSON.parse(text) as Attributes;

const LABELS = { thing: 'thing', thingGroup: 'thing group', billingGroup: 'billing group' } as const;

/** The name given directly or inside an ARN of the caller's scope; both must agree when both are given. */
export function nameFrom(ctx: RequestContext, kind: keyof typeof LABELS, name: string | undefined, arn: string | undefined): string {
  const label = LABELS[kind];
  if (arn !== undefined) {
    const parsed = parseArn(arn);
    if (!parsed || parsed.resource.type !== kind) throw invalidRequest(`${arn} is not a ${label} ARN`);
    if (parsed.scope.account !== ctx.scope.account || parsed.scope.region !== ctx.scope.region) throw notFound(`The ${label} ${arn} does not exist`);
    const fromArn = (parsed.resource as Record<string, string>)[`${kind}Name`];
    if (name !== undefined && name !== fromArn) throw invalidRequest(`The ${label} name ${name} and ARN ${arn} name different ${label}s`);
    return fromArn;
  }
  if (name === undefined) throw invalidRequest(`Give the ${label} by name or by ARN`);
  return name;
}

/** `lock`: for update (changing the group); `share`: kept from deletion while members are changed. */
async function requireGroup(ctx: RequestContext, name: string, lock: false | 'update' | 'share' = false): Promise<ThingGroupRow> {
  const row =
    lock === 'update'
      ? await thingGroups.lock(ctx.db, ctx.scope, name, ctx.store.dialect)
      : lock === 'share'
        ? await thingGroups.share(ctx.db, ctx.scope, name, ctx.store.dialect)
        : await thingGroups.get(ctx.db, ctx.scope, name);
  if (!row) throw notFound(`Thing group ${name} does not exist`);
  return row;
}

export async function requireThing(ctx: RequestContext, name: string, lock = false): Promise<ThingRow> {
  const row = lock ? await things.lock(ctx.db, ctx.scope, name, ctx.store.dialect) : await things.get(ctx.db, ctx.scope, name);
  if (!row) throw notFound(`Thing ${name} does not exist`);
  return row;
}

async function rootOf(ctx: RequestContext, group: ThingGroupRow): Promise<string> {
  if (group.parent_name === null) return group.name;
  const chain = await thingGroups.ancestors(ctx.db, ctx.scope, group);
  return chain[0]?.name ?? group.name;
}

/** Adds the (locked) thing to the group, enforcing the membership rules; a no-op when it is a member already. */
async function addMembership(ctx: RequestContext, thing: ThingRow, group: ThingGroupRow): Promise<void> {
  const current = new Map<string, string>();
  for (const name of await thingGroups.groupsOfThing(ctx.db, ctx.scope, thing.name)) {
    const row = await thingGroups.get(ctx.db, ctx.scope, name);
    if (row) current.set(name, await rootOf(ctx, row));
  }
  check(checkMembership(current, group.name, await rootOf(ctx, group)));
  if (await thingGroups.addThing(ctx.db, ctx.scope, group.name, thing.name, ctx.now.getTime())) await membershipChanged(ctx, thing.name);
}

async function removeMembership(ctx: RequestContext, thingName: string, groupName: string): Promise<void> {
  if (await thingGroups.removeThing(ctx.db, ctx.scope, groupName, thingName)) await membershipChanged(ctx, thingName);
}

/** CONTINUOUS jobs follow the change after commit (job-registry.ts followMembership). */
const membershipChanged = (ctx: RequestContext, thingName: string) =>
  effects.emit(ctx.db, ctx.scope, [{ kind: 'registry.membership', subject: thingName, payload: {} }]);

const groupRef = (row: ThingGroupRow) => ({ groupName: row.name, groupArn: row.arn });

export const thingGroupHandlers = {
  async CreateThingGroup(input: IoT.CreateThingGroupRequest, ctx: RequestContext): Promise<IoT.CreateThingGroupResponse> {
    const name = input.thingGroupName!;
    const parentName = input.parentGroupName ?? null;
    const description = input.thingGroupProperties?.thingGroupDescription || null; // an empty description is none
    const attributes = cleanAttributes(input.thingGroupProperties?.attributePayload?.attributes);
    const arn = thingGroupArn(ctx.scope, name);
    const existing = await thingGroups.get(ctx.db, ctx.scope, name);
    if (existing) {
      if (existing.parent_name === parentName && existing.description === description && sameAttributes(attributesOf(existing.attributes), attributes)) {
        return { thingGroupName: name, thingGroupArn: existing.arn, thingGroupId: existing.group_id };
      }
      throw alreadyExists(`Thing Group ${name} already exists in current account with different properties`, existing.group_id, existing.arn);
    }
    if (parentName !== null) {
      // CreateThingGroup models no ResourceNotFoundException: a missing parent is a bad request.
      const parent = await thingGroups.share(ctx.db, ctx.scope, parentName, ctx.store.dialect);
      if (!parent) throw invalidRequest(`Parent thing group ${parentName} does not exist`);
      const depth = (await thingGroups.ancestors(ctx.db, ctx.scope, parent)).length + 1;
      check(checkChildDepth(depth));
    }
    const now = ctx.now.getTime();
    const row: ThingGroupRow = {
      ...ctx.scope,
      name,
      arn,
      group_id: randomUUID(),
      parent_name: parentName,
      description,
      attributes: JSON.stringify(attributes),
      version: 1,
      created_at: now,
      updated_at: now,
    };
    try {
      await thingGroups.insert(ctx.db, row);
    } catch (err) {
      if (isUniqueViolation(err)) throw alreadyExists(`Thing Group ${name} already exists in current account`, name, arn);
      throw err;
    }
    await tags.put(ctx.db, ctx.scope, arn, Object.fromEntries((input.tags ?? []).map((t) => [t.Key!, t.Value ?? ''])));
    return { thingGroupName: name, thingGroupArn: arn, thingGroupId: row.group_id };
  },

  async DescribeThingGroup(input: IoT.DescribeThingGroupRequest, ctx: RequestContext): Promise<IoT.DescribeThingGroupResponse> {
    const row = await requireGroup(ctx, input.thingGroupName!);
    const chain = await thingGroups.ancestors(ctx.db, ctx.scope, row);
    return {
      thingGroupName: row.name,
      thingGroupId: row.group_id,
      thingGroupArn: row.arn,
      version: row.version,
      thingGroupProperties: {
        thingGroupDescription: row.description ?? undefined,
        attributePayload: { attributes: attributesOf(row.attributes) },
      },
      thingGroupMetadata: {
        parentGroupName: row.parent_name ?? undefined,
        rootToParentThingGroups: row.parent_name === null ? undefined : chain.map(groupRef),
        creationDate: new Date(row.created_at),
      },
    };
  },

  async UpdateThingGroup(input: IoT.UpdateThingGroupRequest, ctx: RequestContext): Promise<IoT.UpdateThingGroupResponse> {
    const name = input.thingGroupName!;
    const row = await requireGroup(ctx, name, 'update');
    if (input.expectedVersion !== undefined && input.expectedVersion !== row.version) {
      throw versionConflict(`Thing group ${name} is at version ${row.version}, not the expected ${input.expectedVersion}`);
    }
    const properties = input.thingGroupProperties ?? {};
    const description = properties.thingGroupDescription === undefined ? row.description : properties.thingGroupDescription || null;
    const attributes = applyAttributePayload(attributesOf(row.attributes), properties.attributePayload);
    const version = row.version + 1;
    await thingGroups.update(ctx.db, ctx.scope, name, { description, attributes: JSON.stringify(attributes), version, updated_at: ctx.now.getTime() });
    return { version };
  },

  async DeleteThingGroup(input: IoT.DeleteThingGroupRequest, ctx: RequestContext): Promise<IoT.DeleteThingGroupResponse> {
    const name = input.thingGroupName!;
    const row = await thingGroups.lock(ctx.db, ctx.scope, name, ctx.store.dialect);
    if (!row) return {}; // DeleteThingGroup models no ResourceNotFoundException: deleting what does not exist succeeds
    if (input.expectedVersion !== undefined && input.expectedVersion !== row.version) {
      throw versionConflict(`Thing group ${name} is at version ${row.version}, not the expected ${input.expectedVersion}`);
    }
    if (await thingGroups.hasChildren(ctx.db, ctx.scope, name)) {
      throw invalidRequest(`Cannot delete thing group : ${name} when there are still child groups attached to it`);
    }
    const members = await thingGroups.thingsInGroup(ctx.db, ctx.scope, name, false);
    await thingGroups.delete(ctx.db, ctx.scope, name);
    for (const thingName of members) await membershipChanged(ctx, thingName);
    await tags.remove(ctx.db, ctx.scope, row.arn);
    return {};
  },

  async ListThingGroups(input: IoT.ListThingGroupsRequest, ctx: RequestContext): Promise<IoT.ListThingGroupsResponse> {
    // `recursive` defaults to true (AWS lists a parent's groups at every depth unless told recursive=false).
    const recursive = input.recursive !== false;
    const list = `thing-groups:${JSON.stringify([input.parentGroup ?? null, input.namePrefixFilter ?? null, recursive])}`;
    const page = pageRequest(list, input, 250, invalidRequest);
    let filter: { parent?: string | null; within?: string[]; prefix?: string };
    if (input.parentGroup !== undefined) {
      await requireGroup(ctx, input.parentGroup);
      filter = recursive ? { within: await thingGroups.descendants(ctx.db, ctx.scope, input.parentGroup) } : { parent: input.parentGroup };
    } else {
      filter = recursive ? {} : { parent: null };
    }
    filter.prefix = input.namePrefixFilter;
    const rows = await thingGroups.list(ctx.db, ctx.scope, filter, page.after?.[0], page.limit + 1);
    const { items, nextToken } = page.split(rows, (r) => [r.name]);
    return { thingGroups: items.map(groupRef), nextToken };
  },

  async AddThingToThingGroup(input: IoT.AddThingToThingGroupRequest, ctx: RequestContext): Promise<IoT.AddThingToThingGroupResponse> {
    const groupName = nameFrom(ctx, 'thingGroup', input.thingGroupName, input.thingGroupArn);
    const thingName = nameFrom(ctx, 'thing', input.thingName, input.thingArn);
    const thing = await requireThing(ctx, thingName, true);
    const group = await requireGroup(ctx, groupName, 'share');
    await addMembership(ctx, thing, group);
    return {};
  },

  async RemoveThingFromThingGroup(input: IoT.RemoveThingFromThingGroupRequest, ctx: RequestContext): Promise<IoT.RemoveThingFromThingGroupResponse> {
    const groupName = nameFrom(ctx, 'thingGroup', input.thingGroupName, input.thingGroupArn);
    const thingName = nameFrom(ctx, 'thing', input.thingName, input.thingArn);
    await requireThing(ctx, thingName, true);
    await requireGroup(ctx, groupName);
    await removeMembership(ctx, thingName, groupName);
    return {};
  },

  async ListThingsInThingGroup(input: IoT.ListThingsInThingGroupRequest, ctx: RequestContext): Promise<IoT.ListThingsInThingGroupResponse> {
    const name = input.thingGroupName!;
    const recursive = input.recursive === true;
    const page = pageRequest(`things-in-group:${JSON.stringify([name, recursive])}`, input, 250, invalidRequest);
    await requireGroup(ctx, name);
    const groups = recursive ? [name, ...(await thingGroups.descendants(ctx.db, ctx.scope, name))] : [name];
    const names = await thingGroups.membersOf(ctx.db, ctx.scope, groups, page.after?.[0], page.limit + 1);
    const { items, nextToken } = page.split(names, (n) => [n]);
    return { things: items, nextToken };
  },

  async ListThingGroupsForThing(input: IoT.ListThingGroupsForThingRequest, ctx: RequestContext): Promise<IoT.ListThingGroupsForThingResponse> {
    const name = input.thingName!;
    const page = pageRequest(`groups-for-thing:${name}`, input, 250, invalidRequest);
    await requireThing(ctx, name);
    const names = await thingGroups.groupsOfThing(ctx.db, ctx.scope, name, page.after?.[0], page.limit + 1);
    const { items, nextToken } = page.split(names, (n) => [n]);
    return { thingGroups: items.map((groupName) => ({ groupName, groupArn: thingGroupArn(ctx.scope, groupName) })), nextToken };
  },

  async UpdateThingGroupsForThing(input: IoT.UpdateThingGroupsForThingRequest, ctx: RequestContext): Promise<IoT.UpdateThingGroupsForThingResponse> {
    if (input.thingName === undefined) throw invalidRequest('thingName is required');
    const thing = await requireThing(ctx, input.thingName, true);
    const toRemove = input.thingGroupsToRemove ?? [];
    const toAdd = input.thingGroupsToAdd ?? [];
    const both = toAdd.filter((g) => toRemove.includes(g));
    if (both.length) throw invalidRequest(`Thing group ${both[0]} is both in thingGroupsToAdd and thingGroupsToRemove`);
    // Every named group must exist before anything changes.
    const addRows: ThingGroupRow[] = [];
    for (const g of toRemove) await requireGroup(ctx, g);
    for (const g of toAdd) addRows.push(await requireGroup(ctx, g, 'share'));
    for (const g of toRemove) await removeMembership(ctx, thing.name, g);
    for (const row of addRows) await addMembership(ctx, thing, row);
    return {};
  },
} satisfies Handlers<'iot'>;
