// TagResource, UntagResource and ListTagsForResource over every taggable resource Flotilla keeps.
import type * as IoT from '@aws-sdk/client-iot';
import { parseArn, type ResourceRef } from '../domain/arn.ts';
import { notFound, ServiceError } from '../protocol/errors.ts';
import { packages, versions } from '../store/catalog.ts';
import { billingGroups } from '../store/billing-groups.ts';
import { thingGroups, things, thingTypes } from '../store/things.ts';
import { jobs, jobTemplates } from '../store/jobs.ts';
import { tags } from '../store/tags.ts';
import type { Handlers, RequestContext } from './context.ts';

export const MAX_TAGS_PER_RESOURCE = 50;

// A tag write locks the package row (PostgreSQL), as the package and version deletes do: concurrent TagResource
// calls cannot pass the limit together, and no tag is written for a resource being deleted.
const packageRow = (ctx: RequestContext, name: string, lock: boolean) =>
  lock ? packages.lock(ctx.db, ctx.scope, name, ctx.store.dialect) : packages.get(ctx.db, ctx.scope, name);

const exists: { [K in ResourceRef['type']]: (ctx: RequestContext, ref: Extract<ResourceRef, { type: K }>, lock: boolean) => Promise<boolean> } = {
  package: async (ctx, ref, lock) => (await packageRow(ctx, ref.packageName, lock)) !== undefined,
  packageVersion: async (ctx, ref, lock) =>
    (await packageRow(ctx, ref.packageName, lock)) !== undefined && (await versions.get(ctx.db, ctx.scope, ref.packageName, ref.versionName)) !== undefined,
  // Things carry attributes, not tags (AWS tags thing groups and thing types, not things).
  thing: async (ctx, ref) => {
    if (!(await things.get(ctx.db, ctx.scope, ref.thingName))) return false;
    throw new ServiceError('InvalidRequestException', `Thing ${ref.thingName} cannot be tagged: things carry attributes, not tags`);
  },
  thingGroup: async (ctx, ref, lock) =>
    (await (lock ? thingGroups.lock(ctx.db, ctx.scope, ref.thingGroupName, ctx.store.dialect) : thingGroups.get(ctx.db, ctx.scope, ref.thingGroupName))) !==
    undefined,
  billingGroup: async (ctx, ref, lock) =>
    (await (lock
      ? billingGroups.lock(ctx.db, ctx.scope, ref.billingGroupName, ctx.store.dialect)
      : billingGroups.get(ctx.db, ctx.scope, ref.billingGroupName))) !== undefined,
  thingType: async (ctx, ref, lock) =>
    (await (lock ? thingTypes.lock(ctx.db, ctx.scope, ref.thingTypeName, ctx.store.dialect) : thingTypes.get(ctx.db, ctx.scope, ref.thingTypeName))) !==
    undefined,
  job: async (ctx, ref) => (await jobs.get(ctx.db, ctx.scope, ref.jobId)) !== undefined,
  jobTemplate: async (ctx, ref) => (await jobTemplates.get(ctx.db, ctx.scope, ref.jobTemplateId)) !== undefined,
};

/** The ARN must name an existing resource of the caller's own account and region; `lock` before changing its tags. */
async function requireResource(ctx: RequestContext, arn: string, lock = false): Promise<void> {
  const parsed = parseArn(arn);
  const ours = parsed && parsed.scope.account === ctx.scope.account && parsed.scope.region === ctx.scope.region;
  if (!parsed || !ours || !(await exists[parsed.resource.type](ctx, parsed.resource as never, lock))) {
    throw notFound(`Resource ${arn} does not exist`);
  }
}

export const tagHandlers = {
  async TagResource(input: IoT.TagResourceRequest, ctx: RequestContext): Promise<IoT.TagResourceResponse> {
    const arn = input.resourceArn!;
    await requireResource(ctx, arn, true);
    const current = await tags.list(ctx.db, ctx.scope, arn);
    const added = Object.fromEntries(input.tags!.map((t) => [t.Key!, t.Value ?? '']));
    const total = Object.keys({ ...current, ...added }).length;
    if (total > MAX_TAGS_PER_RESOURCE) {
      throw new ServiceError('LimitExceededException', `A resource can have at most ${MAX_TAGS_PER_RESOURCE} tags; this request would give it ${total}`);
    }
    await tags.put(ctx.db, ctx.scope, arn, added);
    return {};
  },

  async UntagResource(input: IoT.UntagResourceRequest, ctx: RequestContext): Promise<IoT.UntagResourceResponse> {
    await requireResource(ctx, input.resourceArn!, true);
    await tags.remove(ctx.db, ctx.scope, input.resourceArn!, input.tagKeys!);
    return {};
  },

  async ListTagsForResource(input: IoT.ListTagsForResourceRequest, ctx: RequestContext): Promise<IoT.ListTagsForResourceResponse> {
    await requireResource(ctx, input.resourceArn!);
    // At most 50 tags a resource: one page holds them all.
    const current = await tags.list(ctx.db, ctx.scope, input.resourceArn!);
    return { tags: Object.entries(current).map(([Key, Value]) => ({ Key, Value })) };
  },
} satisfies Handlers<'iot'>;
