// Object storage as the services see it: read an artifact, check it exists, hand a device a presigned URL.
// Two implementations, chosen by the server wiring (src/server/blob-setup.ts): the embedded object storage
// (./embedded.ts) and an external S3 (./external.ts, `--blob http(s)://…`).
import type { Readable } from 'node:stream';

/** The account (and region) a request acts for; the embedded store scopes buckets by account. */
export interface BlobScope {
  account: string;
  region: string;
}

/** An object as IoT references it (S3Location): bucket, key and optionally a version. */
export interface BlobLocation {
  bucket: string;
  key: string;
  version?: string;
}

export interface BlobHead {
  size: number;
  etag: string;
  /** Undefined for the 'null' version of an unversioned bucket. */
  versionId?: string;
  contentType?: string;
}

export interface BlobObject {
  stream: Readable;
  size: number;
  versionId?: string;
}

/** The object store did not answer in time, or could not be reached: the request fails as unavailable, not invalid. */
export class BlobUnavailableError extends Error {}

export interface BlobStore {
  readonly kind: 'embedded' | 'external';
  /**
   * Undefined when the object (or that version) does not exist or is a delete marker. Never called inside a
   * transaction: it may wait on the network (docs/architecture.md). BlobUnavailableError when the store does not answer.
   */
  head(scope: BlobScope, loc: BlobLocation): Promise<BlobHead | undefined>;
  /** The object's bytes; `size` is what the store advertises, not a promise about the stream. */
  get(scope: BlobScope, loc: BlobLocation): Promise<BlobObject | undefined>;
  /** A URL anyone can GET for `expiresSec` seconds, for the configured store; throws when no key of the scope's account can sign it. */
  presignGet(scope: BlobScope, loc: BlobLocation, expiresSec: number): Promise<string>;
}
