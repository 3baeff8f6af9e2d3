// Checks the schemas cannot express (sbom.md §4): identifier uniqueness, references that resolve,
// license expressions that parse. Reported as warnings only: 7 of 205 schema-valid real SBOMs
// (syft, trivy, Tern, Black Duck output) break one of these, and AWS has no warning channel.
import { isKnownLicenseId, parseLicenseExpression, type LicenseParse } from './license-expr.ts';
import { MAX_FINDINGS, type Finding, type SbomFormat } from './types.ts';

/** Collects findings up to a cap; the overflow is summarised in one last finding. */
export class Findings {
  readonly list: Finding[] = [];
  private dropped = 0;
  constructor(private readonly max = MAX_FINDINGS) {}
  add(path: string, message: string): void {
    if (this.list.length < this.max) this.list.push({ path, message });
    else this.dropped++;
  }
  done(): Finding[] {
    if (this.dropped) this.list.push({ path: '', message: `${this.dropped} more warnings not listed` });
    return this.list;
  }
}

/** JSON pointer segment escaping (RFC 6901). */
const seg = (k: string | number): string => (typeof k === 'number' || !/[~/]/.test(k) ? `/${k}` : `/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`);

interface CheckedExpression {
  parse: LicenseParse;
  /** Ids not on the SPDX license list, worked out once per distinct expression. */
  unknownIds: string[];
}

// Real SBOMs repeat a handful of expressions thousands of times: check each distinct one once.
const checkedCache = new Map<string, CheckedExpression>();
function checked(expr: string): CheckedExpression {
  let c = checkedCache.get(expr);
  if (!c) {
    if (checkedCache.size >= 10_000) checkedCache.clear();
    const parse = parseLicenseExpression(expr);
    c = { parse, unknownIds: parse.ok ? parse.licenseIds.filter((id) => !isKnownLicenseId(id)) : [] };
    checkedCache.set(expr, c);
  }
  return c;
}

const resolvePath = (p: string | (() => string)): string => (typeof p === 'string' ? p : p());

export function checkLicenseExpression(out: Findings, path: string | (() => string), expr: string, declaredRefs?: ReadonlySet<string>): void {
  if (expr === 'NONE' || expr === 'NOASSERTION') return;
  const { parse: r, unknownIds } = checked(expr);
  if (!r.ok) {
    out.add(resolvePath(path), `license expression ${JSON.stringify(expr.slice(0, 200))} does not parse: ${r.message}`);
    return;
  }
  for (const id of unknownIds) out.add(resolvePath(path), `unknown SPDX license id '${id}'`);
  if (declaredRefs) {
    for (const ref of r.licenseRefs) {
      if (!ref.startsWith('DocumentRef-') && !declaredRefs.has(ref)) out.add(resolvePath(path), `'${ref}' is not declared in hasExtractedLicensingInfos`);
    }
  }
}

/** JSON pointer from segments; built only for what gets reported. */
export const ptr = (...segs: (string | number)[]): string => segs.map(seg).join('');

/**
 * Duplicate detection for ids (bom-refs, SPDXIDs): one Set insertion per id. Where the first
 * occurrence was is only needed to report a duplicate, so `index` (id → path of its first
 * occurrence, one pass over the document) runs lazily, at most once.
 */
export class IdRegistry {
  private readonly seen = new Set<string>();
  private firstPaths: Map<string, string> | undefined;
  constructor(private readonly index: () => Map<string, string>) {}
  /** Registers `id`; true when it was already there. */
  isDuplicate(id: string): boolean {
    const before = this.seen.size;
    this.seen.add(id);
    return this.seen.size === before;
  }
  has(id: string): boolean {
    return this.seen.has(id);
  }
  firstAt(id: string): string {
    this.firstPaths ??= this.index();
    return this.firstPaths.get(id) ?? '?';
  }
}

/** Record the first path of each id (for IdRegistry's index). */
const firstPath = (m: Map<string, string>, id: unknown, path: () => string): void => {
  if (typeof id === 'string' && !m.has(id)) m.set(id, path());
};

const SPDX_ID = /^SPDXRef-[A-Za-z0-9.-]+$/;
const DOC_REF = /^DocumentRef-[A-Za-z0-9.-]+$/;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

const SPDX_ELEMENTS = ['packages', 'files', 'snippets'] as const;
const SPDX_LICENSE_FIELDS = {
  packages: { one: ['licenseConcluded', 'licenseDeclared'], many: ['licenseInfoFromFiles'] },
  files: { one: ['licenseConcluded'], many: ['licenseInfoInFiles'] },
  snippets: { one: ['licenseConcluded'], many: ['licenseInfoInSnippets'] },
} as const;

function spdxFindings(d: Obj): Finding[] {
  const out = new Findings();
  const ids = new IdRegistry(() => {
    const m = new Map<string, string>();
    firstPath(m, d.SPDXID, () => '/SPDXID');
    for (const key of SPDX_ELEMENTS) {
      arr(d[key]).forEach((el, i) => {
        if (isObj(el)) firstPath(m, el.SPDXID, () => ptr(key, i, 'SPDXID'));
      });
    }
    return m;
  });
  if (typeof d.SPDXID === 'string') {
    if (d.SPDXID !== 'SPDXRef-DOCUMENT') out.add('/SPDXID', `document SPDXID is '${d.SPDXID}', expected 'SPDXRef-DOCUMENT'`);
    ids.isDuplicate(d.SPDXID);
  }
  for (const key of SPDX_ELEMENTS) {
    const list = arr(d[key]);
    for (let i = 0; i < list.length; i++) {
      const el = list[i];
      if (!isObj(el) || typeof el.SPDXID !== 'string') continue;
      const id = el.SPDXID;
      if (!SPDX_ID.test(id)) out.add(ptr(key, i, 'SPDXID'), `SPDXID '${id}' does not match SPDXRef-[A-Za-z0-9.-]+`);
      if (ids.isDuplicate(id)) out.add(ptr(key, i, 'SPDXID'), `duplicate SPDXID '${id}' (first at ${ids.firstAt(id)})`);
    }
  }
  const docRefs = new Set<string>();
  arr(d.externalDocumentRefs).forEach((r, i) => {
    if (!isObj(r) || typeof r.externalDocumentId !== 'string') return;
    if (!DOC_REF.test(r.externalDocumentId))
      out.add(ptr('externalDocumentRefs', i, 'externalDocumentId'), `'${r.externalDocumentId}' does not match DocumentRef-[A-Za-z0-9.-]+`);
    docRefs.add(r.externalDocumentId);
  });
  // Why `ref` does not resolve, or null. Paths are built by the callers only for what is reported.
  const unresolved = (ref: unknown): string | null => {
    if (typeof ref !== 'string' || ref === 'NONE' || ref === 'NOASSERTION' || ids.has(ref)) return null;
    if (!ref.startsWith('DocumentRef-')) return `'${ref}' does not resolve to any SPDXID in this document`;
    const doc = ref.split(':', 1)[0]!;
    return docRefs.has(doc) ? null : `'${ref}' refers to ${doc}, which is not declared in externalDocumentRefs`;
  };
  arr(d.documentDescribes).forEach((ref, i) => {
    const why = unresolved(ref);
    if (why) out.add(ptr('documentDescribes', i), why);
  });
  const rels = arr(d.relationships);
  for (let i = 0; i < rels.length; i++) {
    const r = rels[i];
    if (!isObj(r)) continue;
    const a = unresolved(r.spdxElementId);
    if (a) out.add(ptr('relationships', i, 'spdxElementId'), a);
    const b = unresolved(r.relatedSpdxElement);
    if (b) out.add(ptr('relationships', i, 'relatedSpdxElement'), b);
  }
  arr(d.packages).forEach((p, i) => {
    if (!isObj(p)) return;
    arr(p.hasFiles).forEach((ref, j) => {
      const why = unresolved(ref);
      if (why) out.add(ptr('packages', i, 'hasFiles', j), why);
    });
  });
  arr(d.snippets).forEach((sn, i) => {
    const why = isObj(sn) ? unresolved(sn.snippetFromFile) : null;
    if (why) out.add(ptr('snippets', i, 'snippetFromFile'), why);
  });

  const declared = new Set<string>();
  for (const l of arr(d.hasExtractedLicensingInfos)) if (isObj(l) && typeof l.licenseId === 'string') declared.add(l.licenseId);
  for (const key of SPDX_ELEMENTS) {
    const list = arr(d[key]);
    const fields = SPDX_LICENSE_FIELDS[key];
    for (let i = 0; i < list.length; i++) {
      const el = list[i];
      if (!isObj(el)) continue;
      for (const f of fields.one) {
        const v = el[f];
        if (typeof v === 'string') checkLicenseExpression(out, () => ptr(key, i, f), v, declared);
      }
      for (const f of fields.many) {
        arr(el[f]).forEach((v, j) => {
          if (typeof v === 'string') checkLicenseExpression(out, () => ptr(key, i, f, j), v, declared);
        });
      }
    }
  }
  return out.done();
}

/** CycloneDX 1.4–1.6 members whose contents never carry a bom-ref or a license: not walked. */
const LEAF_CONTAINERS = new Set(['hashes', 'properties', 'externalReferences', 'dependencies', 'signature', 'dependsOn']);

/**
 * Visit every object of a CycloneDX document that can hold a bom-ref or a license choice, with its
 * path as a key stack. Recursion is safe: this only runs after the schema validator (recursive
 * itself, with bigger frames) got through the same document.
 */
function walkCycloneDx(d: Obj, visit: (o: Obj, keys: readonly (string | number)[]) => void): void {
  const keys: (string | number)[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const c = v[i];
        if (c !== null && typeof c === 'object') {
          keys.push(i);
          walk(c);
          keys.pop();
        }
      }
      return;
    }
    const o = v as Obj;
    visit(o, keys);
    for (const k in o) {
      const c = o[k];
      if (c !== null && typeof c === 'object' && !LEAF_CONTAINERS.has(k)) {
        keys.push(k);
        walk(c);
        keys.pop();
      }
    }
  };
  walk(d);
}

function cycloneDxFindings(d: Obj): Finding[] {
  const out = new Findings();
  const refs = new IdRegistry(() => {
    const m = new Map<string, string>();
    walkCycloneDx(d, (o, keys) => firstPath(m, o['bom-ref'], () => `${ptr(...keys)}/bom-ref`));
    return m;
  });
  walkCycloneDx(d, (o, keys) => {
    const ref = o['bom-ref'];
    if (typeof ref === 'string' && refs.isDuplicate(ref)) out.add(`${ptr(...keys)}/bom-ref`, `duplicate bom-ref '${ref}' (first at ${refs.firstAt(ref)})`);
    // A license choice item: { expression } as an element of a `licenses` array.
    if (typeof o.expression === 'string' && keys[keys.length - 2] === 'licenses') {
      checkLicenseExpression(out, () => `${ptr(...keys)}/expression`, o.expression);
    }
  });
  const dangling = (ref: string): string => `'${ref}' does not resolve to any bom-ref in this BOM`;
  const deps = arr(d.dependencies);
  for (let i = 0; i < deps.length; i++) {
    const dep = deps[i];
    if (!isObj(dep)) continue;
    if (typeof dep.ref === 'string' && !refs.has(dep.ref)) out.add(ptr('dependencies', i, 'ref'), dangling(dep.ref));
    for (const k of ['dependsOn', 'provides']) {
      const list = arr(dep[k]);
      for (let j = 0; j < list.length; j++) {
        const r = list[j];
        if (typeof r === 'string' && !refs.has(r)) out.add(ptr('dependencies', i, k, j), dangling(r));
      }
    }
  }
  return out.done();
}

/** Integrity warnings for a schema-valid JSON document. */
export function integrityWarnings(format: SbomFormat, doc: unknown): Finding[] {
  if (!isObj(doc)) return [];
  return format.startsWith('spdx') ? spdxFindings(doc) : cycloneDxFindings(doc);
}

/** The same CycloneDX checks from values an XML walk extracted (xml.ts), paths being `line N`. */
export function cycloneDxXmlFindings(input: {
  bomRefs: { value: string; path: string }[];
  dependencyRefs: { value: string; path: string }[];
  expressions: { value: string; path: string }[];
}): Finding[] {
  const out = new Findings();
  const refs = new IdRegistry(() => {
    const m = new Map<string, string>();
    for (const r of input.bomRefs) firstPath(m, r.value, () => r.path);
    return m;
  });
  for (const r of input.bomRefs) if (refs.isDuplicate(r.value)) out.add(r.path, `duplicate bom-ref '${r.value}' (first at ${refs.firstAt(r.value)})`);
  for (const r of input.dependencyRefs) if (!refs.has(r.value)) out.add(r.path, `'${r.value}' does not resolve to any bom-ref in this BOM`);
  for (const e of input.expressions) checkLicenseExpression(out, e.path, e.value);
  return out.done();
}
