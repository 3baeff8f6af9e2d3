// Billing groups and their members: Create/Describe/Update/Delete/ListBillingGroups, Add/RemoveThingTo/FromBillingGroup,
// ListThingsInBillingGroup. A thing is in at most one billing group; adding it to another moves it.
import { randomUUID } from 'node:crypto';
import type * as IoT from '@aws-sdk/client-iot';
import { billingGroupArn } from '../domain/arn.ts';
import { invalidRequest, notFound } from '../protocol/errors.ts';
import { billingGroups } from '../store/billing-groups.ts';
import type { BillingGroupRow } from '../store/schema.ts';
import { isUniqueViolation } from '../store/store.ts';
import { tags } from '../store/tags.ts';
import type { Handlers, RequestContext } from './context.ts';
import { pageRequest } from './paging.ts';
import { nameFrom, requireThing } from './thing-groups.ts';
import { alreadyExists, versionConflict } from './things.ts';

/** An empty description is no description, so a re-create with `''` matches one without. */
const descriptionOf = (properties: IoT.BillingGroupProperties | undefined) => properties?.billingGroupDescription || null;

/** The billing group, or ResourceNotFound; `share` keeps it from deletion while its members change (PostgreSQL). */
export async function requireBillingGroup(ctx: RequestContext, name: string, lock: false | 'update' | 'share' = false): Promise<BillingGroupRow> {
  const row = lock ? await billingGroups.lock(ctx.db, ctx.scope, name, ctx.store.dialect, lock) : await billingGroups.get(ctx.db, ctx.scope, name);
  if (!row) throw notFound(`Billing group ${name} does not exist`);
  return row;
}

const checkVersion = (row: BillingGroupRow, expected: number | undefined) => {
  if (expected !== undefined && expected !== row.version) {
    throw versionConflict(`Billing group ${row.name} is at version ${row.version}, not the expected ${expected}`);
  }
};

export const billingGroupHandlers = {
  async CreateBillingGroup(input: IoT.CreateBillingGroupRequest, ctx: RequestContext): Promise<IoT.CreateBillingGroupResponse> {
    const name = input.billingGroupName!;
    const description = descriptionOf(input.billingGroupProperties);
    const arn = billingGroupArn(ctx.scope, name);
    const existing = await billingGroups.get(ctx.db, ctx.scope, name);
    if (existing) {
      // As for thing groups: the same name with the same properties returns the existing group.
      if (existing.description === description) return { billingGroupName: name, billingGroupArn: existing.arn, billingGroupId: existing.group_id };
      throw alreadyExists(`Billing Group ${name} already exists in current account with different properties`, existing.group_id, existing.arn);
    }
    const now = ctx.now.getTime();
    const row: BillingGroupRow = { ...ctx.scope, name, arn, group_id: randomUUID(), description, version: 1, created_at: now, updated_at: now };
    try {
      await billingGroups.insert(ctx.db, row);
    } catch (err) {
      if (isUniqueViolation(err)) throw alreadyExists(`Billing Group ${name} already exists in current account`, name, arn);
      throw err;
    }
    await tags.put(ctx.db, ctx.scope, arn, Object.fromEntries((input.tags ?? []).map((t) => [t.Key!, t.Value ?? ''])));
    return { billingGroupName: name, billingGroupArn: arn, billingGroupId: row.group_id };
  },

  async DescribeBillingGroup(input: IoT.DescribeBillingGroupRequest, ctx: RequestContext): Promise<IoT.DescribeBillingGroupResponse> {
    const row = await requireBillingGroup(ctx, input.billingGroupName!);
    return {
      billingGroupName: row.name,
      billingGroupId: row.group_id,
      billingGroupArn: row.arn,
      version: row.version,
      billingGroupProperties: { billingGroupDescription: row.description ?? undefined },
      billingGroupMetadata: { creationDate: new Date(row.created_at) },
    };
  },

  async UpdateBillingGroup(input: IoT.UpdateBillingGroupRequest, ctx: RequestContext): Promise<IoT.UpdateBillingGroupResponse> {
    const row = await requireBillingGroup(ctx, input.billingGroupName!, 'update');
    checkVersion(row, input.expectedVersion);
    const given = input.billingGroupProperties?.billingGroupDescription;
    const description = given === undefined ? row.description : given || null;
    const version = row.version + 1;
    await billingGroups.update(ctx.db, ctx.scope, row.name, { description, version, updated_at: ctx.now.getTime() });
    return { version };
  },

  async DeleteBillingGroup(input: IoT.DeleteBillingGroupRequest, ctx: RequestContext): Promise<IoT.DeleteBillingGroupResponse> {
    const row = await billingGroups.lock(ctx.db, ctx.scope, input.billingGroupName!, ctx.store.dialect);
    if (!row) return {}; // DeleteBillingGroup models no ResourceNotFoundException: deleting what does not exist succeeds
    checkVersion(row, input.expectedVersion);
    // AWS deletes a billing group that still has things; they simply leave it.
    await billingGroups.delete(ctx.db, ctx.scope, row.name);
    await tags.remove(ctx.db, ctx.scope, row.arn);
    return {};
  },

  async ListBillingGroups(input: IoT.ListBillingGroupsRequest, ctx: RequestContext): Promise<IoT.ListBillingGroupsResponse> {
    const page = pageRequest(`billing-groups:${input.namePrefixFilter ?? ''}`, input, 250, invalidRequest);
    const rows = await billingGroups.list(ctx.db, ctx.scope, input.namePrefixFilter, page.after?.[0], page.limit + 1);
    const { items, nextToken } = page.split(rows, (r) => [r.name]);
    return { billingGroups: items.map((r) => ({ groupName: r.name, groupArn: r.arn })), nextToken };
  },

  async AddThingToBillingGroup(input: IoT.AddThingToBillingGroupRequest, ctx: RequestContext): Promise<IoT.AddThingToBillingGroupResponse> {
    const groupName = nameFrom(ctx, 'billingGroup', input.billingGroupName, input.billingGroupArn);
    const thingName = nameFrom(ctx, 'thing', input.thingName, input.thingArn);
    await requireThing(ctx, thingName, true);
    await requireBillingGroup(ctx, groupName, 'share');
    await billingGroups.setGroupOfThing(ctx.db, ctx.scope, thingName, groupName, ctx.now.getTime());
    return {};
  },

  async RemoveThingFromBillingGroup(input: IoT.RemoveThingFromBillingGroupRequest, ctx: RequestContext): Promise<IoT.RemoveThingFromBillingGroupResponse> {
    const groupName = nameFrom(ctx, 'billingGroup', input.billingGroupName, input.billingGroupArn);
    const thingName = nameFrom(ctx, 'thing', input.thingName, input.thingArn);
    await requireThing(ctx, thingName, true);
    await requireBillingGroup(ctx, groupName);
    await billingGroups.removeThing(ctx.db, ctx.scope, groupName, thingName); // not a member: nothing to do
    return {};
  },

  async ListThingsInBillingGroup(input: IoT.ListThingsInBillingGroupRequest, ctx: RequestContext): Promise<IoT.ListThingsInBillingGroupResponse> {
    const name = input.billingGroupName!;
    const page = pageRequest(`things-in-billing-group:${name}`, input, 250, invalidRequest);
    await requireBillingGroup(ctx, name);
    const names = await billingGroups.thingsIn(ctx.db, ctx.scope, name, page.after?.[0], page.limit + 1);
    const { items, nextToken } = page.split(names, (n) => [n]);
    return { things: items, nextToken };
  },
} satisfies Handlers<'iot'>;
