// S3's wire format: XML documents, the error catalogue, and reading the few tiny XML request bodies we accept.
export const S3_NAMESPACE = 'http://s3.amazonaws.com/doc/2006-03-01/';

/** S3 error codes Flotilla answers, with their HTTP status and S3's default message. */
const CATALOGUE: Record<string, [number, string]> = {
  AccessDenied: [403, 'Access Denied'],
  AuthorizationHeaderMalformed: [400, 'The authorization header is malformed.'],
  AuthorizationQueryParametersError: [400, 'The presigned URL is malformed.'],
  BadDigest: [400, 'The Content-MD5 or checksum value that you specified did not match what the server received.'],
  BucketAlreadyOwnedByYou: [409, 'Your previous request to create the named bucket succeeded and you already own it.'],
  BucketNotEmpty: [409, 'The bucket you tried to delete is not empty'],
  EntityTooLarge: [400, 'Your proposed upload exceeds the maximum allowed size'],
  IncompleteBody: [400, 'You did not provide the number of bytes specified by the Content-Length HTTP header.'],
  InternalError: [500, 'We encountered an internal error. Please try again.'],
  InvalidAccessKeyId: [403, 'The AWS Access Key Id you provided does not exist in our records.'],
  InvalidArgument: [400, 'Invalid Argument'],
  InvalidBucketName: [400, 'The specified bucket is not valid.'],
  InvalidDigest: [400, 'The Content-MD5 you specified was invalid.'],
  InvalidRange: [416, 'The requested range is not satisfiable'],
  InvalidRequest: [400, 'Invalid Request'],
  InvalidURI: [400, "Couldn't parse the specified URI."],
  KeyTooLongError: [400, 'Your key is too long'],
  MalformedXML: [400, 'The XML you provided was not well-formed or did not validate against our published schema.'],
  MetadataTooLarge: [400, 'Your metadata headers exceed the maximum allowed metadata size.'],
  MethodNotAllowed: [405, 'The specified method is not allowed against this resource.'],
  MissingContentLength: [411, 'You must provide the Content-Length HTTP header.'],
  NoSuchBucket: [404, 'The specified bucket does not exist'],
  NoSuchKey: [404, 'The specified key does not exist.'],
  NoSuchVersion: [404, 'The specified version does not exist.'],
  NotImplemented: [501, 'A header you provided implies functionality that is not implemented.'],
  PreconditionFailed: [412, 'At least one of the pre-conditions you specified did not hold'],
  RequestTimeTooSkewed: [403, 'The difference between the request time and the current time is too large.'],
  ServiceUnavailable: [503, 'Please reduce your request rate.'],
  SignatureDoesNotMatch: [403, 'The request signature we calculated does not match the signature you provided. Check your key and signing method.'],
  XAmzContentSHA256Mismatch: [400, 'The provided x-amz-content-sha256 header does not match what was computed.'],
};

export class S3Error extends Error {
  readonly status: number;
  constructor(
    readonly code: keyof typeof CATALOGUE | (string & {}),
    message?: string,
    /** Extra response headers (x-amz-delete-marker, Content-Range, Allow…) and extra XML members. */
    readonly extra: { headers?: Record<string, string>; fields?: Record<string, string> } = {},
  ) {
    const [status, standard] = CATALOGUE[code] ?? [500, code];
    super(message ?? standard);
    this.name = code;
    this.status = status;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]).replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A node: `[name, text]` for a leaf, `[name, children]` for an element; undefined/false children are skipped. */
export type XmlNode = [string, string | number | boolean | XmlChild[]];
export type XmlChild = XmlNode | undefined | false;

function render(node: XmlNode): string {
  const [name, content] = node;
  if (Array.isArray(content))
    return `<${name}>${content
      .filter((c): c is XmlNode => Boolean(c))
      .map(render)
      .join('')}</${name}>`;
  return `<${name}>${escapeXml(String(content))}</${name}>`;
}

/** A whole XML document whose root carries S3's namespace. */
export function xmlDocument(root: string, children: XmlChild[]): string {
  const body = children
    .filter((c): c is XmlNode => Boolean(c))
    .map(render)
    .join('');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${S3_NAMESPACE}">${body}</${root}>`;
}

export function errorDocument(err: S3Error, resource: string, requestId: string): string {
  const fields = Object.entries(err.extra.fields ?? {})
    .map(([k, v]) => render([k, v]))
    .join('');
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${escapeXml(err.code)}</Code><Message>${escapeXml(err.message)}</Message>` +
    `${fields}<Resource>${escapeXml(resource)}</Resource><RequestId>${requestId}</RequestId></Error>`
  );
}

/** S3's timestamp form in XML: 2026-11-26T10:00:00.000Z. */
export const isoTime = (ms: number) => new Date(ms).toISOString();
/** S3's timestamp form in headers: RFC 7231 (Last-Modified). */
export const httpTime = (ms: number) => new Date(ms).toUTCString();

/**
 * Reads a small request document such as `<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>`:
 * checks the root element and returns the text of the named leaf elements. Throws MalformedXML otherwise.
 */
export function readSmallXml(body: string, root: string, leaves: string[]): Record<string, string | undefined> {
  const text = body
    .replace(/^\uFEFF/, '')
    .replace(/<\?xml[^>]*\?>/, '')
    .trim();
  const rootMatch = new RegExp(`^<${root}(\\s[^>]*)?(/>|>([\\s\\S]*)</${root}>)$`).exec(text);
  if (!rootMatch) throw new S3Error('MalformedXML');
  const inner = rootMatch[3] ?? '';
  const out: Record<string, string | undefined> = {};
  for (const leaf of leaves) {
    const m = new RegExp(`<${leaf}(?:\\s[^>]*)?>([^<]*)</${leaf}>`).exec(inner);
    if (m) out[leaf] = unescapeXml(m[1].trim());
  }
  return out;
}

function unescapeXml(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-f]+);/gi, (_m, e: string) => {
    const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
    if (named[e.toLowerCase()]) return named[e.toLowerCase()];
    return String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
  });
}
