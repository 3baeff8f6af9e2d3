// Chooses and opens the object storage: the embedded one (bytes under <data-dir>/objects/, metadata in the store,
// served on the wire by the S3 endpoint of src/s3/) or an external S3 (`--blob http(s)://…`).
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { BlobStore } from '../blob/blob.ts';
import { EmbeddedBlobStore } from '../blob/embedded.ts';
import { ObjectFiles } from '../blob/files.ts';
import { ObjectStore } from '../blob/object-store.ts';
import { S3Endpoint } from '../s3/endpoint.ts';
import type { Store } from '../store/store.ts';

export interface BlobSettings {
  /** 'embedded' or the http(s) URL of an external S3 endpoint. */
  blob: string;
  dataDir: string;
  maxObjectSize: number;
  /** Deadline of one call to an external S3, in milliseconds. */
  blobTimeoutMs: number;
  auth: 'off' | 'sigv4';
  credentials: Map<string, string>;
  account: string;
  region: string;
}

/** What the server wires: the BlobStore, and the embedded endpoint to route `s3` requests to (embedded mode). */
export interface BlobSetup {
  blob: BlobStore;
  endpoint?: S3Endpoint;
  /** Removes every object's bytes (the admin reset; the store's rows are wiped by Store.reset). */
  reset(): Promise<void>;
  close(): Promise<void>;
}

/** Orphan temp files older than this are removed at start when other processes may share the data dir. */
const SHARED_TEMP_AGE_MS = 60 * 60 * 1000;
/** Object files without a metadata row older than this are removed at start (a younger one may be about to commit). */
const ORPHAN_AGE_MS = 60 * 1000;

export async function openBlob(settings: BlobSettings, store: Store, server: { apiUrl: string }, log: Logger): Promise<BlobSetup> {
  if (settings.blob !== 'embedded') {
    // Loaded only when used: the S3 SDK is large, and most servers run the embedded store.
    const { ExternalBlobStore } = await import('../blob/external.ts');
    const blob = new ExternalBlobStore(settings.blob, settings.region, settings.blobTimeoutMs);
    return { blob, reset: async () => {}, close: async () => blob.close() };
  }
  const files = new ObjectFiles(join(settings.dataDir, 'objects'));
  // With SQLite this process owns the data dir; PostgreSQL replicas may share it (and upload meanwhile).
  const removed = await files.init(store.dialect === 'sqlite' ? 0 : SHARED_TEMP_AGE_MS);
  if (removed) log.info({ removed }, 'removed temp files of unfinished uploads');
  const objects = new ObjectStore(store, files);
  const orphans = await objects.removeOrphans(ORPHAN_AGE_MS);
  if (orphans) log.info({ removed: orphans }, 'removed object files no metadata row refers to');
  const endpoint = new S3Endpoint({
    objects,
    auth: { mode: settings.auth, credentials: settings.credentials },
    account: settings.account,
    region: settings.region,
    maxObjectSize: settings.maxObjectSize,
    log,
  });
  const blob = new EmbeddedBlobStore(objects, settings, server);
  return { blob, endpoint, reset: () => files.removeAll(), close: async () => {} };
}
