// SigV4: reads the credential scope of a request (header or presigned query) and verifies its signature.
import { createHmac, hash, timingSafeEqual } from 'node:crypto';
import { ServiceError } from './errors.ts';

export interface Credential {
  accessKeyId: string;
  date: string; // yyyymmdd
  region: string;
  service: string;
}

export interface SignedRequest {
  method: string;
  rawPath: string;
  rawQuery: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** The body is streamed after verification (S3 uploads): a declared x-amz-content-sha256 is signed as is, and the caller checks it against the bytes. */
  streamed?: boolean;
}

interface Authorization {
  credential: Credential;
  signedHeaders: string[];
  signature: string;
  amzDate: string;
  presigned?: { expiresSeconds: number };
}

const ALGORITHM = 'AWS4-HMAC-SHA256';
export const MAX_SKEW_MS = 15 * 60 * 1000;
/** The longest life SigV4 allows a presigned URL: 7 days. */
export const MAX_PRESIGNED_SECONDS = 7 * 24 * 60 * 60;
const EMPTY_SHA256 = hash('sha256', '', 'hex');

const refuse = (code: string, message: string) => new ServiceError(code, message);

function header(headers: SignedRequest['headers'], name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

function parseCredential(text: string): Credential | undefined {
  const parts = text.split('/');
  if (parts.length !== 5 || parts[4] !== 'aws4_request') return undefined;
  const [accessKeyId, date, region, service] = parts;
  return { accessKeyId, date, region, service };
}

/** Reads the signature parts; undefined when the request is not signed at all. */
function readAuthorization(req: SignedRequest): Authorization | undefined {
  const auth = header(req.headers, 'authorization');
  if (auth !== undefined) {
    if (!auth.startsWith(`${ALGORITHM} `)) throw refuse('IncompleteSignatureException', `Authorization header requires the ${ALGORITHM} algorithm`);
    const fields = new Map<string, string>();
    for (const part of auth.slice(ALGORITHM.length + 1).split(',')) {
      const eq = part.indexOf('=');
      if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
    }
    const credential = parseCredential(fields.get('Credential') ?? '');
    const signedHeaders = fields.get('SignedHeaders');
    const signature = fields.get('Signature');
    const amzDate = header(req.headers, 'x-amz-date') ?? '';
    if (!credential || !signedHeaders || !signature) {
      throw refuse('IncompleteSignatureException', 'Authorization header requires Credential, SignedHeaders and Signature parameters');
    }
    return { credential, signedHeaders: signedHeaders.split(';'), signature, amzDate };
  }
  const query = new URLSearchParams(req.rawQuery);
  if (!query.has('X-Amz-Credential')) return undefined;
  const credential = parseCredential(query.get('X-Amz-Credential') ?? '');
  if (!credential || query.get('X-Amz-Algorithm') !== ALGORITHM || !query.get('X-Amz-Signature') || !query.get('X-Amz-SignedHeaders')) {
    throw refuse('IncompleteSignatureException', 'Presigned URL requires X-Amz-Algorithm, X-Amz-Credential, X-Amz-SignedHeaders and X-Amz-Signature');
  }
  // A URL must say how long it lives, at most 7 days: an unparsable value would otherwise never expire.
  const expires = query.get('X-Amz-Expires') ?? '';
  if (!/^\d+$/.test(expires) || Number(expires) < 1 || Number(expires) > MAX_PRESIGNED_SECONDS) {
    throw refuse('IncompleteSignatureException', `X-Amz-Expires must be a number of seconds from 1 to ${MAX_PRESIGNED_SECONDS}`);
  }
  return {
    credential,
    signedHeaders: query.get('X-Amz-SignedHeaders')!.split(';'),
    signature: query.get('X-Amz-Signature')!,
    amzDate: query.get('X-Amz-Date') ?? '',
    presigned: { expiresSeconds: Number(expires) },
  };
}

/** The credential scope of the request, without checking the signature (what `--auth off` trusts). */
export function readCredential(req: SignedRequest): Credential | undefined {
  return readAuthorization(req)?.credential;
}

export function parseAmzDate(text: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  return m ? Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) : undefined;
}

/** RFC 3986 encoding as SigV4 wants it. */
export function uriEscape(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** A path of plain segments (unreserved characters only, none `.` or `..`, no empty one) is its own canonical form. */
const PLAIN_PATH = /^(?:\/(?!\.\.?(?:\/|$))[A-Za-z0-9\-._~]+)+\/?$/;

function canonicalPath(rawPath: string, service: string): string {
  if (service === 's3') return rawPath || '/';
  if (PLAIN_PATH.test(rawPath)) return rawPath;
  // Other services sign the normalized, once-more-escaped path.
  const segments: string[] = [];
  for (const segment of rawPath.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const path = `/${segments.join('/')}${segments.length > 0 && rawPath.endsWith('/') ? '/' : ''}`;
  return uriEscape(path).replace(/%2F/g, '/');
}

function canonicalQuery(rawQuery: string): string {
  const pairs: [string, string][] = [];
  for (const part of rawQuery.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const key = decodeQueryPart(eq < 0 ? part : part.slice(0, eq));
    if (key === 'X-Amz-Signature') continue;
    pairs.push([uriEscape(key), uriEscape(decodeQueryPart(eq < 0 ? '' : part.slice(eq + 1)))]);
  }
  pairs.sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

function decodeQueryPart(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

const signingKeys = new Map<string, Buffer>();

function signingKey(secret: string, c: Credential): Buffer {
  const cacheKey = `${secret}\n${c.date}\n${c.region}\n${c.service}`;
  let key = signingKeys.get(cacheKey);
  if (!key) {
    const hmac = (k: string | Buffer, data: string) => createHmac('sha256', k).update(data).digest();
    key = hmac(hmac(hmac(hmac(`AWS4${secret}`, c.date), c.region), c.service), 'aws4_request');
    if (signingKeys.size > 1000) signingKeys.clear();
    signingKeys.set(cacheKey, key);
  }
  return key;
}

/** A header value trimmed, its runs of whitespace made one space (the regex only where there is such a run). */
function canonicalValue(value: string): string {
  const trimmed = value.trim();
  return /[^\S ]| {2}/.test(trimmed) ? trimmed.replace(/\s+/g, ' ') : trimmed;
}

/** True when the request carries its signature in the query string (a presigned URL) rather than a header. */
export function isPresigned(req: Pick<SignedRequest, 'headers' | 'rawQuery'>): boolean {
  return header(req.headers, 'authorization') === undefined && new URLSearchParams(req.rawQuery).has('X-Amz-Credential');
}

const amzDateOf = (ms: number) =>
  new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');

/**
 * Verifies the request's signature against the secret of its access key. Throws AWS's refusal
 * (MissingAuthenticationToken, UnrecognizedClient, IncompleteSignature, InvalidSignature) when it does not hold.
 */
export function verifySignature(req: SignedRequest, secretFor: (accessKeyId: string) => string | undefined, now: number): Credential {
  const auth = readAuthorization(req);
  if (!auth) throw refuse('MissingAuthenticationTokenException', 'Missing Authentication Token');
  const { credential, signedHeaders, signature, amzDate } = auth;
  const secret = secretFor(credential.accessKeyId);
  if (secret === undefined) throw refuse('UnrecognizedClientException', 'The security token included in the request is invalid.');
  const signedAt = parseAmzDate(amzDate);
  if (signedAt === undefined) throw refuse('IncompleteSignatureException', 'X-Amz-Date must be a date of the form yyyyMMddTHHmmssZ');
  // The signing key is derived from the scope's date: a scope of another day than X-Amz-Date is refused, as AWS does.
  if (credential.date !== amzDate.slice(0, 8)) {
    throw refuse(
      'InvalidSignatureException',
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${credential.date}' != '${amzDate.slice(0, 8)}', from '${amzDate}'.`,
    );
  }
  if (auth.presigned) {
    if (now > signedAt + auth.presigned.expiresSeconds * 1000)
      throw refuse('InvalidSignatureException', `Signature expired: the URL signed at ${amzDate} was valid for ${auth.presigned.expiresSeconds} seconds`);
    if (signedAt - now > MAX_SKEW_MS)
      throw refuse(
        'InvalidSignatureException',
        `Signature not yet current: ${amzDate} is still later than ${amzDateOf(now + MAX_SKEW_MS)} (${amzDateOf(now)} + 15 min.)`,
      );
  } else if (now - signedAt > MAX_SKEW_MS) {
    throw refuse(
      'InvalidSignatureException',
      `Signature expired: ${amzDate} is now earlier than ${amzDateOf(now - MAX_SKEW_MS)} (${amzDateOf(now)} - 15 min.)`,
    );
  } else if (signedAt - now > MAX_SKEW_MS) {
    throw refuse(
      'InvalidSignatureException',
      `Signature not yet current: ${amzDate} is still later than ${amzDateOf(now + MAX_SKEW_MS)} (${amzDateOf(now)} + 15 min.)`,
    );
  }
  if (!signedHeaders.includes('host')) throw refuse('InvalidSignatureException', "The 'host' header must be signed");

  const payloadHash = payloadHashOf(req, credential.service === 's3', Boolean(auth.presigned));
  let canonicalHeaders = '';
  for (const name of signedHeaders) canonicalHeaders += `${name}:${canonicalValue(header(req.headers, name) ?? '')}\n`;
  const canonicalRequest = [
    req.method,
    canonicalPath(req.rawPath, credential.service),
    canonicalQuery(req.rawQuery),
    canonicalHeaders,
    signedHeaders.join(';'),
    payloadHash,
  ].join('\n');
  const scope = `${credential.date}/${credential.region}/${credential.service}/aws4_request`;
  const stringToSign = `${ALGORITHM}\n${amzDate}\n${scope}\n${hash('sha256', canonicalRequest, 'hex')}`;
  const expected = createHmac('sha256', signingKey(secret, credential)).update(stringToSign).digest();
  const given = Buffer.from(signature, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw refuse(
      'InvalidSignatureException',
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
    );
  }
  return credential;
}

/**
 * The payload hash that was signed; a declared hash must match the body actually received. Only S3 accepts a
 * payload left unsigned (`UNSIGNED-PAYLOAD`, presigned URLs) or signed chunk by chunk (`STREAMING-…`); every other
 * service signs the body's SHA-256, the empty string's for a GET, as the SDK signers do, so a body cannot be swapped.
 */
function payloadHashOf(req: SignedRequest, s3: boolean, presigned: boolean): string {
  const declared = header(req.headers, 'x-amz-content-sha256');
  if (s3) {
    if (presigned && declared === undefined) return 'UNSIGNED-PAYLOAD';
    if (declared === 'UNSIGNED-PAYLOAD' || declared?.startsWith('STREAMING-')) return declared;
    if (req.streamed && declared !== undefined) return declared;
  } else if (declared === 'UNSIGNED-PAYLOAD' || declared?.startsWith('STREAMING-')) {
    throw refuse('InvalidSignatureException', `x-amz-content-sha256: ${declared} is accepted by S3 only; sign the SHA-256 of the request body`);
  }
  const actual = req.body.length === 0 ? EMPTY_SHA256 : hash('sha256', req.body, 'hex');
  if (declared !== undefined && declared !== actual) {
    throw refuse('InvalidSignatureException', 'The provided x-amz-content-sha256 header does not match what was computed.');
  }
  return actual;
}
