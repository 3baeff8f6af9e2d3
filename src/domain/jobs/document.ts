// Job document placeholders (jobs-semantics §2.2) in three stages:
//  1. resolveAtCreate — CreateJob: documentParameters, package attributes and `$default` are filled in, and
//     the document is checked against destinationPackageVersions;
//  2. bindExecutionVariables — execution creation: ${thingName}/${jobId}/${executionNumber} in upload URLs;
//  3. renderForDevice — every document fetch: presigned URLs, signed by the injected `presign`.
// Unknown `${aws:iot:…}` placeholders (code signing included) stay as written and are listed, so a newer
// AWS feature degrades to the literal text instead of failing the job. A value lands JSON-escaped when
// the placeholder sits inside a JSON string and raw otherwise, so substitution never breaks the JSON.

import { parseS3Url, safeDecode, type S3Location } from './s3-url.ts';

export type { S3Location } from './s3-url.ts';

export type Placeholder =
  | { kind: 'parameter'; name: string }
  | { kind: 'packageAttributes'; packageName: string; versionName: string; key?: string }
  | { kind: 'packageArtifact'; packageName: string; versionName: string }
  | { kind: 'presignedUrl'; form: 'v1' | 'v2'; location: S3Location }
  | { kind: 'presignedUpload'; location?: S3Location }
  | { kind: 'unknown' }
  | { kind: 'invalid'; error: string };

export interface PlaceholderToken {
  start: number;
  end: number;
  /** The text as written, `${…}` included. */
  raw: string;
  inString: boolean;
  placeholder: Placeholder;
}

const PREFIX = '${aws:iot:';
const EXECUTION_VARIABLES = ['thingName', 'jobId', 'executionNumber'] as const;
export type ExecutionVariables = Record<(typeof EXECUTION_VARIABLES)[number], string>;

/** Reads the inside of a `${aws:iot:…}` placeholder (without `${` and `}`). */
export function parsePlaceholder(inner: string): Placeholder {
  const body = inner.slice('aws:iot:'.length);
  const invalid = (error: string): Placeholder => ({ kind: 'invalid', error: `\${${inner}}: ${error}` });
  if (body.startsWith('parameter:')) {
    const name = body.slice('parameter:'.length);
    return /^[a-zA-Z0-9_-]{1,128}$/.test(name) ? { kind: 'parameter', name } : invalid('the parameter name must be 1-128 characters of [a-zA-Z0-9_-]');
  }
  if (body.startsWith('package:')) {
    const m = /^package:([^:]*):version:([^:]*):(.*)$/.exec(body);
    if (!m) return invalid('expected package:<name>:version:<version>:attributes[:<key>] or …:artifact-location:s3-presigned-url');
    const [, packageName, versionName, tail] = m;
    if ((packageName === '') !== (versionName === '')) return invalid('package and version names are either both given or both empty');
    if (packageName && !/^[a-zA-Z0-9._-]{1,128}$/.test(packageName)) return invalid(`'${packageName}' is not a valid package name`);
    if (versionName && versionName !== '$default' && !/^[a-zA-Z0-9._-]{1,64}$/.test(versionName))
      return invalid(`'${versionName}' is not a valid version name`);
    if (tail === 'attributes') return { kind: 'packageAttributes', packageName, versionName };
    if (tail === 'artifact-location:s3-presigned-url') return { kind: 'packageArtifact', packageName, versionName };
    const key = /^attributes:([a-zA-Z0-9:_-]+)$/.exec(tail);
    return key ? { kind: 'packageAttributes', packageName, versionName, key: key[1] } : invalid(`unknown package field '${tail}'`);
  }
  if (body === 's3-presigned-url-upload') return { kind: 'presignedUpload' };
  for (const [prefix, form] of [
    ['s3-presigned-url:', 'v1'],
    ['s3-presigned-url-v2:', 'v2'],
    ['s3-presigned-url-upload:', 'upload'],
  ] as const) {
    if (!body.startsWith(prefix)) continue;
    const url = body.slice(prefix.length);
    const parsed = parseS3Url(form === 'v2' ? safeDecode(url) : url, form === 'v2');
    if (!parsed.ok) return invalid(parsed.error);
    if (form !== 'upload') return { kind: 'presignedUrl', form, location: parsed.location };
    const problem = checkUploadVariables(parsed.location);
    return problem ? invalid(problem) : { kind: 'presignedUpload', location: parsed.location };
  }
  return { kind: 'unknown' };
}

// Upload keys may use each execution variable at most twice; the bucket may use none; nothing else.
function checkUploadVariables(location: S3Location): string | undefined {
  if (location.bucket.includes('${')) return 'variables are not allowed in the bucket name';
  const used = [...location.key.matchAll(/\$\{([^}]*)\}/g)].map((m) => m[1]);
  for (const name of used) if (!(EXECUTION_VARIABLES as readonly string[]).includes(name)) return `unknown variable \${${name}} in the key`;
  for (const name of EXECUTION_VARIABLES) {
    if (used.filter((u) => u === name).length > 2) return `\${${name}} may appear at most twice in the key`;
  }
  return undefined;
}

/**
 * Every `${aws:iot:…}` placeholder in document order. Nested `${…}` (upload key variables) are part of the
 * placeholder; one that is unterminated or runs into a `"` (JSON syntax) is plain text. Strings are tracked so substitution can escape values.
 */
export function scanPlaceholders(document: string): PlaceholderToken[] {
  const tokens: PlaceholderToken[] = [];
  let inString = false;
  for (let i = 0; i < document.length; i++) {
    if (document.startsWith(PREFIX, i)) {
      let depth = 0;
      let end = -1;
      for (let j = i; j < document.length && document[j] !== '"'; j++) {
        if (document.startsWith('${', j)) [depth, j] = [depth + 1, j + 1];
        else if (document[j] === '}' && --depth === 0) {
          end = j + 1;
          break;
        }
      }
      if (end > 0) {
        const raw = document.slice(i, end);
        tokens.push({ start: i, end, raw, inString, placeholder: parsePlaceholder(raw.slice(2, -1)) });
        i = end - 1;
        continue;
      }
    }
    const ch = document[i];
    if (inString && ch === '\\') i += 1;
    else if (ch === '"') inString = !inString;
  }
  return tokens;
}

const asText = (value: string, inString: boolean) => (inString ? JSON.stringify(value).slice(1, -1) : value);

// Rebuilds the document, asking `replace` for each token; undefined keeps the token as written.
function rewrite(document: string, replace: (token: PlaceholderToken) => string | undefined): string {
  let out = '';
  let last = 0;
  for (const token of scanPlaceholders(document)) {
    const value = replace(token);
    if (value === undefined) continue;
    out += document.slice(last, token.start) + value;
    last = token.end;
  }
  return out + document.slice(last);
}

export interface PackageVersionView {
  attributes: Record<string, string>;
  artifact?: S3Location;
}

/** What the substitution needs from the package catalog, looked up by the caller beforehand. */
export interface CatalogView {
  defaultVersion(packageName: string): string | undefined;
  version(packageName: string, versionName: string): PackageVersionView | undefined;
}

export interface PackageVersionRef {
  packageName: string;
  versionName: string;
}

const VERSION_ARN = /^(arn:[^:]+:iot:[^:]*:[^:]*:package\/)([^/]+)\/version\/([^/]+)$/;

/** Reads a package version ARN; the version may be `$default` or `$null`. */
export function parsePackageVersionArn(arn: string): (PackageVersionRef & { prefix: string }) | undefined {
  const m = VERSION_ARN.exec(arn);
  return m ? { prefix: m[1], packageName: m[2], versionName: m[3] } : undefined;
}

/** destinationPackageVersions with `$default` replaced by the current default version; `$null` stays. */
export function resolveDestinations(arns: readonly string[], catalog: CatalogView | undefined): { arns: string[]; errors: string[] } {
  const errors: string[] = [];
  const resolved = arns.map((arn) => {
    const ref = parsePackageVersionArn(arn);
    const version = ref?.versionName === '$default' ? catalog?.defaultVersion(ref.packageName) : ref?.versionName;
    if (!ref) errors.push(`'${arn}' is not a package version ARN`);
    else if (!version) errors.push(`Package '${ref.packageName}' has no default version to resolve $default`);
    else return `${ref.prefix}${ref.packageName}/version/${version}`;
    return arn;
  });
  return { arns: resolved, errors };
}

/**
 * The document must name the same versions as destinationPackageVersions: every package version it refers
 * to needs a destination ARN with that package and version. Extra destinations are fine (the document may
 * install them by other means); with no destinations at all there is nothing to compare.
 */
export function checkDocumentMatchesDestinations(referenced: readonly PackageVersionRef[], resolvedDestinations: readonly string[]): string[] {
  if (resolvedDestinations.length === 0) return [];
  const destinations = resolvedDestinations.map(parsePackageVersionArn).filter((r) => r !== undefined);
  const errors: string[] = [];
  for (const ref of referenced) {
    const same = destinations.filter((d) => d.packageName === ref.packageName);
    if (same.length === 0) errors.push(`The job document refers to package '${ref.packageName}', which destinationPackageVersions does not name`);
    else if (!same.some((d) => d.versionName === ref.versionName)) {
      errors.push(
        `The job document refers to ${ref.packageName} version ${ref.versionName} but destinationPackageVersions names version ${same.map((d) => d.versionName).join(', ')}`,
      );
    }
  }
  return errors;
}

export interface CreateContext {
  /** Given only for managed templates; when absent, parameter placeholders stay as written. */
  documentParameters?: Record<string, string>;
  destinationPackageVersions?: readonly string[];
  catalog?: CatalogView;
}

export type CreateResult =
  | { ok: true; document: string; destinationPackageVersions: string[]; referenced: PackageVersionRef[]; unknown: string[] }
  | { ok: false; errors: string[] };

/** Stage 1, at CreateJob. The stored `beforeSubstitution` form is the input; the result is what jobs serve. */
export function resolveAtCreate(document: string, ctx: CreateContext): CreateResult {
  const destinations = resolveDestinations(ctx.destinationPackageVersions ?? [], ctx.catalog);
  const errors = [...destinations.errors];
  const referenced: PackageVersionRef[] = [];
  const unknown: string[] = [];

  // Names of a package placeholder: empty ones come from the single destination, $default from the catalog.
  const resolveRef = (packageName: string, versionName: string, raw: string): (PackageVersionRef & { view: PackageVersionView }) | undefined => {
    if (!packageName) {
      const single = destinations.arns.length === 1 ? parsePackageVersionArn(destinations.arns[0]) : undefined;
      if (!single || single.versionName === '$null') {
        return void errors.push(`${raw} leaves the package empty, which needs exactly one destinationPackageVersions ARN naming a version`);
      }
      ({ packageName, versionName } = single);
    }
    if (versionName === '$default') {
      const resolved = ctx.catalog?.defaultVersion(packageName);
      if (!resolved) return void errors.push(`${raw}: package '${packageName}' has no default version`);
      versionName = resolved;
    }
    const view = ctx.catalog?.version(packageName, versionName);
    if (!view) return void errors.push(`${raw}: package '${packageName}' has no version '${versionName}'`);
    if (!referenced.some((r) => r.packageName === packageName && r.versionName === versionName)) referenced.push({ packageName, versionName });
    return { packageName, versionName, view };
  };

  const resolved = rewrite(document, ({ placeholder: p, raw, inString }) => {
    switch (p.kind) {
      case 'parameter': {
        if (!ctx.documentParameters) return undefined;
        const value = ctx.documentParameters[p.name];
        if (value === undefined) return void errors.push(`${raw}: documentParameters has no value for '${p.name}'`);
        return asText(value, inString);
      }
      case 'packageAttributes': {
        const ref = resolveRef(p.packageName, p.versionName, raw);
        if (!ref) return undefined;
        if (p.key === undefined) return asText(JSON.stringify(ref.view.attributes), inString);
        const value = ref.view.attributes[p.key];
        if (value === undefined) return void errors.push(`${raw}: ${ref.packageName} version ${ref.versionName} has no attribute '${p.key}'`);
        return asText(value, inString);
      }
      case 'packageArtifact': {
        // Signed per fetch later; now only the names become concrete and the artifact must exist.
        const ref = resolveRef(p.packageName, p.versionName, raw);
        if (!ref) return undefined;
        if (!ref.view.artifact) return void errors.push(`${raw}: ${ref.packageName} version ${ref.versionName} has no artifact`);
        return `\${aws:iot:package:${ref.packageName}:version:${ref.versionName}:artifact-location:s3-presigned-url}`;
      }
      case 'invalid':
        return void errors.push(p.error);
      case 'unknown':
        return void unknown.push(raw);
      default:
        return undefined;
    }
  });
  errors.push(...checkDocumentMatchesDestinations(referenced, destinations.arns));
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, document: resolved, destinationPackageVersions: destinations.arns, referenced, unknown };
}

/** Stage 2, when an execution is created: fills the variables of upload placeholders, nothing else. */
export function bindExecutionVariables(document: string, vars: ExecutionVariables): string {
  return rewrite(document, ({ placeholder, raw }) => {
    if (placeholder.kind !== 'presignedUpload' || !placeholder.location) return undefined;
    return raw.replace(/\$\{(thingName|jobId|executionNumber)\}/g, (_, name: keyof ExecutionVariables) => vars[name]);
  });
}

export type PresignRequest = { method: 'GET'; location: S3Location } | { method: 'PUT'; location?: S3Location };

export interface RenderContext {
  /** Signs one URL; undefined leaves the placeholder as written (reported in `unresolved`). */
  presign: (request: PresignRequest) => string | undefined;
  /** The artifact of a package version, for artifact-location placeholders. */
  artifactOf?: (ref: PackageVersionRef) => S3Location | undefined;
}

/** Stage 3, on every document fetch by a device: presigned placeholders become fresh URLs. */
export function renderForDevice(document: string, ctx: RenderContext): { document: string; unresolved: string[] } {
  const unresolved: string[] = [];
  const sign = (request: PresignRequest | undefined, raw: string, inString: boolean) => {
    const url = request && ctx.presign(request);
    if (url === undefined) return void unresolved.push(raw);
    return asText(url, inString);
  };
  const rendered = rewrite(document, ({ placeholder: p, raw, inString }) => {
    switch (p.kind) {
      case 'presignedUrl':
        return sign({ method: 'GET', location: p.location }, raw, inString);
      case 'presignedUpload':
        return sign({ method: 'PUT', location: p.location }, raw, inString);
      case 'packageArtifact': {
        const location = ctx.artifactOf?.({ packageName: p.packageName, versionName: p.versionName });
        return sign(location && { method: 'GET', location }, raw, inString);
      }
      default:
        return undefined;
    }
  });
  return { document: rendered, unresolved };
}

/** Whether a document must be rendered per fetch (it holds presigned-URL placeholders). */
export function needsPresigning(document: string): boolean {
  return scanPlaceholders(document).some(({ placeholder: p }) => p.kind === 'presignedUrl' || p.kind === 'presignedUpload' || p.kind === 'packageArtifact');
}
