// SBOMs of package versions: AssociateSbomWithPackageVersion, DisassociateSbomFromPackageVersion,
// ListSbomValidationResults, and the full report of Flotilla's extension route. Validation itself runs in the
// background (src/services/sbom-validation.ts).
import type * as IoT from '@aws-sdk/client-iot';
import type { Scope } from '../domain/arn.ts';
import { notFound, validation } from '../protocol/errors.ts';
import { packages, versions } from '../store/catalog.ts';
import { effects } from '../store/effects.ts';
import type { Db, PackageVersionRow } from '../store/schema.ts';
import { sbomResults, type VersionKey } from '../store/sbom.ts';
import { phased, fetchedValue, type Handlers, type RequestContext } from './context.ts';
import { fetchObject } from './objects.ts';
import { pageRequest } from './paging.ts';

/**
 * The next SBOM generation of a version: at least the request time, so a version deleted and created again never
 * reuses a generation an in-flight validation of the old one holds. (The caller holds the package lock.)
 */
const nextGeneration = (row: PackageVersionRow, ctx: RequestContext) => Math.max(Number(row.sbom_generation ?? 0) + 1, ctx.now.getTime());

async function requireVersion(ctx: RequestContext, packageName: string, versionName: string): Promise<PackageVersionRow> {
  const row = await versions.get(ctx.db, ctx.scope, packageName, versionName);
  if (!row) throw notFound(`Package version ${packageName}/${versionName} does not exist`);
  return row;
}

export const sbomHandlers = {
  AssociateSbomWithPackageVersion: phased({
    // The object is read (and its version pinned) before the transaction, which locks and re-checks the version row.
    prefetch: (input: IoT.AssociateSbomWithPackageVersionRequest, ctx: RequestContext) => fetchObject(ctx, input.sbom?.s3Location, 'SBOM'),
    async run(input, ctx, prefetched): Promise<IoT.AssociateSbomWithPackageVersionResponse> {
      const packageName = input.packageName!;
      const versionName = input.versionName!;
      // Locking the package row serializes this with DeletePackageVersion and other changes of the package.
      await packages.lock(ctx.db, ctx.scope, packageName, ctx.store.dialect);
      const row = await requireVersion(ctx, packageName, versionName);
      const { loc, head } = fetchedValue(prefetched);
      // Pin the version read, so that the validated bytes and anything served later are the same object.
      const version = loc.version ?? head.versionId;
      const sbom: IoT.Sbom = { s3Location: { bucket: loc.bucket, key: loc.key, ...(version !== undefined ? { version } : {}) } };
      const key: VersionKey = { ...ctx.scope, package_name: packageName, version_name: versionName };
      await versions.update(ctx.db, ctx.scope, packageName, versionName, {
        sbom: JSON.stringify(sbom),
        sbom_validation_status: 'IN_PROGRESS',
        sbom_generation: nextGeneration(row, ctx),
        sbom_claimed_until: null,
        sbom_attempts: 0,
        updated_at: ctx.now.getTime(),
      });
      await sbomResults.deleteFor(ctx.db, key);
      await effects.emit(ctx.db, ctx.scope, [{ kind: 'sbom.validate', subject: '', payload: {} }]);
      return { packageName, versionName, sbom, sbomValidationStatus: 'IN_PROGRESS' };
    },
  }),

  async DisassociateSbomFromPackageVersion(
    input: IoT.DisassociateSbomFromPackageVersionRequest,
    ctx: RequestContext,
  ): Promise<IoT.DisassociateSbomFromPackageVersionResponse> {
    const packageName = input.packageName!;
    const versionName = input.versionName!;
    await packages.lock(ctx.db, ctx.scope, packageName, ctx.store.dialect);
    const row = await requireVersion(ctx, packageName, versionName);
    const key: VersionKey = { ...ctx.scope, package_name: packageName, version_name: versionName };
    // The generation bump makes an in-flight validation of the old SBOM drop its results.
    await versions.update(ctx.db, ctx.scope, packageName, versionName, {
      sbom: null,
      sbom_validation_status: null,
      sbom_generation: nextGeneration(row, ctx),
      sbom_claimed_until: null,
      sbom_attempts: 0,
      updated_at: ctx.now.getTime(),
    });
    await sbomResults.deleteFor(ctx.db, key);
    return {};
  },

  async ListSbomValidationResults(input: IoT.ListSbomValidationResultsRequest, ctx: RequestContext): Promise<IoT.ListSbomValidationResultsResponse> {
    const packageName = input.packageName!;
    const versionName = input.versionName!;
    await requireVersion(ctx, packageName, versionName);
    const page = pageRequest(`sbom/${packageName}/${versionName}/${input.validationResult ?? ''}`, input, 100);
    const afterSeq = page.after ? Number(page.after[0]) : undefined;
    if (afterSeq !== undefined && !Number.isSafeInteger(afterSeq)) throw validation('The nextToken is not valid for this request');
    const key: VersionKey = { ...ctx.scope, package_name: packageName, version_name: versionName };
    const rows = await sbomResults.list(ctx.db, key, input.validationResult, afterSeq, page.limit + 1);
    const { items, nextToken } = page.split(rows, (r) => [String(r.seq)]);
    return {
      validationResultSummaries: items.map((r) => ({
        fileName: r.file_name,
        validationResult: r.validation_result as IoT.SbomValidationResult,
        errorCode: (r.error_code ?? undefined) as IoT.SbomValidationErrorCode | undefined,
        errorMessage: r.error_message ?? undefined,
      })),
      nextToken,
    };
  },
} satisfies Handlers<'iot'>;

export interface SbomReport {
  packageName: string;
  versionName: string;
  sbom: IoT.Sbom | null;
  sbomValidationStatus: string | null;
  files: {
    fileName: string;
    validationResult: string;
    errorCode: string | null;
    errorMessage: string | null;
    format: string | null;
    errors: { path: string; message: string }[];
    warnings: { path: string; message: string }[];
  }[];
}

/** The full report of GET /_flotilla/sbom-report/{packageName}/{versionName}: every file with its errors and warnings. */
export async function sbomReport(db: Db, scope: Scope, packageName: string, versionName: string): Promise<SbomReport | undefined> {
  const row = await versions.get(db, scope, packageName, versionName);
  if (!row) return undefined;
  const key: VersionKey = { ...scope, package_name: packageName, version_name: versionName };
  const rows = await sbomResults.list(db, key, undefined, undefined, Number.MAX_SAFE_INTEGER);
  return {
    packageName,
    versionName,
    sbom: row.sbom === null ? null : (JSON.parse(row.sbom) as IoT.Sbom),
    sbomValidationStatus: row.sbom_validation_status,
    files: rows.map((r) => {
      const report = JSON.parse(r.report) as {
        format?: string;
        errors?: SbomReport['files'][number]['errors'];
        warnings?: SbomReport['files'][number]['warnings'];
      };
      return {
        fileName: r.file_name,
        validationResult: r.validation_result,
        errorCode: r.error_code,
        errorMessage: r.error_message,
        format: report.format ?? null,
        errors: report.errors ?? [],
        warnings: report.warnings ?? [],
      };
    }),
  };
}
