// Object storage as the rest of Flotilla sees it: read an artifact, check it exists, hand a device a presigned URL.
// Implemented by the embedded S3 endpoint's store and by an external S3 (`--blob http(s)://…`).
import type { Readable } from 'node:stream';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Db } from '../store/schema.ts';
import type { Store } from '../store/store.ts';

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
  /** A URL anyone can GET for `expiresSec` seconds, for the configured store; throws when no key of the scope's account can sign it. */
  presignGet(scope: BlobScope, loc: BlobLocation, expiresSec: number): Promise<string>;
}

export interface BlobSettings {
  /** 'embedded' or the http(s) URL of an external S3 endpoint. */
  blob: string;
  dataDir: string;
  maxObjectSize: number;
  auth: 'off' | 'sigv4';
  credentials: Map<string, string>;
  account: string;
  region: string;
}

/** What the server wires: the BlobStore, and the embedded endpoint to route `s3` requests to (embedded mode). */
export interface BlobSetup {
  blob: BlobStore;
  endpoint?: import('./s3-endpoint.ts').S3Endpoint;
  /** Removes every object's bytes (the admin reset; the store's rows are wiped by Store.reset). */
  reset(): Promise<void>;
  close(): Promise<void>;
}

/** Orphan temp files older than this are removed at start when other processes may share the data dir. */
const SHARED_TEMP_AGE_MS = 60 * 60 * 1000;

export async function openBlob(settings: BlobSettings, store: Store, server: { apiUrl: string }, log: Logger): Promise<BlobSetup> {
  if (settings.blob !== 'embedded') {
    const { ExternalBlobStore } = await import('./external.ts');
    const blob = new ExternalBlobStore(settings.blob, settings.region);
    return { blob, reset: async () => {}, close: async () => blob.close() };
  }
  const [{ ObjectFiles }, { ObjectStore }, { S3Endpoint }, { EmbeddedBlobStore }] = await Promise.all([
    import('./files.ts'),
    import('./object-store.ts'),
    import('./s3-endpoint.ts'),
    import('./embedded.ts'),
  ]);
  const files = new ObjectFiles(join(settings.dataDir, 'objects'));
  // With SQLite this process owns the data dir; PostgreSQL replicas may share it (and upload meanwhile).
  const removed = await files.init(store.dialect === 'sqlite' ? 0 : SHARED_TEMP_AGE_MS);
  if (removed) log.info({ removed }, 'removed temp files of unfinished uploads');
  const objects = new ObjectStore(store, files);
  const endpoint = new S3Endpoint({ objects, auth: { mode: settings.auth, credentials: settings.credentials }, account: settings.account, region: settings.region, maxObjectSize: settings.maxObjectSize, log });
  const blob = new EmbeddedBlobStore(objects, settings, server);
  return { blob, endpoint, reset: () => files.removeAll(), close: async () => {} };
}
