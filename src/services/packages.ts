// Software packages: CreatePackage, GetPackage, UpdatePackage, DeletePackage, ListPackages.
import type * as IoT from '@aws-sdk/client-iot';
import { packageArn } from '../domain/arn.ts';
import { canBeDefault, type VersionStatus } from '../domain/package-version.ts';
import { conflict, notFound, validation } from '../protocol/errors.ts';
import { packages, versions } from '../store/catalog.ts';
import { isUniqueViolation } from '../store/store.ts';
import { tags } from '../store/tags.ts';
import type { Handlers, RequestContext } from './context.ts';
import { pageRequest } from './paging.ts';

export const packageHandlers = {
  async CreatePackage(input: IoT.CreatePackageRequest, ctx: RequestContext): Promise<IoT.CreatePackageResponse> {
    const name = input.packageName!;
    const arn = packageArn(ctx.scope, name);
    const now = ctx.now.getTime();
    try {
      await packages.insert(ctx.db, {
        ...ctx.scope,
        name,
        arn,
        description: input.description ?? null,
        default_version: null,
        created_at: now,
        updated_at: now,
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict(`Package ${name} already exists`, name);
      throw err;
    }
    await tags.put(ctx.db, ctx.scope, arn, input.tags ?? {});
    return { packageName: name, packageArn: arn, description: input.description };
  },

  async GetPackage(input: IoT.GetPackageRequest, ctx: RequestContext): Promise<IoT.GetPackageResponse> {
    const row = await packages.get(ctx.db, ctx.scope, input.packageName!);
    if (!row) throw notFound(`Package ${input.packageName} does not exist`);
    return {
      packageName: row.name,
      packageArn: row.arn,
      description: row.description ?? undefined,
      defaultVersionName: row.default_version ?? undefined,
      creationDate: new Date(row.created_at),
      lastModifiedDate: new Date(row.updated_at),
    };
  },

  async UpdatePackage(input: IoT.UpdatePackageRequest, ctx: RequestContext): Promise<IoT.UpdatePackageResponse> {
    const name = input.packageName!;
    if (input.defaultVersionName !== undefined && input.unsetDefaultVersion) {
      throw validation('defaultVersionName cannot be set together with unsetDefaultVersion=true');
    }
    const row = await packages.lock(ctx.db, ctx.scope, name, ctx.store.dialect);
    if (!row) throw notFound(`Package ${name} does not exist`);
    const patch: { description?: string | null; default_version?: string | null } = {};
    if (input.description !== undefined) patch.description = input.description;
    if (input.unsetDefaultVersion) patch.default_version = null;
    if (input.defaultVersionName !== undefined) {
      const version = await versions.get(ctx.db, ctx.scope, name, input.defaultVersionName);
      if (!version) throw notFound(`Package version ${name}/${input.defaultVersionName} does not exist`);
      const rule = canBeDefault(version.status as VersionStatus);
      if (!rule.ok) throw conflict(rule.reason, input.defaultVersionName);
      patch.default_version = input.defaultVersionName;
    }
    await packages.update(ctx.db, ctx.scope, name, { ...patch, updated_at: ctx.now.getTime() });
    return {};
  },

  async DeletePackage(input: IoT.DeletePackageRequest, ctx: RequestContext): Promise<IoT.DeletePackageResponse> {
    const name = input.packageName!;
    const row = await packages.lock(ctx.db, ctx.scope, name, ctx.store.dialect);
    if (!row) return {}; // deleting what does not exist succeeds
    if (await versions.exist(ctx.db, ctx.scope, name)) {
      throw validation(`Package ${name} still has versions; delete every version before deleting the package`);
    }
    await packages.delete(ctx.db, ctx.scope, name);
    await tags.remove(ctx.db, ctx.scope, row.arn);
    return {};
  },

  async ListPackages(input: IoT.ListPackagesRequest, ctx: RequestContext): Promise<IoT.ListPackagesResponse> {
    const page = pageRequest('packages', input, 100);
    const rows = await packages.list(ctx.db, ctx.scope, page.after?.[0], page.limit + 1);
    const { items, nextToken } = page.split(rows, (r) => [r.name]);
    return {
      packageSummaries: items.map((r) => ({
        packageName: r.name,
        defaultVersionName: r.default_version ?? undefined,
        creationDate: new Date(r.created_at),
        lastModifiedDate: new Date(r.updated_at),
      })),
      nextToken,
    };
  },
} satisfies Handlers<'iot'>;
