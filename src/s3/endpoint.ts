// The embedded S3-compatible endpoint: requests signed for the service `s3`, path style (/{bucket}/{key}).
// Authenticates with Flotilla's SigV4 verifier, dispatches to the bucket and object operations, and answers
// S3's XML errors.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { ServiceError } from '../protocol/errors.ts';
import { readCredential, verifySignature, type Credential } from '../protocol/sigv4.ts';
import { signingKeyOf, type ChunkSigning } from './chunked.ts';
import { BucketError, type ObjectStore } from '../blob/object-store.ts';
import * as buckets from './buckets.ts';
import type { S3Call, S3Response } from './context.ts';
import * as objects from './objects.ts';
import { errorDocument, S3Error } from './xml.ts';
import { header, type Headers } from './upload.ts';

export interface S3EndpointOptions {
  objects: ObjectStore;
  auth: { mode: 'off' | 'sigv4'; credentials: Map<string, string> };
  /** Account of access keys that are not 12-digit account ids. */
  account: string;
  region: string;
  maxObjectSize: number;
  log: Logger;
}

export interface S3Request {
  method: string;
  url: string;
  headers: Headers;
  body: Readable;
}

const CREDENTIAL_IN_HEADER = /Credential=[^/,\s]+\/\d{8}\/[^/,\s]+\/s3\/aws4_request/;

/** True when the request is signed for the service `s3` (Authorization header or presigned X-Amz-Credential). */
export function isS3Request(headers: Headers, url: string): boolean {
  const auth = header(headers, 'authorization');
  if (auth !== undefined) return CREDENTIAL_IN_HEADER.test(auth);
  const q = url.indexOf('?');
  if (q < 0 || !url.includes('X-Amz-Credential', q)) return false;
  return new URLSearchParams(url.slice(q + 1)).get('X-Amz-Credential')?.endsWith('/s3/aws4_request') ?? false;
}

/** Query parameters naming S3 subresources or operations this endpoint does not implement. */
const UNSUPPORTED = [
  'accelerate',
  'acl',
  'analytics',
  'attributes',
  'cors',
  'delete',
  'encryption',
  'intelligent-tiering',
  'inventory',
  'legal-hold',
  'lifecycle',
  'logging',
  'metrics',
  'notification',
  'object-lock',
  'ownershipControls',
  'partNumber',
  'policy',
  'policyStatus',
  'publicAccessBlock',
  'replication',
  'requestPayment',
  'restore',
  'retention',
  'select',
  'session',
  'tagging',
  'torrent',
  'uploadId',
  'uploads',
  'website',
];

export class S3Endpoint {
  constructor(private readonly options: S3EndpointOptions) {}

  async handle(req: S3Request): Promise<S3Response> {
    const requestId = randomBytes(8).toString('hex').toUpperCase();
    const queryAt = req.url.indexOf('?');
    const rawPath = queryAt < 0 ? req.url : req.url.slice(0, queryAt);
    const rawQuery = queryAt < 0 ? '' : req.url.slice(queryAt + 1);
    let resource = rawPath;
    try {
      resource = refuseNul(decode(rawPath), rawPath);
      const query = new URLSearchParams(rawQuery);
      for (const [name, value] of query) {
        if (value.includes('\0'))
          throw new S3Error('InvalidArgument', `The ${name} parameter cannot contain the character U+0000`, { fields: { ArgumentName: name } });
      }
      const { credential, signing } = this.authenticate(req, rawPath, rawQuery);
      const slash = rawPath.indexOf('/', 1);
      const bucket = decode(slash < 0 ? rawPath.slice(1) : rawPath.slice(1, slash));
      const key = slash < 0 || slash === rawPath.length - 1 ? undefined : decode(rawPath.slice(slash + 1));
      const call: S3Call = {
        objects: this.options.objects,
        maxObjectSize: this.options.maxObjectSize,
        method: req.method,
        account: /^\d{12}$/.test(credential.accessKeyId) ? credential.accessKeyId : this.options.account,
        region: credential.region || this.options.region,
        bucket,
        key,
        query,
        headers: req.headers,
        body: req.body,
        signing,
      };
      const res = await this.dispatch(call);
      res.headers['x-amz-request-id'] = requestId;
      return res;
    } catch (err) {
      return this.errorResponse(err, resource, requestId, req);
    }
  }

  private dispatch(c: S3Call): Promise<S3Response> {
    const { method, query } = c;
    const unsupported = UNSUPPORTED.find((name) => query.has(name));
    if (unsupported) throw new S3Error('NotImplemented', `Flotilla's S3 endpoint does not implement the '${unsupported}' subresource`);
    if (c.bucket === '') {
      if (method === 'GET') return buckets.listBuckets(c);
      throw methodNotAllowed(c, 'Service');
    }
    if (c.key === undefined) {
      switch (method) {
        case 'PUT':
          return query.has('versioning') ? buckets.putBucketVersioning(c) : buckets.createBucket(c);
        case 'GET':
          if (query.has('versioning')) return buckets.getBucketVersioning(c);
          if (query.has('versions')) return buckets.listObjectVersions(c);
          if (query.has('location')) return buckets.getBucketLocation(c);
          return buckets.listObjects(c);
        case 'HEAD':
          return buckets.headBucket(c);
        case 'DELETE':
          return buckets.deleteBucket(c);
        case 'POST':
          throw new S3Error('NotImplemented', `Flotilla's S3 endpoint does not implement POST on a bucket`);
        default:
          throw methodNotAllowed(c, 'Bucket');
      }
    }
    switch (method) {
      case 'PUT':
        return objects.putObject(c);
      case 'GET':
        return objects.getObject(c, false);
      case 'HEAD':
        return objects.getObject(c, true);
      case 'DELETE':
        return objects.deleteObject(c);
      case 'POST':
        throw new S3Error('NotImplemented', `Flotilla's S3 endpoint does not implement POST on an object (multipart uploads)`);
      default:
        throw methodNotAllowed(c, 'Object');
    }
  }

  /** Checks the signature (`--auth sigv4`) or only reads the scope (`--auth off`); S3's auth errors otherwise. */
  private authenticate(req: S3Request, rawPath: string, rawQuery: string): { credential: Credential; signing?: ChunkSigning } {
    const { auth } = this.options;
    const signed = { method: req.method, rawPath, rawQuery, headers: req.headers, body: Buffer.alloc(0), streamed: true };
    const presigned = header(req.headers, 'authorization') === undefined;
    let credential: Credential | undefined;
    try {
      credential = auth.mode === 'off' ? readCredential(signed) : verifySignature(signed, (key) => auth.credentials.get(key), Date.now());
    } catch (err) {
      if (err instanceof ServiceError) throw authError(err, presigned);
      throw err;
    }
    if (!credential) throw new S3Error('AccessDenied', 'Anonymous requests are not accepted');
    const contentSha256 = header(req.headers, 'x-amz-content-sha256') ?? '';
    if (auth.mode === 'off' || presigned || !contentSha256.startsWith('STREAMING-AWS4-HMAC-SHA256-PAYLOAD')) return { credential };
    const seedSignature = /Signature=([0-9a-f]{64})/.exec(header(req.headers, 'authorization')!)?.[1] ?? '';
    return {
      credential,
      signing: {
        signingKey: signingKeyOf(auth.credentials.get(credential.accessKeyId)!, credential.date, credential.region, credential.service),
        amzDate: header(req.headers, 'x-amz-date') ?? '',
        scope: `${credential.date}/${credential.region}/${credential.service}/aws4_request`,
        seedSignature,
        signedTrailer: contentSha256 === 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
      },
    };
  }

  private errorResponse(err: unknown, resource: string, requestId: string, req: S3Request): S3Response {
    let error: S3Error;
    if (err instanceof S3Error) {
      error = err;
    } else if (err instanceof BucketError) {
      error = new S3Error(err.code, undefined, { fields: { BucketName: err.bucket } });
    } else {
      this.options.log.error({ err, requestId }, 's3 request failed');
      error = new S3Error('InternalError');
    }
    const headers: Record<string, string> = { 'content-type': 'application/xml', 'x-amz-request-id': requestId, ...error.extra.headers };
    // A body we did not read to its end: close the connection rather than read the rest of it.
    if ((req.body as IncomingMessage).complete === false) headers.connection = 'close';
    return { status: error.status, headers, body: errorDocument(error, resource, requestId) };
  }
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new S3Error('InvalidURI');
  }
}

/** Bucket names and keys never hold U+0000: PostgreSQL cannot store it, and both stores must agree (docs/decisions.md). */
function refuseNul(path: string, rawPath: string): string {
  if (path.includes('\0'))
    throw new S3Error(
      'InvalidURI',
      `Couldn't parse the specified URI: ${rawPath} holds the character U+0000 (%00), which a bucket name or key cannot contain.`,
    );
  return path;
}

const methodNotAllowed = (c: S3Call, resourceType: string) =>
  new S3Error('MethodNotAllowed', undefined, { fields: { Method: c.method, ResourceType: resourceType } });

/** Maps the verifier's refusals to S3's codes: a bad signature is SignatureDoesNotMatch, an expired URL AccessDenied. */
function authError(err: ServiceError, presigned: boolean): S3Error {
  switch (err.code) {
    case 'UnrecognizedClientException':
      return new S3Error('InvalidAccessKeyId');
    case 'MissingAuthenticationTokenException':
      return new S3Error('AccessDenied', 'Anonymous requests are not accepted');
    case 'IncompleteSignatureException':
      return new S3Error(presigned ? 'AuthorizationQueryParametersError' : 'AuthorizationHeaderMalformed', err.message);
    case 'InvalidSignatureException':
      if (/^Signature (expired|not yet current)/.test(err.message))
        return presigned ? new S3Error('AccessDenied', 'Request has expired') : new S3Error('RequestTimeTooSkewed', err.message);
      if (err.message.includes('x-amz-content-sha256')) return new S3Error('XAmzContentSHA256Mismatch');
      if (err.message.includes("'host'")) return new S3Error('AccessDenied', err.message);
      return new S3Error('SignatureDoesNotMatch');
    default:
      return new S3Error('AccessDenied', err.message);
  }
}
