// The embedded object storage: buckets and object versions, metadata in the store, bytes in ObjectFiles. The
// embedded S3 endpoint (src/s3/) serves it on the wire; EmbeddedBlobStore reads it for the services.
// Every write to a bucket's objects locks the bucket row first, so concurrent writers (PostgreSQL replicas
// included) agree on which version is the latest and a bucket is never deleted under a new object.
import { randomBytes } from 'node:crypto';
import type { Db, S3BucketRow, S3ObjectRow } from '../store/schema.ts';
import type { Store } from '../store/store.ts';
import { isUniqueViolation } from '../store/store.ts';
import type { ObjectFiles } from './files.ts';

/** A bucket-level refusal; the S3 endpoint answers it as S3's error of the same code. */
export class BucketError extends Error {
  constructor(
    readonly code: 'NoSuchBucket' | 'BucketNotEmpty',
    readonly bucket: string,
  ) {
    super(`${code}: ${bucket}`);
  }
}

export type Versioning = 'Enabled' | 'Suspended';

export interface NewObject {
  size: number;
  etag: string;
  contentType?: string;
  userMetadata: Record<string, string>;
  checksum?: string;
}

export interface DeleteResult {
  versionId?: string;
  deleteMarker: boolean;
}

let lastMs = 0;
let counter = 0;

/** Version ids sort by creation time within one process: 12 hex digits of ms, a counter, then randomness. */
export function newVersionId(now: number): string {
  counter = now === lastMs ? counter + 1 : 0;
  lastMs = now;
  return `${now.toString(16).padStart(12, '0')}${(counter & 0xffff).toString(16).padStart(4, '0')}${randomBytes(8).toString('hex')}`;
}

export class ObjectStore {
  constructor(
    readonly store: Store,
    readonly files: ObjectFiles,
  ) {}

  getBucket(account: string, name: string, db: Db = this.store.db): Promise<S3BucketRow | undefined> {
    return db.selectFrom('s3_buckets').selectAll().where('account', '=', account).where('name', '=', name).executeTakeFirst();
  }

  listBuckets(account: string): Promise<S3BucketRow[]> {
    return this.store.db.selectFrom('s3_buckets').selectAll().where('account', '=', account).orderBy('name').execute();
  }

  /** False when the account already has the bucket. */
  async createBucket(account: string, name: string, region: string, now: number): Promise<boolean> {
    try {
      const result = await this.store.db
        .insertInto('s3_buckets')
        .values({ account, name, region, versioning: null, created_at: now })
        .onConflict((oc) => oc.doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
    } catch (err) {
      if (isUniqueViolation(err)) return false;
      throw err;
    }
  }

  async deleteBucket(account: string, name: string): Promise<void> {
    await this.store.transaction(async (tx) => {
      await this.lockBucket(tx, account, name);
      const any = await tx.selectFrom('s3_objects').select('object_key').where('account', '=', account).where('bucket', '=', name).limit(1).executeTakeFirst();
      if (any) throw new BucketError('BucketNotEmpty', name);
      await tx.deleteFrom('s3_buckets').where('account', '=', account).where('name', '=', name).execute();
    });
  }

  async setVersioning(account: string, name: string, status: Versioning): Promise<void> {
    await this.store.transaction(async (tx) => {
      await this.lockBucket(tx, account, name);
      await tx.updateTable('s3_buckets').set({ versioning: status }).where('account', '=', account).where('name', '=', name).execute();
    });
  }

  /** The latest version, or the given one; delete markers included (callers decide what they mean). */
  findObject(account: string, bucket: string, key: string, versionId?: string, db: Db = this.store.db): Promise<S3ObjectRow | undefined> {
    let query = db.selectFrom('s3_objects').selectAll().where('account', '=', account).where('bucket', '=', bucket).where('object_key', '=', key);
    query = versionId === undefined ? query.where('is_latest', '=', 1) : query.where('version_id', '=', versionId);
    return query.executeTakeFirst();
  }

  /**
   * Makes a complete temp file the new version of `key`: the file is moved into place (durable) first, the row that
   * makes it visible is committed after. A replaced 'null' version's file is removed once that has committed.
   */
  async putObject(account: string, bucket: string, key: string, object: NewObject, tempPath: string): Promise<{ row: S3ObjectRow; versioning: string | null }> {
    const storageId = await this.files.persist(tempPath);
    const replaced: string[] = [];
    try {
      const result = await this.store.transaction(async (tx) => {
        const b = await this.lockBucket(tx, account, bucket);
        const now = Date.now();
        const versionId = b.versioning === 'Enabled' ? newVersionId(now) : 'null';
        if (versionId === 'null') replaced.push(...(await this.removeVersion(tx, account, bucket, key, 'null')));
        await this.clearLatest(tx, account, bucket, key);
        const row: S3ObjectRow = {
          account,
          bucket,
          object_key: key,
          version_id: versionId,
          is_latest: 1,
          delete_marker: 0,
          size: object.size,
          etag: object.etag,
          content_type: object.contentType ?? null,
          user_metadata: Object.keys(object.userMetadata).length ? JSON.stringify(object.userMetadata) : null,
          checksum: object.checksum ?? null,
          storage_id: storageId,
          created_at: now,
        };
        await tx.insertInto('s3_objects').values(row).execute();
        return { row, versioning: b.versioning };
      });
      await this.removeFiles(replaced);
      return result;
    } catch (err) {
      await this.files.remove(storageId);
      throw err;
    }
  }

  /** DeleteObject: removes a version, or (no versionId) the current object as S3 does for the bucket's versioning state. */
  async deleteObject(account: string, bucket: string, key: string, versionId?: string): Promise<DeleteResult> {
    const removed: string[] = [];
    const result = await this.store.transaction(async (tx): Promise<DeleteResult> => {
      const b = await this.lockBucket(tx, account, bucket);
      if (versionId !== undefined) {
        const row = await tx
          .selectFrom('s3_objects')
          .selectAll()
          .where('account', '=', account)
          .where('bucket', '=', bucket)
          .where('object_key', '=', key)
          .where('version_id', '=', versionId)
          .executeTakeFirst();
        if (!row) return { versionId, deleteMarker: false };
        removed.push(...(await this.removeVersion(tx, account, bucket, key, versionId)));
        if (row.is_latest) await this.promoteLatest(tx, account, bucket, key);
        return { versionId, deleteMarker: row.delete_marker === 1 };
      }
      if (b.versioning === null) {
        removed.push(...(await this.removeVersion(tx, account, bucket, key, 'null')));
        return { deleteMarker: false };
      }
      const now = Date.now();
      const markerId = b.versioning === 'Enabled' ? newVersionId(now) : 'null';
      if (markerId === 'null') removed.push(...(await this.removeVersion(tx, account, bucket, key, 'null')));
      await this.clearLatest(tx, account, bucket, key);
      await tx
        .insertInto('s3_objects')
        .values({
          account,
          bucket,
          object_key: key,
          version_id: markerId,
          is_latest: 1,
          delete_marker: 1,
          size: 0,
          etag: '',
          content_type: null,
          user_metadata: null,
          checksum: null,
          storage_id: null,
          created_at: now,
        })
        .execute();
      return { versionId: markerId, deleteMarker: true };
    });
    await this.removeFiles(removed);
    return result;
  }

  /**
   * Removes object files no metadata row points at, last changed more than `olderThanMs` ago: left by a crash
   * between a file's rename into place and the commit of its row (a younger one may still be about to commit).
   */
  async removeOrphans(olderThanMs: number): Promise<number> {
    const cutoff = Date.now() - olderThanMs;
    let removed = 0;
    let batch: string[] = [];
    const sweep = async () => {
      const known = await this.store.db.selectFrom('s3_objects').select('storage_id').where('storage_id', 'in', batch).execute();
      const kept = new Set(known.map((r) => r.storage_id));
      for (const id of batch) {
        if (kept.has(id)) continue;
        await this.files.remove(id);
        removed++;
      }
      batch = [];
    };
    for await (const file of this.files.list()) {
      if (file.mtimeMs > cutoff) continue;
      batch.push(file.id);
      if (batch.length === 500) await sweep();
    }
    if (batch.length) await sweep();
    return removed;
  }

  /** Locks the bucket row for the rest of the transaction; NoSuchBucket when there is none. */
  private async lockBucket(tx: Db, account: string, name: string): Promise<S3BucketRow> {
    const query = tx.selectFrom('s3_buckets').selectAll().where('account', '=', account).where('name', '=', name);
    const bucket = await this.store.forUpdate(query).executeTakeFirst();
    if (!bucket) throw new BucketError('NoSuchBucket', name);
    return bucket;
  }

  private async clearLatest(tx: Db, account: string, bucket: string, key: string): Promise<void> {
    await tx
      .updateTable('s3_objects')
      .set({ is_latest: 0 })
      .where('account', '=', account)
      .where('bucket', '=', bucket)
      .where('object_key', '=', key)
      .where('is_latest', '=', 1)
      .execute();
  }

  /** Deletes one version's row; returns its file id to remove after commit. */
  private async removeVersion(tx: Db, account: string, bucket: string, key: string, versionId: string): Promise<string[]> {
    const rows = await tx
      .deleteFrom('s3_objects')
      .where('account', '=', account)
      .where('bucket', '=', bucket)
      .where('object_key', '=', key)
      .where('version_id', '=', versionId)
      .returning('storage_id')
      .execute();
    return rows.map((r) => r.storage_id).filter((id): id is string => Boolean(id));
  }

  /** After the latest version went away, the newest remaining one becomes the latest. */
  private async promoteLatest(tx: Db, account: string, bucket: string, key: string): Promise<void> {
    const next = await tx
      .selectFrom('s3_objects')
      .select('version_id')
      .where('account', '=', account)
      .where('bucket', '=', bucket)
      .where('object_key', '=', key)
      .orderBy('created_at', 'desc')
      .orderBy('version_id', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (!next) return;
    await tx
      .updateTable('s3_objects')
      .set({ is_latest: 1 })
      .where('account', '=', account)
      .where('bucket', '=', bucket)
      .where('object_key', '=', key)
      .where('version_id', '=', next.version_id)
      .execute();
  }

  private async removeFiles(ids: string[]): Promise<void> {
    for (const id of ids) await this.files.remove(id).catch(() => {});
  }
}
