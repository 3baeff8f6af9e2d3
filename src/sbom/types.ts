// Shared types of the SBOM validation library. validate.ts re-exports them; they live
// here so the format modules can use them without importing the entry point.

/** Size limits, all in bytes except the entry count and the ratio. */
export interface SbomLimits {
  /** The whole object as fetched (a single SBOM or a zip). */
  maxObjectBytes: number;
  /** One SBOM file, uncompressed. */
  maxFileBytes: number;
  /** SBOM files in one zip (directories, __MACOSX/ and dotfiles not counted). */
  maxZipEntries: number;
  /** Sum of the inflated sizes of the SBOM files in one zip. */
  maxZipTotalBytes: number;
  /** Inflated:compressed ratio above which a (large) zip entry counts as a bomb. */
  maxCompressionRatio: number;
}

const MiB = 1024 * 1024;

export const DEFAULT_LIMITS: Readonly<SbomLimits> = Object.freeze({
  maxObjectBytes: 100 * MiB,
  maxFileBytes: 50 * MiB,
  maxZipEntries: 100,
  maxZipTotalBytes: 250 * MiB,
  maxCompressionRatio: 200,
});

export const SBOM_FORMATS = [
  'cyclonedx-json-1.4',
  'cyclonedx-json-1.5',
  'cyclonedx-json-1.6',
  'cyclonedx-xml-1.4',
  'cyclonedx-xml-1.5',
  'cyclonedx-xml-1.6',
  'spdx-json-2.2',
  'spdx-json-2.3',
] as const;

/** A format and version this library can validate (it ships a schema for each). */
export type SbomFormat = (typeof SBOM_FORMATS)[number];

/** Default accepted set: everything we have a schema for (sbom.md §6.4); narrow it for AWS parity. */
export const DEFAULT_ACCEPTED: ReadonlySet<SbomFormat> = new Set(SBOM_FORMATS);

export interface Finding {
  /** RFC 6901 JSON pointer ('' = the document root or the file as a whole), or `line N` for XML. */
  path: string;
  message: string;
}

export type ValidationResult = 'SUCCEEDED' | 'FAILED';
export type SbomErrorCode = 'INCOMPATIBLE_FORMAT' | 'FILE_SIZE_LIMIT_EXCEEDED';

export interface FileReport {
  fileName: string;
  validationResult: ValidationResult;
  errorCode?: SbomErrorCode;
  /** One line, at most ~1 KB: what AWS returns in ListSbomValidationResults. */
  errorMessage?: string;
  /** The detected format, e.g. 'cyclonedx-json-1.5', when it could be identified (also for rejected versions). */
  format?: string;
  /** Every schema error (capped), for a full report. */
  errors: Finding[];
  /** Integrity findings the schemas cannot express; never make a file fail. */
  warnings: Finding[];
}

export interface SbomValidateOptions {
  limits?: Partial<SbomLimits>;
  accepted?: Iterable<SbomFormat>;
  /** SPDX 2.3: accept both '-' and '_' enum spellings (sbom.md §6.4 "lenient23"). Default true. */
  lenientSpdx23?: boolean;
}

/** Resolved options, passed down to the format modules. */
export interface SbomContext {
  limits: SbomLimits;
  accepted: ReadonlySet<SbomFormat>;
  lenientSpdx23: boolean;
}

export const MAX_MESSAGE_CHARS = 1024;
/** Cap on `errors` and `warnings` per file, so a pathological document cannot bloat a report. */
export const MAX_FINDINGS = 1000;

export function clip(message: string, max = MAX_MESSAGE_CHARS): string {
  const oneLine = message.replace(/\s+/g, ' ').trim();
  return oneLine.length <= max ? oneLine : `${oneLine.slice(0, max - 1)}…`;
}

export function failed(
  fileName: string,
  errorCode: SbomErrorCode,
  errorMessage: string,
  extra: Partial<Pick<FileReport, 'format' | 'errors' | 'warnings'>> = {},
): FileReport {
  const message = clip(errorMessage);
  return {
    fileName,
    validationResult: 'FAILED',
    errorCode,
    errorMessage: message,
    ...(extra.format ? { format: extra.format } : {}),
    errors: extra.errors ?? [{ path: '', message }],
    warnings: extra.warnings ?? [],
  };
}

/** Human label of a format id, e.g. 'cyclonedx-json-1.5' → 'CycloneDX JSON 1.5'. */
export function formatLabel(format: string): string {
  const m = /^(cyclonedx|spdx)-(json|xml)-(.+)$/.exec(format);
  if (!m) return format;
  return `${m[1] === 'spdx' ? 'SPDX' : 'CycloneDX'} ${m[2]!.toUpperCase()} ${m[3]}`;
}

export function acceptedList(accepted: ReadonlySet<SbomFormat>): string {
  const list = SBOM_FORMATS.filter((f) => accepted.has(f)).map(formatLabel);
  return list.length ? list.join(', ') : 'none';
}

/** What SBOM validation is configured with (`--sbom-*`). */
export interface SbomConfig {
  formats: SbomFormat[];
  maxObjectSize: number;
  maxFileSize: number;
  maxZipEntries: number;
  concurrency: number;
  timeoutMs: number;
}
