// Bucket operations and listings of the embedded S3 endpoint.
import type { S3ObjectRow } from '../store/schema.ts';
import { cursorAfter, decodeToken, encodeToken, scan, successor, type Cursor, type Entry } from './listing.ts';
import type { Versioning } from '../blob/object-store.ts';
import { emptyResponse, xmlResponse, type S3Call, type S3Response } from './context.ts';
import { isoTime, readSmallXml, S3Error, xmlDocument, type XmlChild, type XmlNode } from './xml.ts';
import { MemorySink, receiveBody } from './upload.ts';

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const CONFIG_BODY_LIMIT = 64 * 1024;

export function checkBucketName(name: string): void {
  if (!BUCKET_NAME.test(name) || name.includes('..') || /^\d+\.\d+\.\d+\.\d+$/.test(name) || name.startsWith('xn--') || name.endsWith('-s3alias')) {
    throw new S3Error('InvalidBucketName', undefined, { fields: { BucketName: name } });
  }
}

/** Reads a small configuration document from the request body, with its integrity headers checked. */
async function readConfigBody(c: S3Call): Promise<string> {
  const sink = new MemorySink();
  await receiveBody(c.body, c.headers, sink, { maxSize: CONFIG_BODY_LIMIT, signing: c.signing });
  return sink.text();
}

async function bucketOrFail(c: S3Call) {
  const bucket = await c.objects.getBucket(c.account, c.bucket);
  if (!bucket) throw new S3Error('NoSuchBucket', undefined, { fields: { BucketName: c.bucket } });
  return bucket;
}

const owner = (account: string): XmlNode => [
  'Owner',
  [
    ['ID', account],
    ['DisplayName', account],
  ],
];

export async function listBuckets(c: S3Call): Promise<S3Response> {
  const prefix = c.query.get('prefix') ?? '';
  const buckets = (await c.objects.listBuckets(c.account)).filter((b) => b.name.startsWith(prefix));
  return xmlResponse(
    xmlDocument('ListAllMyBucketsResult', [
      owner(c.account),
      [
        'Buckets',
        buckets.map(
          (b): XmlNode => [
            'Bucket',
            [
              ['Name', b.name],
              ['CreationDate', isoTime(b.created_at)],
              ['BucketRegion', b.region],
            ],
          ],
        ),
      ],
      prefix !== '' && ['Prefix', prefix],
    ]),
  );
}

export async function createBucket(c: S3Call): Promise<S3Response> {
  checkBucketName(c.bucket);
  const body = await readConfigBody(c);
  let region = c.region;
  if (body.trim()) {
    const { LocationConstraint } = readSmallXml(body, 'CreateBucketConfiguration', ['LocationConstraint']);
    if (LocationConstraint) region = LocationConstraint;
  }
  if (!(await c.objects.createBucket(c.account, c.bucket, region, Date.now()))) {
    throw new S3Error('BucketAlreadyOwnedByYou', undefined, { fields: { BucketName: c.bucket } });
  }
  return emptyResponse(200, { location: `/${c.bucket}` });
}

export async function headBucket(c: S3Call): Promise<S3Response> {
  const bucket = await bucketOrFail(c);
  return emptyResponse(200, { 'x-amz-bucket-region': bucket.region });
}

export async function deleteBucket(c: S3Call): Promise<S3Response> {
  await c.objects.deleteBucket(c.account, c.bucket);
  return emptyResponse(204);
}

export async function getBucketLocation(c: S3Call): Promise<S3Response> {
  const bucket = await bucketOrFail(c);
  const region = bucket.region === 'us-east-1' ? '' : bucket.region;
  return xmlResponse(
    `<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${region}</LocationConstraint>`,
  );
}

export async function getBucketVersioning(c: S3Call): Promise<S3Response> {
  const bucket = await bucketOrFail(c);
  return xmlResponse(xmlDocument('VersioningConfiguration', [bucket.versioning !== null && ['Status', bucket.versioning]]));
}

export async function putBucketVersioning(c: S3Call): Promise<S3Response> {
  await bucketOrFail(c);
  const { Status } = readSmallXml(await readConfigBody(c), 'VersioningConfiguration', ['Status']);
  if (Status !== 'Enabled' && Status !== 'Suspended') throw new S3Error('MalformedXML', 'Status must be Enabled or Suspended');
  await c.objects.setVersioning(c.account, c.bucket, Status as Versioning);
  return emptyResponse(200);
}

function maxKeysOf(c: S3Call, name = 'max-keys'): number {
  const text = c.query.get(name);
  if (text === null) return 1000;
  if (!/^\d+$/.test(text))
    throw new S3Error('InvalidArgument', `Provided ${name} not an integer or within integer range`, { fields: { ArgumentName: name, ArgumentValue: text } });
  return Math.min(Number(text), 1000);
}

/** A marker (StartAfter, Marker, KeyMarker) that names a common prefix skips everything under it. */
function markerCursor(marker: string, prefix: string, delimiter: string): Cursor {
  if (delimiter && marker.startsWith(prefix) && marker.endsWith(delimiter) && marker.indexOf(delimiter, prefix.length) === marker.length - delimiter.length) {
    const next = successor(marker);
    if (next !== undefined) return { key: next, inclusive: true };
  }
  return { key: marker, inclusive: false };
}

function listParams(c: S3Call) {
  const encodingType = c.query.get('encoding-type');
  if (encodingType !== null && encodingType !== 'url')
    throw new S3Error('InvalidArgument', 'Invalid Encoding Method specified in Request', { fields: { ArgumentName: 'encoding-type' } });
  const encode = encodingType === 'url' ? (s: string) => encodeURIComponent(s).replace(/%2F/g, '/') : (s: string) => s;
  return { prefix: c.query.get('prefix') ?? '', delimiter: c.query.get('delimiter') ?? '', maxKeys: maxKeysOf(c), encodingType, encode };
}

const objectNode = (row: S3ObjectRow, encode: (s: string) => string, extra: XmlChild[] = []): XmlChild[] => [
  ['Key', encode(row.object_key)],
  ...extra,
  ['LastModified', isoTime(row.created_at)],
  ['ETag', row.etag],
  ['Size', row.size],
  ['StorageClass', 'STANDARD'],
];

const contents = (entries: Entry[], encode: (s: string) => string): XmlChild[] =>
  entries.map((e): XmlChild => (e.row ? ['Contents', objectNode(e.row, encode)] : undefined));
const prefixes = (entries: Entry[], encode: (s: string) => string): XmlChild[] =>
  entries.map((e): XmlChild => (e.prefix !== undefined ? ['CommonPrefixes', [['Prefix', encode(e.prefix)]]] : undefined));

/** ListObjectsV2 (list-type=2) and the original ListObjects (marker). */
export async function listObjects(c: S3Call): Promise<S3Response> {
  await bucketOrFail(c);
  const p = listParams(c);
  const v2 = c.query.get('list-type') === '2';
  const token = c.query.get('continuation-token');
  const startAfter = c.query.get(v2 ? 'start-after' : 'marker') ?? '';
  let start: Cursor | undefined;
  if (v2 && token !== null) {
    start = decodeToken(token);
    if (!start) throw new S3Error('InvalidArgument', 'The continuation token provided is incorrect', { fields: { ArgumentName: 'continuation-token' } });
  } else if (startAfter) {
    start = markerCursor(startAfter, p.prefix, p.delimiter);
  }
  const { entries, truncated } = await scan(c.objects.store.db, {
    account: c.account,
    bucket: c.bucket,
    prefix: p.prefix,
    delimiter: p.delimiter,
    maxKeys: p.maxKeys,
    start,
    versions: false,
  });
  const last = entries[entries.length - 1];
  const nextCursor = truncated && last ? cursorAfter(last, false) : undefined;
  const common: XmlChild[] = [
    ['Name', c.bucket],
    ['Prefix', p.encode(p.prefix)],
    p.delimiter !== '' && ['Delimiter', p.encode(p.delimiter)],
    ['MaxKeys', p.maxKeys],
    ['IsTruncated', truncated],
    p.encodingType !== null && ['EncodingType', p.encodingType],
  ];
  if (v2) {
    return xmlResponse(
      xmlDocument('ListBucketResult', [
        ...common,
        ['KeyCount', entries.length],
        token !== null && ['ContinuationToken', token],
        nextCursor !== undefined && ['NextContinuationToken', encodeToken(nextCursor)],
        startAfter !== '' && ['StartAfter', p.encode(startAfter)],
        ...contents(entries, p.encode),
        ...prefixes(entries, p.encode),
      ]),
    );
  }
  const nextMarker = truncated && last ? (last.prefix ?? last.row.object_key) : undefined;
  return xmlResponse(
    xmlDocument('ListBucketResult', [
      ...common,
      ['Marker', p.encode(startAfter)],
      nextMarker !== undefined && ['NextMarker', p.encode(nextMarker)],
      ...contents(entries, p.encode),
      ...prefixes(entries, p.encode),
    ]),
  );
}

/** ListObjectVersions (?versions): every version and delete marker, newest first within a key. */
export async function listObjectVersions(c: S3Call): Promise<S3Response> {
  await bucketOrFail(c);
  const p = listParams(c);
  const keyMarker = c.query.get('key-marker') ?? '';
  const versionIdMarker = c.query.get('version-id-marker') ?? '';
  let start: Cursor | undefined;
  if (keyMarker && versionIdMarker) {
    const marker = await c.objects.findObject(c.account, c.bucket, keyMarker, versionIdMarker);
    if (!marker)
      throw new S3Error('InvalidArgument', 'Invalid version id specified', { fields: { ArgumentName: 'version-id-marker', ArgumentValue: versionIdMarker } });
    start = { key: keyMarker, version: { created_at: marker.created_at, version_id: marker.version_id } };
  } else if (versionIdMarker) {
    throw new S3Error('InvalidArgument', 'A version-id marker cannot be specified without a key marker.', { fields: { ArgumentName: 'version-id-marker' } });
  } else if (keyMarker) {
    start = markerCursor(keyMarker, p.prefix, p.delimiter);
  }
  const { entries, truncated } = await scan(c.objects.store.db, {
    account: c.account,
    bucket: c.bucket,
    prefix: p.prefix,
    delimiter: p.delimiter,
    maxKeys: p.maxKeys,
    start,
    versions: true,
  });
  const last = entries[entries.length - 1];
  const items = entries.map((e): XmlChild => {
    if (!e.row) return ['CommonPrefixes', [['Prefix', p.encode(e.prefix)]]];
    const r = e.row;
    const id: XmlChild[] = [
      ['VersionId', r.version_id],
      ['IsLatest', r.is_latest === 1],
    ];
    if (r.delete_marker) return ['DeleteMarker', [['Key', p.encode(r.object_key)], ...id, ['LastModified', isoTime(r.created_at)], owner(c.account)]];
    return ['Version', [...objectNode(r, p.encode, id), owner(c.account)]];
  });
  return xmlResponse(
    xmlDocument('ListVersionsResult', [
      ['Name', c.bucket],
      ['Prefix', p.encode(p.prefix)],
      ['KeyMarker', p.encode(keyMarker)],
      ['VersionIdMarker', versionIdMarker],
      truncated && last !== undefined && ['NextKeyMarker', p.encode(last.prefix ?? last.row.object_key)],
      truncated && last?.row !== undefined && ['NextVersionIdMarker', last.row.version_id],
      ['MaxKeys', p.maxKeys],
      p.delimiter !== '' && ['Delimiter', p.encode(p.delimiter)],
      ['IsTruncated', truncated],
      p.encodingType !== null && ['EncodingType', p.encodingType],
      ...items,
    ]),
  );
}
