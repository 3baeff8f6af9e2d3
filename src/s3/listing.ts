// Listing in S3's order (keys byte-wise ascending, newest version first) with prefix, delimiter and max-keys.
// Keys are compared by the store byte-wise (SQLite BINARY, PostgreSQL collate "C"); a common prefix is skipped
// in one step by restarting the scan at the smallest string above everything that starts with it.
import type { Db, S3ObjectRow } from '../store/schema.ts';

export type Entry = { row: S3ObjectRow; prefix?: undefined } | { prefix: string; row?: undefined };

/** Where a scan starts: after a key (all its versions, or after one of them), or at a key. */
export type Cursor =
  | { key: string; inclusive: boolean; version?: undefined }
  | { key: string; inclusive?: false; version: { created_at: number; version_id: string } };

export interface ScanOptions {
  account: string;
  bucket: string;
  prefix: string;
  delimiter: string;
  maxKeys: number;
  start?: Cursor;
  /** Every version and delete marker (ListObjectVersions), or only current objects (ListObjects). */
  versions: boolean;
}

/** The smallest string greater than every string that starts with `s`; undefined when there is none. */
export function successor(s: string): string | undefined {
  const points = Array.from(s);
  while (points.length) {
    const last = points.pop()!.codePointAt(0)!;
    if (last < 0x10ffff) {
      const next = last + 1 === 0xd800 ? 0xe000 : last + 1;
      return points.join('') + String.fromCodePoint(next);
    }
  }
  return undefined;
}

export async function scan(db: Db, o: ScanOptions): Promise<{ entries: Entry[]; truncated: boolean }> {
  const entries: Entry[] = [];
  const upper = o.prefix ? successor(o.prefix) : undefined;
  let cursor = o.start;
  const query = (cur: Cursor | undefined, limit: number) => {
    let q = db.selectFrom('s3_objects').selectAll().where('account', '=', o.account).where('bucket', '=', o.bucket);
    if (!o.versions) q = q.where('is_latest', '=', 1).where('delete_marker', '=', 0);
    if (o.prefix) q = q.where('object_key', '>=', o.prefix);
    if (upper !== undefined) q = q.where('object_key', '<', upper);
    if (cur?.version) {
      const v = cur.version;
      q = q.where((eb) =>
        eb.or([
          eb('object_key', '>', cur.key),
          eb.and([
            eb('object_key', '=', cur.key),
            eb.or([eb('created_at', '<', v.created_at), eb.and([eb('created_at', '=', v.created_at), eb('version_id', '<', v.version_id)])]),
          ]),
        ]),
      );
    } else if (cur) {
      q = q.where('object_key', cur.inclusive ? '>=' : '>', cur.key);
    }
    q = q.orderBy('object_key');
    if (o.versions) q = q.orderBy('created_at', 'desc').orderBy('version_id', 'desc');
    return q.limit(limit).execute();
  };

  let exhausted = false;
  while (entries.length < o.maxKeys) {
    const want = o.maxKeys - entries.length;
    const rows = await query(cursor, want);
    let restart = false;
    for (const row of rows) {
      const at = o.delimiter ? row.object_key.indexOf(o.delimiter, o.prefix.length) : -1;
      const entry: Entry = at < 0 ? { row } : { prefix: row.object_key.slice(0, at + o.delimiter.length) };
      entries.push(entry);
      cursor = cursorAfter(entry, o.versions);
      if (cursor === undefined) exhausted = true;
      // The rest of this batch may share the common prefix: query again past it.
      if (entry.prefix !== undefined) {
        restart = true;
        break;
      }
    }
    if (exhausted || (!restart && rows.length < want)) {
      exhausted = true;
      break;
    }
  }
  const truncated = !exhausted && o.maxKeys > 0 && (await query(cursor, 1)).length > 0;
  return { entries, truncated };
}

/** Continuation tokens are opaque to clients: they carry the cursor of the last entry returned. */
export function encodeToken(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

export function decodeToken(token: string): Cursor | undefined {
  try {
    const c = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (typeof c?.key !== 'string') return undefined;
    if (c.version) {
      if (typeof c.version.created_at !== 'number' || typeof c.version.version_id !== 'string') return undefined;
      return { key: c.key, version: { created_at: c.version.created_at, version_id: c.version.version_id } };
    }
    return { key: c.key, inclusive: c.inclusive === true };
  } catch {
    return undefined;
  }
}

/** The cursor just past an entry: where the next page starts. */
export function cursorAfter(entry: Entry, versions: boolean): Cursor | undefined {
  if (entry.prefix !== undefined) {
    const next = successor(entry.prefix);
    return next === undefined ? undefined : { key: next, inclusive: true };
  }
  const row = entry.row;
  return versions ? { key: row.object_key, version: { created_at: row.created_at, version_id: row.version_id } } : { key: row.object_key, inclusive: false };
}
