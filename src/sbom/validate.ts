// Entry point of the SBOM validation library: bytes in, one report per SBOM file out.
// Pure apart from reading the bundled schemas: no HTTP, no database, no S3. Never throws for
// anything the input can do; every problem becomes a FAILED report (sbom.md §6).
import { isAscii, isUtf8 } from 'node:buffer';
import { classifyJson, isZip, sniff } from './detect.ts';
import { parseWouldExhaustHeap } from './heap-guard.ts';
import { integrityWarnings } from './integrity.ts';
import { validateJsonSchema, type JsonFormat } from './json-schemas.ts';
import {
  acceptedList,
  clip,
  DEFAULT_ACCEPTED,
  DEFAULT_LIMITS,
  failed,
  formatLabel,
  MAX_FINDINGS,
  type FileReport,
  type Finding,
  type SbomContext,
  type SbomFormat,
  type SbomValidateOptions,
} from './types.ts';
import { validateCycloneDxXml } from './xml.ts';
import { validateZip } from './zip.ts';

export * from './types.ts';

/**
 * Above this size an invalid JSON document gets only its first schema error listed: the allErrors
 * pass can produce an error object (~200 bytes) for every couple of input bytes.
 */
const FULL_REPORT_MAX_BYTES = 4 * 1024 * 1024;

export function resolveContext(options: SbomValidateOptions = {}): SbomContext {
  const limits = { ...DEFAULT_LIMITS };
  for (const [k, v] of Object.entries(options.limits ?? {})) {
    if (v !== undefined) {
      if (!(typeof v === 'number' && v > 0)) throw new RangeError(`SBOM limit ${k} must be a positive number`);
      limits[k as keyof typeof limits] = v;
    }
  }
  return {
    limits,
    accepted: options.accepted ? new Set(options.accepted) : DEFAULT_ACCEPTED,
    lenientSpdx23: options.lenientSpdx23 ?? true,
  };
}

function jsonPosition(text: string, message: string): string {
  const m = /at position (\d+)/.exec(message);
  if (!m) return '';
  const pos = Number(m[1]);
  let line = 1;
  let col = 1;
  for (let i = 0; i < pos && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      col = 1;
    } else col++;
  }
  return ` (line ${line}, column ${col})`;
}

function validateJson(bytes: Uint8Array, fileName: string, ctx: SbomContext): FileReport {
  // Decoding: most SBOMs are pure ASCII, which (checked by simdutf) becomes a one-byte string by a
  // plain copy, several times faster than UTF-8 decoding; anything else must be valid UTF-8.
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const heap = parseWouldExhaustHeap(buf);
  if (heap) {
    const mib = (n: number) => Math.ceil(n / 1048576);
    return failed(
      fileName,
      'FILE_SIZE_LIMIT_EXCEEDED',
      `too large to validate within the validator's memory: parsing needs up to ${mib(heap.need)} MiB of heap, ${mib(heap.free)} MiB can be spared`,
    );
  }
  const start = buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0; // UTF-8 BOM
  let text: string;
  if (isAscii(buf)) text = buf.toString('latin1', start);
  else if (isUtf8(buf)) text = buf.toString('utf8', start);
  else return failed(fileName, 'INCOMPATIBLE_FORMAT', 'not valid UTF-8: SBOM JSON must be UTF-8 encoded');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    const msg = (err as Error).message;
    return failed(fileName, 'INCOMPATIBLE_FORMAT', `not valid JSON${jsonPosition(text, msg)}: ${msg}`);
  }
  const cls = classifyJson(doc);
  if (!cls.ok) return failed(fileName, 'INCOMPATIBLE_FORMAT', cls.message, cls.format ? { format: cls.format } : {});
  const format = cls.format;
  if (!ctx.accepted.has(format)) {
    return failed(fileName, 'INCOMPATIBLE_FORMAT', `${formatLabel(format)} is not accepted (accepted: ${acceptedList(ctx.accepted)})`, { format });
  }
  const outcome = validateJsonSchema(format as JsonFormat, doc, {
    lenientSpdx23: ctx.lenientSpdx23,
    fullReport: bytes.length <= FULL_REPORT_MAX_BYTES,
    maxFindings: MAX_FINDINGS,
  });
  if (!outcome.valid) {
    const f = outcome.first;
    return failed(fileName, 'INCOMPATIBLE_FORMAT', `${cls.label} schema: ${f.path || '/'} ${f.message} [${f.rule}]`, { format, errors: outcome.all });
  }
  return { fileName, validationResult: 'SUCCEEDED', format, errors: [], warnings: safeIntegrity(format, doc) };
}

/** Integrity findings are warnings: even a failure of the checks themselves must not fail the file. */
function safeIntegrity(format: SbomFormat, doc: unknown): Finding[] {
  try {
    return integrityWarnings(format, doc);
  } catch (err) {
    return [{ path: '', message: `integrity checks skipped: ${(err as Error).message}` }];
  }
}

/** One SBOM file (never a zip). */
export async function validateFile(bytes: Uint8Array, fileName: string, ctx: SbomContext): Promise<FileReport> {
  try {
    if (bytes.length > ctx.limits.maxFileBytes) {
      return failed(fileName, 'FILE_SIZE_LIMIT_EXCEEDED', `${bytes.length} bytes exceeds the ${ctx.limits.maxFileBytes}-byte file limit`);
    }
    const s = sniff(bytes);
    switch (s.kind) {
      case 'zip':
        return failed(fileName, 'INCOMPATIBLE_FORMAT', 'nested archives are not supported: put the SBOM files directly in the zip');
      case 'unknown':
        return failed(fileName, 'INCOMPATIBLE_FORMAT', s.message);
      case 'json':
        return validateJson(bytes, fileName, ctx);
      case 'xml': {
        const r = await validateCycloneDxXml(bytes, ctx.accepted, MAX_FINDINGS);
        if (!r.ok) return failed(fileName, 'INCOMPATIBLE_FORMAT', r.message, { ...(r.format ? { format: r.format } : {}), errors: r.errors });
        return { fileName, validationResult: 'SUCCEEDED', format: r.format, errors: [], warnings: r.warnings };
      }
    }
  } catch (err) {
    // Only pathological input gets here, e.g. nesting deep enough to overflow the validator's stack.
    const e = err as Error;
    const why = e instanceof RangeError && /call stack/i.test(e.message) ? 'the document is nested too deeply to validate' : `validation error: ${e.message}`;
    return failed(fileName, 'INCOMPATIBLE_FORMAT', why);
  }
}

/**
 * Validate one object as fetched (a single SBOM, or a zip of SBOMs detected by magic bytes).
 * A single file's report is named `objectName`; zip entries are named by their path in the zip.
 */
export async function validateSbom(bytes: Uint8Array, objectName: string, options?: SbomValidateOptions): Promise<FileReport[]> {
  let ctx: SbomContext;
  try {
    ctx = resolveContext(options);
  } catch (err) {
    return [failed(objectName, 'INCOMPATIBLE_FORMAT', `invalid validator configuration: ${(err as Error).message}`)];
  }
  try {
    if (bytes.length > ctx.limits.maxObjectBytes) {
      return [failed(objectName, 'FILE_SIZE_LIMIT_EXCEEDED', `${bytes.length} bytes exceeds the ${ctx.limits.maxObjectBytes}-byte object limit`)];
    }
    if (isZip(bytes)) return await validateZip(bytes, objectName, ctx.limits, (b, name) => validateFile(b, name, ctx));
    return [await validateFile(bytes, objectName, ctx)];
  } catch (err) {
    return [failed(objectName, 'INCOMPATIBLE_FORMAT', clip(`validation error: ${(err as Error).message}`))];
  }
}

/** SUCCEEDED only if every file SUCCEEDED (the package version's sbomValidationStatus). */
export function overallStatus(reports: readonly FileReport[]): 'SUCCEEDED' | 'FAILED' {
  return reports.length > 0 && reports.every((r) => r.validationResult === 'SUCCEEDED') ? 'SUCCEEDED' : 'FAILED';
}
