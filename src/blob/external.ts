// The BlobStore over an external S3 endpoint (`--blob http(s)://…`): path style, checksums only when required
// (S3-compatible servers other than AWS reject or corrupt the SDK's default aws-chunked uploads), credentials
// from the standard AWS chain (environment, shared files, …). Buckets live in the external store's account, so
// the scope's account is not used. Every call has a deadline: connecting, and the whole call until the answer's
// headers (retries included); a body that stalls for as long fails too.
import type { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { BlobUnavailableError, type BlobHead, type BlobLocation, type BlobObject, type BlobScope, type BlobStore } from './blob.ts';

export class ExternalBlobStore implements BlobStore {
  readonly kind = 'external';
  private readonly client: S3Client;

  constructor(
    private readonly endpoint: string,
    region: string,
    /** Deadline of one call, in milliseconds (`--blob-timeout-ms`). */
    private readonly timeoutMs: number,
  ) {
    this.client = new S3Client({
      endpoint,
      region: process.env.AWS_REGION ?? region,
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: { connectionTimeout: timeoutMs, requestTimeout: timeoutMs, throwOnRequestTimeout: true, socketTimeout: timeoutMs },
    });
  }

  /** Sends with the deadline; a call that does not answer in time, or cannot connect, is a BlobUnavailableError. */
  private async send<T>(call: (abortSignal: AbortSignal) => Promise<T>): Promise<T> {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), this.timeoutMs);
    try {
      return await call(abort.signal);
    } catch (err) {
      if (abort.signal.aborted || isTimeout(err)) throw new BlobUnavailableError(`Object storage did not answer within ${this.timeoutMs} ms`);
      const code = (err as NodeJS.ErrnoException)?.code;
      if (code && UNREACHABLE.has(code)) throw new BlobUnavailableError(`Object storage at ${this.endpoint} cannot be reached (${code})`);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  async head(_scope: BlobScope, loc: BlobLocation): Promise<BlobHead | undefined> {
    try {
      const out = await this.send((abortSignal) =>
        this.client.send(new HeadObjectCommand({ Bucket: loc.bucket, Key: loc.key, VersionId: loc.version }), { abortSignal }),
      );
      if (out.DeleteMarker) return undefined;
      return { size: out.ContentLength ?? 0, etag: out.ETag ?? '', versionId: versionOf(out.VersionId), contentType: out.ContentType };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async get(_scope: BlobScope, loc: BlobLocation): Promise<BlobObject | undefined> {
    try {
      const out = await this.send((abortSignal) =>
        this.client.send(new GetObjectCommand({ Bucket: loc.bucket, Key: loc.key, VersionId: loc.version }), { abortSignal }),
      );
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

const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE']);

function isTimeout(err: unknown): boolean {
  const e = err as { name?: string; code?: string };
  return e?.name === 'TimeoutError' || e?.name === 'AbortError' || e?.code === 'ETIMEDOUT';
}

/** 404s (NotFound for HEAD, NoSuchKey, NoSuchVersion, NoSuchBucket) and GET of a delete marker (405). */
function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  const status = e?.$metadata?.httpStatusCode;
  return status === 404 || status === 405 || ['NotFound', 'NoSuchKey', 'NoSuchVersion', 'NoSuchBucket'].includes(e?.name ?? '');
}
