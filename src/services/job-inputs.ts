// CreateJob / UpdateJob / CreateJobTemplate inputs: config checks, targets, documents and package versions.
import type * as IoT from '@aws-sdk/client-iot';
import { parseArn, type Scope } from '../domain/arn.ts';
import { checkAbortConfig, type AbortConfig } from '../domain/jobs/abort.ts';
import { parsePackageVersionArn, scanPlaceholders, type CatalogView, type PackageVersionView } from '../domain/jobs/document.ts';
import { checkRetryConfig, type RetryConfig } from '../domain/jobs/retries.ts';
import { checkRolloutConfig, type RolloutConfig } from '../domain/jobs/rollout.ts';
import { checkMaintenanceWindow, checkSchedulingConfig, type SchedulingConfig } from '../domain/jobs/schedule.ts';
import { parseS3Url } from '../domain/jobs/s3-url.ts';
import { checkInProgressTimeout } from '../domain/jobs/timeouts.ts';
import { invalidRequest, notFound, ServiceError } from '../protocol/errors.ts';
import { packages, versions } from '../store/catalog.ts';
import type { PackageVersionRow } from '../store/schema.ts';
import { things, thingGroups } from '../store/things.ts';
import type { RequestContext } from './context.ts';

export const MAX_TARGETS = 100;
export const MAX_DESTINATIONS = 25;
export const MAX_DOCUMENT_CHARS = 32768;

export const json = (value: unknown) => (value === undefined || value === null ? null : JSON.stringify(value));
export const parsed = <T>(text: string | null): T | undefined => (text === null ? undefined : (JSON.parse(text) as T));

function refuseIf(problems: string[]): void {
  if (problems.length) throw invalidRequest(problems.join('; '));
}

export interface JobConfigs {
  presignedUrlConfig?: IoT.PresignedUrlConfig;
  jobExecutionsRolloutConfig?: IoT.JobExecutionsRolloutConfig;
  abortConfig?: IoT.AbortConfig;
  timeoutConfig?: IoT.TimeoutConfig;
  jobExecutionsRetryConfig?: IoT.JobExecutionsRetryConfig;
}

/** Checks the configs a job or template carries; `timeoutConfig` decides whether TIMED_OUT retries are allowed. */
export function checkConfigs(c: JobConfigs, effectiveTimeout: IoT.TimeoutConfig | undefined): void {
  const problems: string[] = [];
  if (c.jobExecutionsRolloutConfig)
    problems.push(...checkRolloutConfig(c.jobExecutionsRolloutConfig as RolloutConfig).map((p) => `jobExecutionsRolloutConfig: ${p}`));
  if (c.abortConfig) problems.push(...checkAbortConfig(c.abortConfig as AbortConfig));
  const minutes = c.timeoutConfig?.inProgressTimeoutInMinutes;
  if (minutes !== undefined) {
    const problem = checkInProgressTimeout(minutes);
    if (problem) problems.push(`timeoutConfig: ${problem}`);
  }
  if (c.jobExecutionsRetryConfig) {
    const hasTimeoutConfig = effectiveTimeout?.inProgressTimeoutInMinutes !== undefined;
    problems.push(...checkRetryConfig(c.jobExecutionsRetryConfig as RetryConfig, { hasTimeoutConfig }));
  }
  refuseIf(problems);
}

export function checkScheduling(config: IoT.SchedulingConfig, now: number): void {
  refuseIf(checkSchedulingConfig(config as SchedulingConfig, now).map((p) => `schedulingConfig: ${p}`));
}

export function checkMaintenanceWindows(windows: IoT.MaintenanceWindow[], now: number): void {
  refuseIf(windows.flatMap((w, i) => checkMaintenanceWindow(w as { startTime: string; durationInMinutes: number }, now, `maintenanceWindows[${i}]`)));
}

export interface Target {
  arn: string;
  kind: 'thing' | 'thinggroup';
  name: string;
  groupId: string | null;
}

/** Reads and checks target ARNs: well formed (InvalidRequest), of this account and region and existing (ResourceNotFound). */
export async function resolveTargets(ctx: RequestContext, arns: string[]): Promise<Target[]> {
  const out: Target[] = [];
  for (const arn of arns) {
    const p = parseArn(arn);
    const resource = p?.resource;
    if (!p || !resource || (resource.type !== 'thing' && resource.type !== 'thingGroup')) {
      throw invalidRequest(`Target '${arn}' is not a thing or thing group ARN`);
    }
    const ours = p.scope.account === ctx.scope.account && p.scope.region === ctx.scope.region;
    if (resource.type === 'thing') {
      if (!ours || !(await things.get(ctx.db, ctx.scope, resource.thingName))) throw notFound(`Thing ${resource.thingName} of target ${arn} does not exist`);
      out.push({ arn, kind: 'thing', name: resource.thingName, groupId: null });
    } else {
      const group = ours ? await thingGroups.get(ctx.db, ctx.scope, resource.thingGroupName) : undefined;
      if (!group) throw notFound(`Thing group ${resource.thingGroupName} of target ${arn} does not exist`);
      out.push({ arn, kind: 'thinggroup', name: resource.thingGroupName, groupId: group.group_id });
    }
  }
  return out;
}

/**
 * Reads the document a documentSource URL names from object storage, in CreateJob's prefetch. The size the store
 * advertises is not trusted: the stream is cut as soon as it passes the document limit.
 */
export async function readDocumentSource(ctx: RequestContext, url: string): Promise<string> {
  const p = parseS3Url(url, true);
  if (!p.ok) throw invalidRequest(`documentSource: ${p.error}`);
  const blob = ctx.server.blob;
  if (!blob) throw invalidRequest('documentSource needs object storage, and this server has none configured');
  const { bucket, key, versionId } = p.location;
  const object = await blob.get(ctx.scope, { bucket, key, version: versionId });
  if (!object) throw invalidRequest(`documentSource: no object ${key} in bucket ${bucket}${versionId ? ` (version ${versionId})` : ''}`);
  const tooLarge = (size: string) => invalidRequest(`documentSource: the job document is ${size} bytes; at most ${MAX_DOCUMENT_CHARS} are allowed`);
  if (object.size > MAX_DOCUMENT_CHARS) {
    object.stream.destroy();
    throw tooLarge(String(object.size));
  }
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of object.stream) {
      chunks.push(Buffer.from(chunk));
      length += chunk.length;
      if (length > MAX_DOCUMENT_CHARS) throw tooLarge(`more than ${MAX_DOCUMENT_CHARS}`);
    }
  } finally {
    object.stream.destroy();
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A job document is a JSON object. */
export function checkJsonDocument(document: string): void {
  let value: unknown;
  try {
    value = JSON.parse(document);
  } catch {
    throw invalidRequest('The job document is not valid JSON');
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw invalidRequest('The job document must be a JSON object');
}

/** destinationPackageVersions: at most 25 ARNs of this account and region, each naming a package version. */
export function checkDestinationArns(scope: Scope, arns: string[]): void {
  if (arns.length > MAX_DESTINATIONS) throw invalidRequest(`destinationPackageVersions may hold at most ${MAX_DESTINATIONS} ARNs, got ${arns.length}`);
  const prefix = `arn:aws:iot:${scope.region}:${scope.account}:package/`;
  for (const arn of arns) {
    const ref = parsePackageVersionArn(arn);
    if (!ref || ref.prefix !== prefix) throw invalidRequest(`destinationPackageVersions: '${arn}' is not a package version ARN of this account and region`);
  }
}

const USABLE = ['PUBLISHED', 'DEPRECATED'];

/**
 * A snapshot of the catalog for document substitution: every package the destinations or the document's
 * package placeholders name, with their default and the versions asked for. Destination versions must exist
 * (ResourceNotFound) and be PUBLISHED or DEPRECATED (InvalidRequest); `$null` passes unchecked.
 */
export async function catalogFor(ctx: RequestContext, document: string, destinations: string[]): Promise<CatalogView> {
  const wanted = new Map<string, Set<string>>();
  const want = (pkg: string, version: string) => {
    if (!wanted.has(pkg)) wanted.set(pkg, new Set());
    if (version && version !== '$default' && version !== '$null') wanted.get(pkg)!.add(version);
  };
  for (const arn of destinations) {
    const ref = parsePackageVersionArn(arn);
    if (ref) want(ref.packageName, ref.versionName);
  }
  for (const { placeholder: p } of scanPlaceholders(document)) {
    if ((p.kind === 'packageAttributes' || p.kind === 'packageArtifact') && p.packageName) want(p.packageName, p.versionName);
  }
  const defaults = new Map<string, string | undefined>();
  const existing = new Set<string>();
  const rows = new Map<string, PackageVersionRow>();
  for (const [pkg, names] of wanted) {
    const row = await packages.get(ctx.db, ctx.scope, pkg);
    if (row) existing.add(pkg);
    defaults.set(pkg, row?.default_version ?? undefined);
    if (row?.default_version) names.add(row.default_version);
    for (const name of names) {
      const version = await versions.get(ctx.db, ctx.scope, pkg, name);
      if (version) rows.set(`${pkg}/${name}`, version);
    }
  }
  for (const arn of destinations) {
    const ref = parsePackageVersionArn(arn)!;
    if (ref.versionName === '$null') continue;
    if (!existing.has(ref.packageName)) throw notFound(`Package ${ref.packageName} of destinationPackageVersions does not exist`);
    const name = ref.versionName === '$default' ? defaults.get(ref.packageName) : ref.versionName;
    if (name === undefined) {
      throw invalidRequest(`destinationPackageVersions: package ${ref.packageName} has no default version to resolve $default`);
    }
    const row = rows.get(`${ref.packageName}/${name}`);
    if (!row) throw notFound(`Package version ${ref.packageName}/${name} of destinationPackageVersions does not exist`);
    if (!USABLE.includes(row.status))
      throw invalidRequest(`Package version ${ref.packageName}/${name} is ${row.status}; only PUBLISHED or DEPRECATED versions can be deployed`);
  }
  return {
    defaultVersion: (pkg) => defaults.get(pkg),
    version(pkg, name): PackageVersionView | undefined {
      const row = rows.get(`${pkg}/${name}`);
      if (!row || !USABLE.includes(row.status)) return undefined;
      const artifact = parsed<{ s3Location?: { bucket: string; key: string; version?: string } }>(row.artifact)?.s3Location;
      return {
        attributes: parsed<Record<string, string>>(row.attributes) ?? {},
        artifact: artifact && { bucket: artifact.bucket, key: artifact.key, versionId: artifact.version },
      };
    },
  };
}

/** Maps a refusal of the domain rules onto the error an operation models. */
export function refusal(kind: string, message: string): ServiceError {
  switch (kind) {
    case 'InvalidStateTransition':
      return new ServiceError('InvalidStateTransitionException', message);
    case 'VersionConflict':
      return new ServiceError('VersionConflictException', message);
    case 'LimitExceeded':
      return new ServiceError('LimitExceededException', message);
    default:
      return invalidRequest(message);
  }
}
