// CycloneDX XML 1.4–1.6 against the upstream XSDs with libxml2-wasm (sbom.md §3, §5): pure
// WebAssembly, no native build. The XSDs import the SPDX license schema by URL; that one URL is
// served from memory and nothing else resolves, so there is neither network access nor XXE.
import { readFileSync } from 'node:fs';
import type { ErrorDetail, XmlDocument as XmlDocumentT, XsdValidator as XsdValidatorT } from 'libxml2-wasm';
import { classifyXmlNamespace } from './detect.ts';
import { cycloneDxXmlFindings } from './integrity.ts';
import { acceptedList, type Finding, type SbomFormat } from './types.ts';

type XmlFormat = Extract<SbomFormat, `cyclonedx-xml-${string}`>;
type Lib = typeof import('libxml2-wasm');

const SCHEMA_DIR = new URL('./schemas/', import.meta.url);
const XSD_FILE: Record<XmlFormat, string> = {
  'cyclonedx-xml-1.4': 'bom-1.4.xsd',
  'cyclonedx-xml-1.5': 'bom-1.5.xsd',
  'cyclonedx-xml-1.6': 'bom-1.6.xsd',
};
const SPDX_XSD_URL = 'http://cyclonedx.org/schema/spdx';

let libPromise: Promise<Lib> | undefined;
let xmlBytes = 0;

/**
 * Bytes of XML handed to libxml2 since the last call. Its WebAssembly memory grows to fit the
 * largest document and never shrinks, so the worker pool retires a worker after a big one.
 */
export function takeXmlBytes(): number {
  const n = xmlBytes;
  xmlBytes = 0;
  return n;
}
const validators = new Map<XmlFormat, XsdValidatorT>();

// Loaded on first XML file only: the wasm module is a few MB that JSON-only callers never need.
function lib(): Promise<Lib> {
  libPromise ??= import('libxml2-wasm').then((m) => {
    m.xmlRegisterInputProvider(new m.XmlBufferInputProvider({ [SPDX_XSD_URL]: readFileSync(new URL('spdx.xsd', SCHEMA_DIR)) }));
    return m;
  });
  return libPromise;
}

function validator(m: Lib, format: XmlFormat): XsdValidatorT {
  let v = validators.get(format);
  if (!v) {
    const file = XSD_FILE[format];
    const xsdDoc = m.XmlDocument.fromBuffer(readFileSync(new URL(file, SCHEMA_DIR)), { url: `file:///${file}` });
    try {
      v = m.XsdValidator.fromDoc(xsdDoc);
    } finally {
      xsdDoc.dispose();
    }
    validators.set(format, v);
  }
  return v;
}

function detailFinding(d: ErrorDetail): Finding {
  return { path: d.line ? `line ${d.line}` : '', message: d.message.trim() };
}

function details(err: unknown): ErrorDetail[] {
  const list = (err as { details?: ErrorDetail[] }).details;
  return Array.isArray(list) ? list : [];
}

/** Values for integrity.ts's CycloneDX checks, located by line (XPath over the parsed document). */
function xmlIntegrity(m: Lib, doc: XmlDocumentT, ns: string): Finding[] {
  const nsMap = { x: ns };
  const values = (xpath: string): { value: string; path: string }[] =>
    doc.find(xpath, nsMap).map((n) => {
      const attr = n instanceof m.XmlAttribute;
      // An attribute has no line of its own in libxml2: report its element's.
      return { value: attr ? n.value : n.content, path: `line ${(attr ? n.parent : n)?.line ?? 0}` };
    });
  return cycloneDxXmlFindings({
    bomRefs: values('//@bom-ref'),
    dependencyRefs: values('//x:dependencies//x:dependency/@ref | //x:dependencies//x:provides/@ref'),
    expressions: values('//x:licenses/x:expression'),
  });
}

export type XmlOutcome = { ok: true; format: XmlFormat; warnings: Finding[] } | { ok: false; format?: string; message: string; errors: Finding[] };

/** Parse, identify by root namespace, then validate against the matching XSD. */
export async function validateCycloneDxXml(bytes: Uint8Array, accepted: ReadonlySet<SbomFormat>, maxFindings: number): Promise<XmlOutcome> {
  const m = await lib();
  xmlBytes += bytes.length;
  let doc: XmlDocumentT;
  try {
    // NONET: belt and braces (libxml2 2.15 has no network client); entities stay unexpanded (no NOENT).
    doc = m.XmlDocument.fromBuffer(bytes, { option: m.ParseOption.XML_PARSE_NONET });
  } catch (err) {
    const d = details(err)[0];
    const where = d?.line ? ` at line ${d.line}` : '';
    const why = d?.message.trim() ?? (err as Error).message;
    return { ok: false, message: `not well-formed XML${where}: ${why}`, errors: details(err).slice(0, maxFindings).map(detailFinding) };
  }
  try {
    const root = doc.root;
    const cls = classifyXmlNamespace(root.name, root.namespaceUri);
    if (!cls.ok) return { ok: false, ...(cls.format ? { format: cls.format } : {}), message: cls.message, errors: [{ path: 'line 1', message: cls.message }] };
    const format = cls.format as XmlFormat;
    if (!accepted.has(format)) {
      const message = `${cls.label} is not accepted (accepted: ${acceptedList(accepted)})`;
      return { ok: false, format, message, errors: [{ path: 'line 1', message }] };
    }
    try {
      validator(m, format).validate(doc);
    } catch (err) {
      const list = details(err);
      const first = list[0];
      const where = first?.line ? `line ${first.line}: ` : '';
      const why = first?.message.trim() ?? (err as Error).message;
      return {
        ok: false,
        format,
        message: `${cls.label} schema: ${where}${why}`,
        errors: list.length ? list.slice(0, maxFindings).map(detailFinding) : [{ path: '', message: why }],
      };
    }
    return { ok: true, format, warnings: xmlIntegrity(m, doc, root.namespaceUri) };
  } finally {
    doc.dispose();
  }
}
