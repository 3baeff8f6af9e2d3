// Object storage as the services see it: read an artifact, check it exists, hand a device a presigned URL.
// Two implementations, chosen by the server wiring (src/server/blob-setup.ts): the embedded object storage
// (./embedded.ts) and an external S3 (./external.ts, `--blob http(s)://…`).
import type { Readable } from 'node:stream';
import type { Db } from '../store/schema.ts';

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

export interface BlobStore {
  readonly kind: 'embedded' | 'external';
  /**
   * Undefined when the object (or that version) does not exist or is a delete marker. `db`: the caller's open
   * transaction, which the embedded store must read through (SQLite has one connection; a second query would wait forever).
   */
  head(scope: BlobScope, loc: BlobLocation, db?: Db): Promise<BlobHead | undefined>;
  get(scope: BlobScope, loc: BlobLocation, db?: Db): Promise<{ stream: Readable; size: number; versionId?: string } | undefined>;
  /** A URL anyone can GET for `expiresSec` seconds, for the configured store. */
  presignGet(scope: BlobScope, loc: BlobLocation, expiresSec: number): Promise<string>;
}
