// Object operations of the embedded S3 endpoint: PutObject, GetObject, HeadObject, DeleteObject.
import type { S3BucketRow, S3ObjectRow } from '../store/schema.ts';
import { headerOfAlgorithm, type ChecksumAlgorithm } from './checksums.ts';
import { emptyResponse, type S3Call, type S3Response } from './context.ts';
import { httpTime, S3Error } from './xml.ts';
import { header, receiveBody, type Received } from './upload.ts';

const MAX_KEY_BYTES = 1024;
const MAX_METADATA_BYTES = 2048;
const DEFAULT_CONTENT_TYPE = 'binary/octet-stream';

function checkKey(key: string): void {
  if (Buffer.byteLength(key) > MAX_KEY_BYTES)
    throw new S3Error('KeyTooLongError', undefined, { fields: { Size: String(Buffer.byteLength(key)), MaxSizeAllowed: String(MAX_KEY_BYTES) } });
}

async function bucketOrFail(c: S3Call): Promise<S3BucketRow> {
  const bucket = await c.objects.getBucket(c.account, c.bucket);
  if (!bucket) throw new S3Error('NoSuchBucket', undefined, { fields: { BucketName: c.bucket } });
  return bucket;
}

function userMetadata(c: S3Call): Record<string, string> {
  const meta: Record<string, string> = {};
  let bytes = 0;
  for (const [name, value] of Object.entries(c.headers)) {
    if (!name.startsWith('x-amz-meta-') || value === undefined) continue;
    const text = Array.isArray(value) ? value.join(',') : value;
    const short = name.slice('x-amz-meta-'.length);
    meta[short] = text;
    bytes += Buffer.byteLength(short) + Buffer.byteLength(text);
  }
  if (bytes > MAX_METADATA_BYTES)
    throw new S3Error('MetadataTooLarge', undefined, { fields: { Size: String(bytes), MaxSizeAllowed: String(MAX_METADATA_BYTES) } });
  return meta;
}

/** Version ids are shown once a bucket has ever had versioning, and for every non-null version. */
const showsVersion = (bucket: S3BucketRow, versionId: string) => versionId !== 'null' || bucket.versioning !== null;

export async function putObject(c: S3Call): Promise<S3Response> {
  const key = c.key!;
  checkKey(key);
  if (header(c.headers, 'x-amz-copy-source') !== undefined) throw new S3Error('NotImplemented', "Flotilla's S3 endpoint does not implement CopyObject");
  await bucketOrFail(c);
  const meta = userMetadata(c);
  const temp = c.objects.files.createTemp();
  let received: Received;
  try {
    received = await receiveBody(c.body, c.headers, temp.stream, { maxSize: c.maxObjectSize, signing: c.signing });
  } catch (err) {
    temp.stream.destroy();
    await c.objects.files.discard(temp.path);
    throw err;
  }
  const { row, versioning } = await c.objects.putObject(
    c.account,
    c.bucket,
    key,
    {
      size: received.size,
      etag: received.etag,
      contentType: header(c.headers, 'content-type'),
      userMetadata: meta,
      checksum: received.checksum ? `${received.checksum.algorithm}:${received.checksum.value}` : undefined,
    },
    temp.path,
  );
  const headers: Record<string, string> = { etag: row.etag };
  if (versioning === 'Enabled') headers['x-amz-version-id'] = row.version_id;
  if (received.checksum) headers[headerOfAlgorithm(received.checksum.algorithm)] = received.checksum.value;
  return emptyResponse(200, headers);
}

/** Finds the version a GET, HEAD asks for; S3's errors for missing keys, versions and delete markers. */
async function resolve(c: S3Call): Promise<{ bucket: S3BucketRow; row: S3ObjectRow }> {
  const bucket = await bucketOrFail(c);
  const versionId = c.query.get('versionId') ?? undefined;
  const row = await c.objects.findObject(c.account, c.bucket, c.key!, versionId);
  if (!row) {
    if (versionId !== undefined) throw new S3Error('NoSuchVersion', undefined, { fields: { Key: c.key!, VersionId: versionId } });
    throw new S3Error('NoSuchKey', undefined, { fields: { Key: c.key! } });
  }
  if (row.delete_marker) {
    const headers = { 'x-amz-delete-marker': 'true', 'x-amz-version-id': row.version_id };
    if (versionId !== undefined)
      throw new S3Error('MethodNotAllowed', undefined, {
        headers: { ...headers, allow: 'DELETE' },
        fields: { Method: c.method, ResourceType: 'DeleteMarker' },
      });
    throw new S3Error('NoSuchKey', undefined, { headers, fields: { Key: c.key! } });
  }
  return { bucket, row };
}

/** If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since: 412 or 304 when they do not hold. */
function preconditions(c: S3Call, row: S3ObjectRow): S3Response | undefined {
  const etagMatches = (list: string) => list.split(',').some((t) => t.trim() === '*' || t.trim().replace(/^W\//, '') === row.etag);
  const seconds = Math.floor(row.created_at / 1000) * 1000;
  const ifMatch = header(c.headers, 'if-match');
  const ifNoneMatch = header(c.headers, 'if-none-match');
  const since = Date.parse(header(c.headers, 'if-modified-since') ?? '');
  const unmodified = Date.parse(header(c.headers, 'if-unmodified-since') ?? '');
  if (ifMatch !== undefined ? !etagMatches(ifMatch) : !Number.isNaN(unmodified) && seconds > unmodified) {
    throw new S3Error('PreconditionFailed', undefined, { fields: { Condition: ifMatch !== undefined ? 'If-Match' : 'If-Unmodified-Since' } });
  }
  if (ifNoneMatch !== undefined ? etagMatches(ifNoneMatch) : !Number.isNaN(since) && seconds <= since) {
    return emptyResponse(304, { etag: row.etag, 'last-modified': httpTime(row.created_at) });
  }
  return undefined;
}

/** A single byte range; undefined means the whole object (no Range, or one S3 ignores). */
function parseRange(text: string | undefined, size: number): { start: number; end: number } | undefined {
  if (text === undefined) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(text.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) throw invalidRange(text, size);
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
    if (m[2] !== '' && Number(m[2]) < start) return undefined;
    if (start >= size) throw invalidRange(text, size);
  }
  return { start, end };
}

const invalidRange = (text: string, size: number) =>
  new S3Error('InvalidRange', undefined, { headers: { 'content-range': `bytes */${size}` }, fields: { RangeRequested: text, ActualObjectSize: String(size) } });

export async function getObject(c: S3Call, head: boolean): Promise<S3Response> {
  checkKey(c.key!);
  const { bucket, row } = await resolve(c);
  const notModified = preconditions(c, row);
  if (notModified) return notModified;
  const range = parseRange(header(c.headers, 'range'), row.size);
  const headers: Record<string, string> = {
    'content-type': row.content_type ?? DEFAULT_CONTENT_TYPE,
    'content-length': String(range ? range.end - range.start + 1 : row.size),
    etag: row.etag,
    'last-modified': httpTime(row.created_at),
    'accept-ranges': 'bytes',
  };
  if (showsVersion(bucket, row.version_id)) headers['x-amz-version-id'] = row.version_id;
  for (const [name, value] of Object.entries(row.user_metadata ? (JSON.parse(row.user_metadata) as Record<string, string>) : {}))
    headers[`x-amz-meta-${name}`] = value;
  if (range) headers['content-range'] = `bytes ${range.start}-${range.end}/${row.size}`;
  if (row.checksum && !range && header(c.headers, 'x-amz-checksum-mode')?.toUpperCase() === 'ENABLED') {
    const colon = row.checksum.indexOf(':');
    headers[headerOfAlgorithm(row.checksum.slice(0, colon) as ChecksumAlgorithm)] = row.checksum.slice(colon + 1);
    headers['x-amz-checksum-type'] = 'FULL_OBJECT';
  }
  for (const [param, value] of c.query) {
    if (
      param.startsWith('response-') &&
      ['content-type', 'content-language', 'expires', 'cache-control', 'content-disposition', 'content-encoding'].includes(param.slice(9))
    ) {
      headers[param.slice(9)] = value;
    }
  }
  const status = range ? 206 : 200;
  if (head) return { status, headers };
  const stream = row.size === 0 ? undefined : await c.objects.files.openRead(row.storage_id!, range);
  if (row.size > 0 && !stream) throw new S3Error('NoSuchKey', undefined, { fields: { Key: c.key! } }); // deleted meanwhile
  return { status, headers, body: stream ?? Buffer.alloc(0) };
}

export async function deleteObject(c: S3Call): Promise<S3Response> {
  checkKey(c.key!);
  const result = await c.objects.deleteObject(c.account, c.bucket, c.key!, c.query.get('versionId') ?? undefined);
  const headers: Record<string, string> = {};
  if (result.versionId !== undefined) headers['x-amz-version-id'] = result.versionId;
  if (result.deleteMarker) headers['x-amz-delete-marker'] = 'true';
  return emptyResponse(204, headers);
}
