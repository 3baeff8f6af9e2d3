// A job document as a device receives it (jobs-semantics §2.2): the stored document, with the execution's
// variables bound and every presigned-URL placeholder signed afresh for this fetch by the configured object store,
// valid for the job's `presignedUrlConfig.expiresInSec`. Runs outside any transaction: signing may reach the
// network (an external S3's credential chain).
import type { BlobLocation, BlobStore } from '../blob/blob.ts';
import type { Scope } from '../domain/arn.ts';
import { bindExecutionVariables, needsPresigning, renderForDevice, scanPlaceholders, type S3Location } from '../domain/jobs/document.ts';
import { versions } from '../store/catalog.ts';
import type { Db, JobRow } from '../store/schema.ts';
import { parsed } from './job-inputs.ts';

/** presignedUrlConfig.expiresInSec when the job gives none (jobs-semantics §2.2). */
const DEFAULT_EXPIRES_SEC = 3600;
/** Longest wait for one signature; past it the placeholder is delivered as written. */
const PRESIGN_TIMEOUT_MS = 5000;

const keyOf = (loc: S3Location) => JSON.stringify([loc.bucket, loc.key, loc.versionId ?? null]);

export async function documentForDevice(
  db: Db,
  blob: BlobStore | undefined,
  scope: Scope,
  job: JobRow,
  thingName: string,
  executionNumber: number,
): Promise<string> {
  const document = bindExecutionVariables(job.document, { thingName, jobId: job.job_id, executionNumber: String(executionNumber) });
  if (!blob || !needsPresigning(document)) return document;

  // Find what must be signed, sign it (asynchronously), then let the pure renderer put the URLs in place.
  const artifacts = new Map<string, S3Location>();
  const wanted = new Map<string, S3Location>();
  for (const { placeholder: p } of scanPlaceholders(document)) {
    if (p.kind === 'presignedUrl') wanted.set(keyOf(p.location), p.location);
    if (p.kind === 'packageArtifact') {
      const row = await versions.get(db, scope, p.packageName, p.versionName);
      const stored = row && parsed<{ s3Location?: BlobLocation }>(row.artifact)?.s3Location;
      if (!stored) continue;
      const location: S3Location = { bucket: stored.bucket, key: stored.key, versionId: stored.version };
      artifacts.set(`${p.packageName}/${p.versionName}`, location);
      wanted.set(keyOf(location), location);
    }
  }
  const expiresSec = parsed<{ expiresInSec?: number }>(job.presigned_url_config)?.expiresInSec ?? DEFAULT_EXPIRES_SEC;
  const urls = new Map<string, string>();
  await Promise.all(
    [...wanted].map(async ([key, location]) => {
      const url = await signWithin(blob, scope, location, expiresSec);
      if (url !== undefined) urls.set(key, url);
    }),
  );
  return renderForDevice(document, {
    // Upload URLs need a presigned PUT, which the object stores do not offer yet: they stay as written.
    presign: (request) => (request.method === 'GET' ? urls.get(keyOf(request.location)) : undefined),
    artifactOf: (ref) => artifacts.get(`${ref.packageName}/${ref.versionName}`),
  }).document;
}

async function signWithin(blob: BlobStore, scope: Scope, location: S3Location, expiresSec: number): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), PRESIGN_TIMEOUT_MS);
  });
  try {
    return await Promise.race([blob.presignGet(scope, { bucket: location.bucket, key: location.key, version: location.versionId }, expiresSec), timeout]);
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}
