// Objects that catalog records point at (artifacts, SBOMs) must exist in the configured object store.
import type * as IoT from '@aws-sdk/client-iot';
import type { BlobHead, BlobLocation } from '../blob/blob.ts';
import { validation } from '../protocol/errors.ts';
import type { RequestContext } from './context.ts';

export const describeLocation = (loc: BlobLocation) => `s3://${loc.bucket}/${loc.key}${loc.version !== undefined ? ` (version ${loc.version})` : ''}`;

/** HEADs `s3Location` inside the request's transaction; a missing or unreadable object is a ValidationException. */
export async function requireObject(ctx: RequestContext, s3: IoT.S3Location | undefined, what: string): Promise<{ loc: BlobLocation; head: BlobHead }> {
  if (!s3?.bucket || !s3.key) throw validation(`${what.toLowerCase()}.s3Location needs a bucket and a key`);
  const blob = ctx.server.blob;
  if (!blob) throw new Error('no object storage is configured');
  const loc: BlobLocation = { bucket: s3.bucket, key: s3.key, ...(s3.version !== undefined ? { version: s3.version } : {}) };
  let head: BlobHead | undefined;
  try {
    head = await blob.head(ctx.scope, loc, ctx.db);
  } catch (err) {
    throw validation(`The ${what} object ${describeLocation(loc)} cannot be read: ${(err as Error).message}`);
  }
  if (!head) throw validation(`The ${what} object ${describeLocation(loc)} does not exist (no such bucket, key or version)`);
  return { loc, head };
}
