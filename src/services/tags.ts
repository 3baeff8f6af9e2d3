// TagResource, UntagResource and ListTagsForResource over every taggable resource Flotilla keeps.
import type * as IoT from '@aws-sdk/client-iot';
import { parseArn, type ResourceRef, type Scope } from '../domain/arn.ts';
import { notFound, ServiceError } from '../protocol/errors.ts';
import { packages, versions } from '../store/catalog.ts';
import type { Db } from '../store/schema.ts';
import { tags } from '../store/tags.ts';
import type { RequestContext } from './context.ts';

export const MAX_TAGS_PER_RESOURCE = 50;

const exists: { [K in ResourceRef['type']]: (db: Db, scope: Scope, ref: Extract<ResourceRef, { type: K }>) => Promise<boolean> } = {
  package: async (db, scope, ref) => (await packages.get(db, scope, ref.packageName)) !== undefined,
  packageVersion: async (db, scope, ref) => (await versions.get(db, scope, ref.packageName, ref.versionName)) !== undefined,
};

/** The ARN must name an existing resource of the caller's own account and region. */
async function requireResource(ctx: RequestContext, arn: string): Promise<void> {
  const parsed = parseArn(arn);
  const ours = parsed && parsed.scope.account === ctx.scope.account && parsed.scope.region === ctx.scope.region;
  if (!parsed || !ours || !(await exists[parsed.resource.type](ctx.db, ctx.scope, parsed.resource as never))) {
    throw notFound(`Resource ${arn} does not exist`);
  }
}

export const tagHandlers = {
  async TagResource(input: IoT.TagResourceRequest, ctx: RequestContext): Promise<IoT.TagResourceResponse> {
    const arn = input.resourceArn!;
    await requireResource(ctx, arn);
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
    await requireResource(ctx, input.resourceArn!);
    await tags.remove(ctx.db, ctx.scope, input.resourceArn!, input.tagKeys!);
    return {};
  },

  async ListTagsForResource(input: IoT.ListTagsForResourceRequest, ctx: RequestContext): Promise<IoT.ListTagsForResourceResponse> {
    await requireResource(ctx, input.resourceArn!);
    // At most 50 tags a resource: one page holds them all.
    const current = await tags.list(ctx.db, ctx.scope, input.resourceArn!);
    return { tags: Object.entries(current).map(([Key, Value]) => ({ Key, Value })) };
  },
};
