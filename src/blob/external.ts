// The BlobStore over an external S3 endpoint (`--blob http(s)://…`): path style, checksums only when required
// (S3-compatible servers other than AWS reject or corrupt the SDK's default aws-chunked uploads), credentials
// from the standard AWS chain (environment, shared files, …). Buckets live in the external store's account, so
// the scope's account is not used.
import type { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { BlobHead, BlobLocation, BlobScope, BlobStore } from './blob.ts';

export class ExternalBlobStore implements BlobStore {
  readonly kind = 'external';
  private readonly client: S3Client;

  constructor(endpoint: string, region: string) {
    this.client = new S3Client({
      endpoint,
      region: process.env.AWS_REGION ?? region,
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  async head(_scope: BlobScope, loc: BlobLocation): Promise<BlobHead | undefined> {
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: loc.bucket, Key: loc.key, VersionId: loc.version }));
      if (out.DeleteMarker) return undefined;
      return { size: out.ContentLength ?? 0, etag: out.ETag ?? '', versionId: versionOf(out.VersionId), contentType: out.ContentType };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async get(_scope: BlobScope, loc: BlobLocation) {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: loc.bucket, Key: loc.key, VersionId: loc.version }));
      return { stream: out.Body as Readable, size: out.ContentLength ?? 0, versionId: versionOf(out.VersionId) };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  presignGet(_scope: BlobScope, loc: BlobLocation, expiresSec: number): Promise<string> {
    return getSignedUrl(this.client, new GetObjectCommand({ Bucket: loc.bucket, Key: loc.key, VersionId: loc.version }), { expiresIn: expiresSec });
  }

  close(): void {
    this.client.destroy();
  }
}

const versionOf = (id: string | undefined) => (id === undefined || id === 'null' ? undefined : id);

/** 404s (NotFound for HEAD, NoSuchKey, NoSuchVersion, NoSuchBucket) and GET of a delete marker (405). */
function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  const status = e?.$metadata?.httpStatusCode;
  return status === 404 || status === 405 || ['NotFound', 'NoSuchKey', 'NoSuchVersion', 'NoSuchBucket'].includes(e?.name ?? '');
}
