// SigV4 query-string signing of URLs for the embedded S3 endpoint (what its verifier checks).
import { createHash, createHmac } from 'node:crypto';
import { uriEscape } from '../protocol/sigv4.ts';

export interface PresignInput {
  endpoint: string; // http://host:port
  method: 'GET' | 'PUT';
  bucket: string;
  key: string;
  versionId?: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  expiresSeconds: number;
  now?: Date;
}

const amzDateOf = (d: Date) =>
  d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');

/** The path S3 signs and serves: each key segment escaped once. */
export const objectPath = (bucket: string, key: string) => `/${uriEscape(bucket)}/${key.split('/').map(uriEscape).join('/')}`;

export function presignUrl(p: PresignInput): string {
  const base = new URL(p.endpoint);
  const amzDate = amzDateOf(p.now ?? new Date());
  const date = amzDate.slice(0, 8);
  const scope = `${date}/${p.region}/s3/aws4_request`;
  const basePath = base.pathname.replace(/\/$/, '');
  const path = `${basePath}${objectPath(p.bucket, p.key)}`;
  const params: [string, string][] = [
    ['X-Amz-Algorithm', 'AWS4-HMAC-SHA256'],
    ['X-Amz-Credential', `${p.accessKeyId}/${scope}`],
    ['X-Amz-Date', amzDate],
    ['X-Amz-Expires', String(p.expiresSeconds)],
    ['X-Amz-SignedHeaders', 'host'],
  ];
  if (p.versionId !== undefined) params.push(['versionId', p.versionId]);
  const query = params
    .map(([k, v]) => [uriEscape(k), uriEscape(v)])
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const canonical = [p.method, path, query, `host:${base.host}\n`, 'host', 'UNSIGNED-PAYLOAD'].join('\n');
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonical).digest('hex')].join('\n');
  const hmac = (k: string | Buffer, data: string) => createHmac('sha256', k).update(data).digest();
  const key = hmac(hmac(hmac(hmac(`AWS4${p.secretAccessKey}`, date), p.region), 's3'), 'aws4_request');
  const signature = createHmac('sha256', key).update(stringToSign).digest('hex');
  return `${base.protocol}//${base.host}${path}?${query}&X-Amz-Signature=${signature}`;
}
