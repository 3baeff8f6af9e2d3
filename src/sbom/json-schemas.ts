// JSON Schema validation of CycloneDX 1.4–1.6 and SPDX 2.2/2.3 JSON with ajv (sbom.md §3, §5).
// The schema files are upstream bytes; every policy patch below happens on an in-memory copy.
import { readFileSync } from 'node:fs';
import { _, Ajv, str, type CodeKeywordDefinition, type ErrorObject, type KeywordCxt, type ValidateFunction } from 'ajv';
import formatsPlugin from 'ajv-formats';
import type { Finding, SbomFormat } from './types.ts';
import { firstDuplicate } from './unique-items.ts';

type JsonFormat = Extract<SbomFormat, `${string}-json-${string}`>;
type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

// ajv-formats is CommonJS with `exports.default`; under NodeNext the default import's type is the
// module object, at run time it is the function itself. Accept both.
const addFormats = ((formatsPlugin as unknown as { default?: typeof formatsPlugin }).default ?? formatsPlugin) as unknown as (
  ajv: Ajv,
  formats: string[],
) => Ajv;

const SCHEMA_DIR = new URL('./schemas/', import.meta.url);

function loadSchema(file: string): Record<string, Json> {
  return JSON.parse(readFileSync(new URL(file, SCHEMA_DIR), 'utf8')) as Record<string, Json>;
}

/** Deep copy, renaming `uniqueItems: true` to our linear-time keyword (ajv's own is O(n²), sbom.md §5). */
export function withFastUniqueItems<T extends Json>(schema: T): T {
  if (Array.isArray(schema)) return schema.map((s) => withFastUniqueItems(s)) as T;
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Record<string, Json> = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === 'uniqueItems' && v === true) out.uniqueItemsFast = true;
    else out[k] = withFastUniqueItems(v);
  }
  return out as T;
}

/** Deep copy without any `uniqueItems` (the bench's "plain ajv" baseline, which otherwise never finishes). */
export function withoutUniqueItems<T extends Json>(schema: T): T {
  if (Array.isArray(schema)) return schema.map((s) => withoutUniqueItems(s)) as T;
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Record<string, Json> = {};
  for (const [k, v] of Object.entries(schema)) if (k !== 'uniqueItems') out[k] = withoutUniqueItems(v);
  return out as T;
}

// SPDX 2.3 "lenient23" (sbom.md §6.4): the released schema and the SPDX reference verifier's
// schema disagree on three enum spellings and real tools emit both; accept the union.
const LENIENT_23_ALIASES: Record<string, string> = {
  'PACKAGE-MANAGER': 'PACKAGE_MANAGER',
  'PERSISTENT-ID': 'PERSISTENT_ID',
  OPERATING_SYSTEM: 'OPERATING-SYSTEM',
};

export function withLenientSpdx23Enums<T extends Json>(schema: T): T {
  if (Array.isArray(schema)) return schema.map((s) => withLenientSpdx23Enums(s)) as T;
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Record<string, Json> = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === 'enum' && Array.isArray(v)) {
      const extra = v.flatMap((e) => (typeof e === 'string' && LENIENT_23_ALIASES[e] && !v.includes(LENIENT_23_ALIASES[e]!) ? [LENIENT_23_ALIASES[e]!] : []));
      out[k] = [...v, ...extra];
    } else out[k] = withLenientSpdx23Enums(v);
  }
  return out as T;
}

// ajv-formats lacks these two. iri-reference: always true, as cyclonedx-library does (the draft2019
// plugin rejects valid URNs, sbom.md §3). idn-email: dot-atom local part (any non-ASCII allowed,
// RFC 6531) @ a domain of Unicode letter/digit labels.
const IDN_EMAIL =
  /^[^\s@"(),:;<>[\\\].]+(?:\.[^\s@"(),:;<>[\\\].]+)*@[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?(?:\.[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?)*$/u;
export const idnEmail = (s: string): boolean => s.length <= 320 && IDN_EMAIL.test(s);

// A code keyword, not a `validate` one: ajv inlines a direct call, instead of building a context
// object for each of the ~100k arrays of a large BOM.
const uniqueItemsFast: CodeKeywordDefinition = {
  keyword: 'uniqueItemsFast',
  type: 'array',
  schemaType: 'boolean',
  error: {
    message: ({ params: { i, j } }) => str`must NOT have duplicate items (items ## ${i} and ${j} are identical)`,
    params: ({ params: { i, j } }) => _`{i: ${i}, j: ${j}}`,
  },
  code(cxt: KeywordCxt) {
    if (!cxt.schema) return;
    const fn = cxt.gen.scopeValue('func', { ref: firstDuplicate });
    const dup = cxt.gen.const('dup', _`${fn}(${cxt.data})`);
    cxt.setParams({ i: _`${dup}[0]`, j: _`${dup}[1]` });
    cxt.fail(_`${dup} !== null`);
  },
};

// With allErrors, ajv's generated code merges the errors of every $ref'd call (each component,
// license, …) with `vErrors = vErrors.concat(callee.errors)`: a copy of the whole list per call,
// O(k²) in the error count (measured: 20,000 components with a bad license id took 31 s, an array
// of 50,000 wrong-typed items 57 s). Rewritten to append in place: linear.
const CONCAT_ERRORS = /vErrors\.concat\(([\w$.]+\.errors)\)/g;
const APPEND_ERRORS = '(function(a,b){for(var i=0;i<b.length;i++)a.push(b[i]);return a})(vErrors,$1)';
export const linearErrorMerge = (code: string): string => code.replace(CONCAT_ERRORS, APPEND_ERRORS);

export function newAjv(allErrors: boolean): Ajv {
  // strict:false: CycloneDX uses `meta:enum`, and 1.4 has `additionalItems` next to object `items`.
  const ajv = new Ajv({ strict: false, allErrors, logger: false, ...(allErrors ? { code: { process: linearErrorMerge } } : {}) });
  addFormats(ajv, ['date-time', 'date', 'time', 'uri', 'uri-reference', 'email']);
  ajv.addFormat('iri-reference', true);
  ajv.addFormat('idn-email', idnEmail);
  ajv.addKeyword(uniqueItemsFast);
  return ajv;
}

const CDX_SHARED = ['spdx.schema.json', 'jsf-0.82.schema.json'];
const SCHEMA_FILE: Record<JsonFormat, string> = {
  'cyclonedx-json-1.4': 'bom-1.4.schema.json',
  'cyclonedx-json-1.5': 'bom-1.5.schema.json',
  'cyclonedx-json-1.6': 'bom-1.6.schema.json',
  'spdx-json-2.2': 'spdx-2.2.schema.json',
  'spdx-json-2.3': 'spdx-2.3.schema.json',
};

interface Engine {
  ajv: Ajv;
  sharedAdded: boolean;
  compiled: Map<string, ValidateFunction>;
}
const engines = new Map<boolean, Engine>();

function engine(allErrors: boolean): Engine {
  let e = engines.get(allErrors);
  if (!e) {
    e = { ajv: newAjv(allErrors), sharedAdded: false, compiled: new Map() };
    engines.set(allErrors, e);
  }
  return e;
}

/** The compiled validator for a format, built on first use and cached for the life of the process. */
export function getValidator(format: JsonFormat, lenientSpdx23: boolean, allErrors: boolean): ValidateFunction {
  const lenient = format === 'spdx-json-2.3' && lenientSpdx23;
  const key = lenient ? `${format}+lenient` : format;
  const e = engine(allErrors);
  let fn = e.compiled.get(key);
  if (fn) return fn;
  if (format.startsWith('cyclonedx') && !e.sharedAdded) {
    // Registered under their own $id, so the bom schemas' relative $refs resolve without a network.
    for (const f of CDX_SHARED) e.ajv.addSchema(withFastUniqueItems(loadSchema(f)));
    e.sharedAdded = true;
  }
  let schema = withFastUniqueItems(loadSchema(SCHEMA_FILE[format]));
  // A distinct $id: the strict and the lenient 2.3 schema can live in one ajv instance.
  if (lenient) schema = { ...withLenientSpdx23Enums(schema), $id: `${String(schema.$id)}/lenient23` };
  fn = e.ajv.compile(schema);
  e.compiled.set(key, fn);
  return fn;
}

function errorDetail(err: ErrorObject): string {
  const p = err.params as Record<string, unknown>;
  if (err.keyword === 'additionalProperties') return ` ('${String(p.additionalProperty)}')`;
  if (err.keyword === 'enum' && Array.isArray(p.allowedValues)) {
    const vals = p.allowedValues as unknown[];
    return vals.length <= 12 ? ` (${vals.map((v) => JSON.stringify(v)).join(', ')})` : ` (${vals.length} allowed values)`;
  }
  if (err.keyword === 'const') return ` (${JSON.stringify(p.allowedValue)})`;
  if (err.keyword === 'propertyNames') return ` ('${String(p.propertyName)}')`;
  return '';
}

export function toFinding(err: ErrorObject): Finding & { rule: string } {
  // Report our stand-in under the name and schema location of the upstream keyword it replaces.
  const fast = err.keyword === 'uniqueItemsFast';
  return {
    path: err.instancePath,
    message: `${err.message ?? 'is invalid'}${errorDetail(err)}`,
    rule: fast ? `uniqueItems at ${err.schemaPath.replace(/uniqueItemsFast$/, 'uniqueItems')}` : `${err.keyword} at ${err.schemaPath}`,
  };
}

export type SchemaOutcome = { valid: true } | { valid: false; first: Finding & { rule: string }; all: Finding[] };

/**
 * Verdict from the fail-fast validator (the common, valid case pays nothing extra). Only an invalid
 * document is run again with allErrors to list every error, and only when `fullReport` (the caller
 * skips it for very large files, where allErrors on a broken document could pile up errors).
 */
export function validateJsonSchema(
  format: JsonFormat,
  doc: unknown,
  opts: { lenientSpdx23: boolean; fullReport: boolean; maxFindings: number },
): SchemaOutcome {
  const fast = getValidator(format, opts.lenientSpdx23, false);
  if (fast(doc)) return { valid: true };
  const errs = fast.errors!;
  const first = toFinding(errs[0]!);
  let list = errs;
  if (opts.fullReport) {
    const full = getValidator(format, opts.lenientSpdx23, true);
    full(doc);
    list = full.errors?.length ? full.errors : errs;
  }
  const all = list.slice(0, opts.maxFindings).map((e) => {
    const f = toFinding(e);
    return { path: f.path, message: `${f.message} [${f.rule}]` };
  });
  return { valid: false, first, all };
}

export type { JsonFormat };
