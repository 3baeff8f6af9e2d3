// Package versions: Create, Get, Update (lifecycle actions), Delete, List.
import type * as IoT from '@aws-sdk/client-iot';
import { packageVersionArn } from '../domain/arn.ts';
import { applyAction, checkAttributesSize, checkEditable, type VersionAction, type VersionStatus } from '../domain/package-version.ts';
import { conflict, notFound, validation } from '../protocol/errors.ts';
import { packages, versions } from '../store/catalog.ts';
import type { PackageVersionRow } from '../store/schema.ts';
import { sbomResults } from '../store/sbom.ts';
import { isUniqueViolation } from '../store/store.ts';
import { tags } from '../store/tags.ts';
import { phased, fetchedValue, type Handlers, type RequestContext } from './context.ts';
import { fetchObject } from './objects.ts';
import { pageRequest } from './paging.ts';

const json = (value: unknown) => (value === undefined ? null : JSON.stringify(value));
const parsed = <T>(text: string | null): T | undefined => (text === null ? undefined : (JSON.parse(text) as T));

function requireValid(rule: { ok: true } | { ok: false; reason: string }, error: (reason: string) => Error): void {
  if (!rule.ok) throw error(rule.reason);
}

export const packageVersionHandlers = {
  CreatePackageVersion: phased({
    // The artifact is read before the transaction; the transaction locks and re-checks the package.
    prefetch: async (input: IoT.CreatePackageVersionRequest, ctx: RequestContext) =>
      input.artifact ? fetchObject(ctx, input.artifact?.s3Location, 'artifact') : undefined,
    async run(input, ctx, prefetched): Promise<IoT.CreatePackageVersionResponse> {
      const packageName = input.packageName!;
      const versionName = input.versionName!;
      requireValid(checkAttributesSize(input.attributes), validation);
      // Locking the package row keeps a concurrent DeletePackage from orphaning the new version.
      if (!(await packages.lock(ctx.db, ctx.scope, packageName, ctx.store.dialect))) {
        throw validation(`Package ${packageName} does not exist; create the package before its versions`);
      }
      if (prefetched) fetchedValue(prefetched);
      const arn = packageVersionArn(ctx.scope, packageName, versionName);
      const now = ctx.now.getTime();
      const row: PackageVersionRow = {
        ...ctx.scope,
        package_name: packageName,
        version_name: versionName,
        arn,
        description: input.description ?? null,
        attributes: json(input.attributes),
        artifact: json(input.artifact),
        recipe: input.recipe ?? null,
        status: 'DRAFT',
        error_reason: null,
        sbom: null,
        sbom_validation_status: null,
        created_at: now,
        updated_at: now,
      };
      try {
        await versions.insert(ctx.db, row);
      } catch (err) {
        if (isUniqueViolation(err)) throw conflict(`Package version ${packageName}/${versionName} already exists`, versionName);
        throw err;
      }
      await tags.put(ctx.db, ctx.scope, arn, input.tags ?? {});
      return {
        packageVersionArn: arn,
        packageName,
        versionName,
        description: input.description,
        attributes: input.attributes,
        status: 'DRAFT',
      };
    },
  }),

  async GetPackageVersion(input: IoT.GetPackageVersionRequest, ctx: RequestContext): Promise<IoT.GetPackageVersionResponse> {
    const row = await versions.get(ctx.db, ctx.scope, input.packageName!, input.versionName!);
    if (!row) throw notFound(`Package version ${input.packageName}/${input.versionName} does not exist`);
    return {
      packageVersionArn: row.arn,
      packageName: row.package_name,
      versionName: row.version_name,
      description: row.description ?? undefined,
      attributes: parsed(row.attributes),
      artifact: parsed(row.artifact),
      status: row.status as VersionStatus,
      errorReason: row.error_reason ?? undefined,
      creationDate: new Date(row.created_at),
      lastModifiedDate: new Date(row.updated_at),
      sbom: parsed(row.sbom),
      sbomValidationStatus: (row.sbom_validation_status ?? undefined) as IoT.SbomValidationStatus | undefined,
      recipe: row.recipe ?? undefined,
    };
  },

  UpdatePackageVersion: phased({
    prefetch: async (input: IoT.UpdatePackageVersionRequest, ctx: RequestContext) =>
      input.artifact ? fetchObject(ctx, input.artifact?.s3Location, 'artifact') : undefined,
    async run(input, ctx, prefetched): Promise<IoT.UpdatePackageVersionResponse> {
      const packageName = input.packageName!;
      const versionName = input.versionName!;
      await packages.lock(ctx.db, ctx.scope, packageName, ctx.store.dialect);
      const row = await versions.get(ctx.db, ctx.scope, packageName, versionName);
      if (!row) throw notFound(`Package version ${packageName}/${versionName} does not exist`);
      const status = row.status as VersionStatus;
      // Every ConflictException of this operation names the version, as the lifecycle ones do.
      requireValid(checkEditable(status, input), (reason) => conflict(reason, versionName));
      requireValid(checkAttributesSize(input.attributes), validation);
      if (prefetched) fetchedValue(prefetched);
      const patch: Partial<PackageVersionRow> = { updated_at: ctx.now.getTime() };
      if (input.description !== undefined) patch.description = input.description;
      if (input.attributes !== undefined) patch.attributes = json(input.attributes);
      if (input.artifact !== undefined) patch.artifact = json(input.artifact);
      if (input.recipe !== undefined) patch.recipe = input.recipe;
      if (input.action !== undefined) {
        const next = applyAction(status, input.action as VersionAction);
        if (!next.ok) throw conflict(next.reason, versionName);
        patch.status = next.value;
      }
      await versions.update(ctx.db, ctx.scope, packageName, versionName, patch);
      return {};
    },
  }),

  async DeletePackageVersion(input: IoT.DeletePackageVersionRequest, ctx: RequestContext): Promise<IoT.DeletePackageVersionResponse> {
    const packageName = input.packageName!;
    const versionName = input.versionName!;
    const pkg = await packages.lock(ctx.db, ctx.scope, packageName, ctx.store.dialect);
    const row = pkg && (await versions.get(ctx.db, ctx.scope, packageName, versionName));
    if (!row) return {}; // deleting what does not exist succeeds
    if (pkg.default_version === versionName) {
      throw validation(`Package version ${packageName}/${versionName} is the default version; unset the default (UpdatePackage) before deleting it`);
    }
    await versions.delete(ctx.db, ctx.scope, packageName, versionName);
    await sbomResults.deleteFor(ctx.db, { ...ctx.scope, package_name: packageName, version_name: versionName });
    await tags.remove(ctx.db, ctx.scope, row.arn);
    return {};
  },

  async ListPackageVersions(input: IoT.ListPackageVersionsRequest, ctx: RequestContext): Promise<IoT.ListPackageVersionsResponse> {
    const packageName = input.packageName!;
    const page = pageRequest(`versions/${packageName}/${input.status ?? ''}`, input, 100);
    const rows = await versions.list(ctx.db, ctx.scope, packageName, input.status, page.after?.[0], page.limit + 1);
    const { items, nextToken } = page.split(rows, (r) => [r.version_name]);
    return {
      packageVersionSummaries: items.map((r) => ({
        packageName: r.package_name,
        versionName: r.version_name,
        status: r.status as VersionStatus,
        creationDate: new Date(r.created_at),
        lastModifiedDate: new Date(r.updated_at),
      })),
      nextToken,
    };
  },
} satisfies Handlers<'iot'>;
