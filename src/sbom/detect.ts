// Format detection by content, never by file name (sbom.md §6.2–6.3): S3 keys and zip entry
// names are free text, and a mislabelled file must get the same verdict as a labelled one.
import type { SbomFormat } from './types.ts';

export type Sniffed = { kind: 'zip' } | { kind: 'json'; offset: number } | { kind: 'xml'; offset: number } | { kind: 'unknown'; message: string };

/** Local file header (PK\3\4) or an empty archive's end-of-central-directory record (PK\5\6). */
export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && ((bytes[2] === 3 && bytes[3] === 4) || (bytes[2] === 5 && bytes[3] === 6));
}

const HEAD_BYTES = 4096;

/** Offset of the first significant byte: after a UTF-8 BOM and JSON/XML whitespace. */
export function contentStart(bytes: Uint8Array): number {
  let i = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    if (b !== 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) break;
    i++;
  }
  return i;
}

export function sniff(bytes: Uint8Array): Sniffed {
  if (isZip(bytes)) return { kind: 'zip' };
  if (bytes.length >= 2 && ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff))) {
    return { kind: 'unknown', message: 'UTF-16 encoded files are not supported; SBOM files must be UTF-8' };
  }
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    return { kind: 'unknown', message: 'gzip-compressed files are not supported; upload the SBOM itself or a zip archive' };
  }
  const start = contentStart(bytes);
  if (start >= bytes.length) return { kind: 'unknown', message: 'the file is empty' };
  const first = bytes[start];
  if (first === 0x7b /* { */) return { kind: 'json', offset: start };
  if (first === 0x3c /* < */) return { kind: 'xml', offset: start };
  if (first === 0x5b /* [ */) {
    return { kind: 'unknown', message: 'a JSON array is not an SBOM: expected a CycloneDX or SPDX JSON object' };
  }
  // Tag-value and YAML SPDX are real, common serializations: say why they are rejected.
  const head = new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(start, start + HEAD_BYTES));
  if (/^SPDXVersion:/m.test(head)) {
    return { kind: 'unknown', message: 'SPDX tag-value format is not accepted; submit SPDX as JSON (or CycloneDX as JSON or XML)' };
  }
  if (/^spdxVersion:/m.test(head)) {
    return { kind: 'unknown', message: 'SPDX YAML is not accepted; submit SPDX as JSON (or CycloneDX as JSON or XML)' };
  }
  const shown = first! >= 0x21 && first! < 0x7f ? `'${String.fromCharCode(first!)}'` : `0x${first!.toString(16).padStart(2, '0')}`;
  return { kind: 'unknown', message: `not a JSON or XML document (starts with ${shown}); expected CycloneDX JSON/XML or SPDX JSON` };
}

export type JsonClass = { ok: true; format: SbomFormat; label: string } | { ok: false; format?: string; message: string };

const CDX_JSON: Record<string, SbomFormat> = {
  '1.4': 'cyclonedx-json-1.4',
  '1.5': 'cyclonedx-json-1.5',
  '1.6': 'cyclonedx-json-1.6',
};
const SPDX_JSON: Record<string, SbomFormat> = {
  'SPDX-2.2': 'spdx-json-2.2',
  'SPDX-2.3': 'spdx-json-2.3',
};

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return value === undefined ? 'missing' : (JSON.stringify(value)?.slice(0, 40) ?? String(value));
}

/** Dispatch a parsed JSON document on bomFormat/specVersion (CycloneDX) or spdxVersion (SPDX 2.x). */
export function classifyJson(doc: unknown): JsonClass {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    return { ok: false, message: 'the JSON document is not an object: expected a CycloneDX or SPDX JSON document' };
  }
  const o = doc as Record<string, unknown>;
  if ('@context' in o || '@graph' in o) {
    const ctx = JSON.stringify(o['@context'] ?? '');
    return ctx.includes('spdx.org/rdf/3')
      ? { ok: false, format: 'spdx-jsonld-3', message: 'SPDX 3 (JSON-LD) is not supported; submit SPDX 2.2/2.3 JSON or CycloneDX' }
      : { ok: false, message: 'JSON-LD documents are not supported; expected CycloneDX or SPDX 2.2/2.3 JSON' };
  }
  if ('bomFormat' in o) {
    if (o.bomFormat !== 'CycloneDX') {
      return { ok: false, message: `/bomFormat is ${describe(o.bomFormat)}; a CycloneDX document has bomFormat "CycloneDX"` };
    }
    const v = o.specVersion;
    if (typeof v !== 'string') {
      return { ok: false, message: `CycloneDX document with specVersion ${describe(v)}: cannot tell which schema applies` };
    }
    const format = CDX_JSON[v];
    if (!format) return { ok: false, format: `cyclonedx-json-${v.slice(0, 16)}`, message: `CycloneDX specVersion ${describe(v)} is not supported` };
    return { ok: true, format, label: `CycloneDX ${v}` };
  }
  if ('spdxVersion' in o) {
    const v = o.spdxVersion;
    const format = typeof v === 'string' ? SPDX_JSON[v] : undefined;
    if (!format) {
      const m = typeof v === 'string' ? /^SPDX-(\d+\.\d+)$/.exec(v) : null;
      return {
        ok: false,
        ...(m ? { format: `spdx-json-${m[1]}` } : {}),
        message: `SPDX spdxVersion ${describe(v)} is not supported (expected "SPDX-2.2" or "SPDX-2.3")`,
      };
    }
    return { ok: true, format, label: `SPDX ${(v as string).slice(5)}` };
  }
  return {
    ok: false,
    message: 'the JSON document is neither CycloneDX (no bomFormat/specVersion) nor SPDX (no spdxVersion)',
  };
}

/** CycloneDX XML: the root element's namespace selects the version. */
export function classifyXmlNamespace(rootName: string, namespaceUri: string): JsonClass {
  const m = /^http:\/\/cyclonedx\.org\/schema\/bom\/(\d+\.\d+)$/.exec(namespaceUri);
  if (m && rootName === 'bom') {
    const v = m[1]!;
    const format = (['1.4', '1.5', '1.6'] as const).includes(v as '1.4') ? (`cyclonedx-xml-${v}` as SbomFormat) : undefined;
    if (!format) return { ok: false, format: `cyclonedx-xml-${v}`, message: `CycloneDX XML ${v} is not supported` };
    return { ok: true, format, label: `CycloneDX XML ${v}` };
  }
  if (namespaceUri === 'http://www.w3.org/1999/02/22-rdf-syntax-ns#') {
    return { ok: false, message: 'SPDX RDF/XML is not accepted; submit SPDX as JSON (or CycloneDX as JSON or XML)' };
  }
  const ns = namespaceUri ? ` in namespace ${namespaceUri}` : ' without a namespace';
  return { ok: false, message: `XML root element <${rootName}>${ns} is not a CycloneDX BOM (expected <bom xmlns="http://cyclonedx.org/schema/bom/1.N">)` };
}
