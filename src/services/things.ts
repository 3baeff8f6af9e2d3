// Things and thing types: CreateThing, DescribeThing, UpdateThing, DeleteThing, ListThings,
// CreateThingType, DescribeThingType, ListThingTypes, DeprecateThingType, DeleteThingType.
import { randomUUID } from 'node:crypto';
import type * as IoT from '@aws-sdk/client-iot';
import { thingArn, thingTypeArn } from '../domain/arn.ts';
import {
  applyAttributePayload,
  checkAttributeCount,
  checkSearchableAttributes,
  cleanAttributes,
  sameAttributes,
  sameProperties,
  type Attributes,
  type Rule,
} from '../domain/things.ts';
import { invalidRequest, notFound, ServiceError } from '../protocol/errors.ts';
import type { ThingRow, ThingTypeRow } from '../store/schema.ts';
import { billingGroups } from '../store/billing-groups.ts';
import { isUniqueViolation } from '../store/store.ts';
import { tags } from '../store/tags.ts';
import { things, thingTypes } from '../store/things.ts';
import { forgetThing } from './job-registry.ts';
import type { Handlers, RequestContext } from './context.ts';
import { pageRequest } from './paging.ts';

export const alreadyExists = (message: string, resourceId: string, resourceArn: string) =>
  new ServiceError('ResourceAlreadyExistsException', message, { resourceId, resourceArn });
export const versionConflict = (message: string) => new ServiceError('VersionConflictException', message);

export function check(rule: Rule): void {
  if (!rule.ok) throw invalidRequest(rule.reason);
}

const attributesOf = (text: string): Attributes => JSON.parse(text) as Attributes;

/** A thing type a thing may be given now: it exists and is not deprecated. */
async function usableType(ctx: RequestContext, name: string): Promise<ThingTypeRow> {
  const type = await thingTypes.share(ctx.db, ctx.scope, name, ctx.store.dialect);
  if (!type) throw notFound(`Thing type ${name} does not exist`);
  if (type.deprecated) throw invalidRequest(`Thing type ${name} is deprecated; new things cannot use it`);
  return type;
}

function thingTypeView(row: ThingTypeRow) {
  return {
    thingTypeName: row.name,
    thingTypeArn: row.arn,
    thingTypeProperties: JSON.parse(row.properties) as IoT.ThingTypeProperties,
    thingTypeMetadata: {
      deprecated: row.deprecated === 1,
      deprecationDate: row.deprecated_at === null ? undefined : new Date(row.deprecated_at),
      creationDate: new Date(row.created_at),
    },
  };
}

export const thingHandlers = {
  async CreateThing(input: IoT.CreateThingRequest, ctx: RequestContext): Promise<IoT.CreateThingResponse> {
    const name = input.thingName!;
    const typeName = input.thingTypeName ?? null;
    if (typeName !== null) await usableType(ctx, typeName);
    const billingGroup = input.billingGroupName ?? null;
    if (billingGroup !== null && !(await billingGroups.lock(ctx.db, ctx.scope, billingGroup, ctx.store.dialect, 'share'))) {
      throw notFound(`Billing group ${billingGroup} does not exist`);
    }
    const attributes = cleanAttributes(input.attributePayload?.attributes);
    check(checkAttributeCount(attributes, typeName !== null));
    const arn = thingArn(ctx.scope, name);
    const existing = await things.get(ctx.db, ctx.scope, name);
    if (existing) {
      // AWS: the same name with the same configuration succeeds and returns the existing thing.
      const sameGroup = ((await billingGroups.groupOfThing(ctx.db, ctx.scope, name)) ?? null) === billingGroup;
      if (existing.thing_type_name === typeName && sameAttributes(attributesOf(existing.attributes), attributes) && sameGroup) {
        return { thingName: existing.name, thingArn: existing.arn, thingId: existing.thing_id };
      }
      throw alreadyExists(`Thing ${name} already exists in account with different attributes`, existing.thing_id, existing.arn);
    }
    const now = ctx.now.getTime();
    const row: ThingRow = {
      ...ctx.scope,
      name,
      arn,
      thing_id: randomUUID(),
      thing_type_name: typeName,
      attributes: JSON.stringify(attributes),
      version: 1,
      created_at: now,
      updated_at: now,
    };
    try {
      await things.insert(ctx.db, row);
    } catch (err) {
      if (isUniqueViolation(err)) throw alreadyExists(`Thing ${name} already exists in account`, name, arn);
      throw err;
    }
    if (billingGroup !== null) await billingGroups.setGroupOfThing(ctx.db, ctx.scope, name, billingGroup, now);
    return { thingName: name, thingArn: arn, thingId: row.thing_id };
  },

  async DescribeThing(input: IoT.DescribeThingRequest, ctx: RequestContext): Promise<IoT.DescribeThingResponse> {
    const row = await things.get(ctx.db, ctx.scope, input.thingName!);
    if (!row) throw notFound(`Thing ${input.thingName} does not exist`);
    return {
      defaultClientId: row.name,
      thingName: row.name,
      thingId: row.thing_id,
      thingArn: row.arn,
      thingTypeName: row.thing_type_name ?? undefined,
      attributes: attributesOf(row.attributes),
      version: row.version,
      billingGroupName: await billingGroups.groupOfThing(ctx.db, ctx.scope, row.name),
    };
  },

  async UpdateThing(input: IoT.UpdateThingRequest, ctx: RequestContext): Promise<IoT.UpdateThingResponse> {
    const name = input.thingName!;
    if (input.removeThingType && input.thingTypeName !== undefined) {
      throw invalidRequest('thingTypeName cannot be given together with removeThingType=true');
    }
    const row = await things.lock(ctx.db, ctx.scope, name, ctx.store.dialect);
    if (!row) throw notFound(`Thing ${name} does not exist`);
    if (input.expectedVersion !== undefined && input.expectedVersion !== row.version) {
      throw versionConflict(`Thing ${name} is at version ${row.version}, not the expected ${input.expectedVersion}`);
    }
    let typeName = row.thing_type_name;
    if (input.removeThingType) typeName = null;
    else if (input.thingTypeName !== undefined && input.thingTypeName !== row.thing_type_name) {
      await usableType(ctx, input.thingTypeName);
      typeName = input.thingTypeName;
    }
    const attributes = applyAttributePayload(attributesOf(row.attributes), input.attributePayload);
    check(checkAttributeCount(attributes, typeName !== null));
    await things.update(ctx.db, ctx.scope, name, {
      thing_type_name: typeName,
      attributes: JSON.stringify(attributes),
      version: row.version + 1,
      updated_at: ctx.now.getTime(),
    });
    return {};
  },

  async DeleteThing(input: IoT.DeleteThingRequest, ctx: RequestContext): Promise<IoT.DeleteThingResponse> {
    const name = input.thingName!;
    const row = await things.lock(ctx.db, ctx.scope, name, ctx.store.dialect);
    if (!row) return {}; // AWS: deleting a thing that does not exist succeeds
    if (input.expectedVersion !== undefined && input.expectedVersion !== row.version) {
      throw versionConflict(`Thing ${name} is at version ${row.version}, not the expected ${input.expectedVersion}`);
    }
    await things.delete(ctx.db, ctx.scope, name);
    await tags.remove(ctx.db, ctx.scope, row.arn);
    await forgetThing(ctx.db, ctx.scope, name);
    return {};
  },

  async ListThings(input: IoT.ListThingsRequest, ctx: RequestContext): Promise<IoT.ListThingsResponse> {
    if (input.attributeValue !== undefined && input.attributeName === undefined) {
      throw invalidRequest('attributeValue requires attributeName');
    }
    const prefix = input.usePrefixAttributeValue === true;
    if (prefix && input.attributeValue === undefined) throw invalidRequest('usePrefixAttributeValue requires attributeValue');
    const list = `things:${JSON.stringify([input.thingTypeName ?? null, input.attributeName ?? null, input.attributeValue ?? null, prefix])}`;
    const page = pageRequest(list, input, 250, invalidRequest);
    const rows = await things.list(
      ctx.db,
      ctx.scope,
      { thingTypeName: input.thingTypeName, attributeName: input.attributeName, attributeValue: input.attributeValue, prefix },
      page.after?.[0],
      page.limit + 1,
    );
    const { items, nextToken } = page.split(rows, (r) => [r.name]);
    return {
      things: items.map((r) => ({
        thingName: r.name,
        thingTypeName: r.thing_type_name ?? undefined,
        thingArn: r.arn,
        attributes: attributesOf(r.attributes),
        version: r.version,
      })),
      nextToken,
    };
  },
} satisfies Handlers<'iot'>;

export const thingTypeHandlers = {
  async CreateThingType(input: IoT.CreateThingTypeRequest, ctx: RequestContext): Promise<IoT.CreateThingTypeResponse> {
    const name = input.thingTypeName!;
    const properties = input.thingTypeProperties ?? {};
    check(checkSearchableAttributes(properties.searchableAttributes));
    const arn = thingTypeArn(ctx.scope, name);
    const existing = await thingTypes.get(ctx.db, ctx.scope, name);
    if (existing) {
      if (sameProperties(JSON.parse(existing.properties), properties)) return { thingTypeName: name, thingTypeArn: arn, thingTypeId: existing.thing_type_id };
      throw alreadyExists(`Thing Type ${name} already exists in current account with different properties`, existing.thing_type_id, existing.arn);
    }
    const row: ThingTypeRow = {
      ...ctx.scope,
      name,
      arn,
      thing_type_id: randomUUID(),
      properties: JSON.stringify(properties),
      deprecated: 0,
      deprecated_at: null,
      created_at: ctx.now.getTime(),
    };
    try {
      await thingTypes.insert(ctx.db, row);
    } catch (err) {
      if (isUniqueViolation(err)) throw alreadyExists(`Thing Type ${name} already exists in current account`, name, arn);
      throw err;
    }
    await tags.put(ctx.db, ctx.scope, arn, Object.fromEntries((input.tags ?? []).map((t) => [t.Key!, t.Value ?? ''])));
    return { thingTypeName: name, thingTypeArn: arn, thingTypeId: row.thing_type_id };
  },

  async DescribeThingType(input: IoT.DescribeThingTypeRequest, ctx: RequestContext): Promise<IoT.DescribeThingTypeResponse> {
    const row = await thingTypes.get(ctx.db, ctx.scope, input.thingTypeName!);
    if (!row) throw notFound(`Thing type ${input.thingTypeName} does not exist`);
    return { ...thingTypeView(row), thingTypeId: row.thing_type_id };
  },

  async ListThingTypes(input: IoT.ListThingTypesRequest, ctx: RequestContext): Promise<IoT.ListThingTypesResponse> {
    const page = pageRequest(`thing-types:${input.thingTypeName ?? ''}`, input, 250, invalidRequest);
    const rows = await thingTypes.list(ctx.db, ctx.scope, input.thingTypeName, page.after?.[0], page.limit + 1);
    const { items, nextToken } = page.split(rows, (r) => [r.name]);
    return { thingTypes: items.map(thingTypeView), nextToken };
  },

  async DeprecateThingType(input: IoT.DeprecateThingTypeRequest, ctx: RequestContext): Promise<IoT.DeprecateThingTypeResponse> {
    const name = input.thingTypeName!;
    const row = await thingTypes.lock(ctx.db, ctx.scope, name, ctx.store.dialect);
    if (!row) throw notFound(`Thing type ${name} does not exist`);
    if (input.undoDeprecate) await thingTypes.update(ctx.db, ctx.scope, name, { deprecated: 0, deprecated_at: null });
    else if (!row.deprecated) await thingTypes.update(ctx.db, ctx.scope, name, { deprecated: 1, deprecated_at: ctx.now.getTime() });
    return {};
  },

  async DeleteThingType(input: IoT.DeleteThingTypeRequest, ctx: RequestContext): Promise<IoT.DeleteThingTypeResponse> {
    const name = input.thingTypeName!;
    const row = await thingTypes.lock(ctx.db, ctx.scope, name, ctx.store.dialect);
    if (!row) throw notFound(`Thing type ${name} does not exist`);
    if (!row.deprecated) throw invalidRequest(`Thing type ${name} must be deprecated (DeprecateThingType) before it is deleted`);
    const count = await things.countOfType(ctx.db, ctx.scope, name);
    if (count > 0) throw invalidRequest(`Thing type ${name} is still used by ${count} thing(s); change or remove their type first`);
    await thingTypes.delete(ctx.db, ctx.scope, name);
    await tags.remove(ctx.db, ctx.scope, row.arn);
    return {};
  },
} satisfies Handlers<'iot'>;
