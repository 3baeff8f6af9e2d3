// Objects that catalog records point at (artifacts, SBOMs) must exist in the configured object store. They are read
// in a handler's prefetch, before its transaction opens (docs/architecture.md).
import type * as IoT from '@aws-sdk/client-iot';
import { BlobUnavailableError, type BlobHead, type BlobLocation } from '../blob/blob.ts';
import { validation } from '../protocol/errors.ts';
import { fetched, type Fetched, type RequestContext } from './context.ts';

export const describeLocation = (loc: BlobLocation) => `s3://${loc.bucket}/${loc.key}${loc.version !== undefined ? ` (version ${loc.version})` : ''}`;

export interface FoundObject {
  loc: BlobLocation;
  head: BlobHead;
}

/**
 * HEADs `s3Location`: a missing or unreadable object is a ValidationException, a store that does not answer a
 * BlobUnavailableError. The outcome is kept, for the handler to act on inside its transaction.
 */
export function fetchObject(ctx: RequestContext, s3: IoT.S3Location | undefined, what: string): Promise<Fetched<FoundObject>> {
  return fetched(async () => {
    if (!s3?.bucket || !s3.key) throw validation(`${what.toLowerCase()}.s3Location needs a bucket and a key`);
    const blob = ctx.server.blob;
    if (!blob) throw new Error('no object storage is configured');
    const loc: BlobLocation = { bucket: s3.bucket, key: s3.key, ...(s3.version !== undefined ? { version: s3.version } : {}) };
    let head: BlobHead | undefined;
    try {
      head = await blob.head(ctx.scope, loc);
    } catch (err) {
      if (err instanceof BlobUnavailableError) throw err;
      throw validation(`The ${what} object ${describeLocation(loc)} cannot be read: ${(err as Error).message}`);
    }
    if (!head) throw validation(`The ${what} object ${describeLocation(loc)} does not exist (no such bucket, key or version)`);
    return { loc, head };
  });
}
