// S3 object URLs inside presigned-URL placeholders, read into {bucket, key, versionId?} so the caller can
// sign them. AWS hosts in path style (s3.<region>.amazonaws.com/<bucket>/<key>) and virtual-hosted style
// (<bucket>.s3.<region>.amazonaws.com/<key>) are understood; any other host (MinIO, a local S3) is read in
// path style, since that is how S3-compatible stores are addressed.

export interface S3Location {
  bucket: string;
  key: string;
  versionId?: string;
}

export type S3UrlResult = { ok: true; location: S3Location } | { ok: false; error: string };

const VIRTUAL_HOSTED = /^(.+)\.s3(?:[.-][a-z0-9-]+)*\.amazonaws\.com(?:\.cn)?$/i;
const PATH_STYLE_AWS = /^s3(?:[.-][a-z0-9-]+)*\.amazonaws\.com(?:\.cn)?$/i;

// Percent-decoding that keeps malformed input as it is rather than throwing.
export function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * Reads an https (or http) S3 URL. `decodeKey` percent-decodes the key, for URLs that were written encoded
 * (the v2 placeholder); the legacy v1 placeholder carries the key as written. `?versionId=` selects a version.
 */
export function parseS3Url(url: string, decodeKey: boolean): S3UrlResult {
  const m = /^https?:\/\/([^/?#]+)(\/[^?#]*)?(?:\?([^#]*))?$/i.exec(url);
  if (!m) return { ok: false, error: `'${url}' is not an https URL of an S3 object` };
  const host = m[1].replace(/:\d+$/, '');
  const path = (m[2] ?? '/').slice(1);
  let bucket: string;
  let key: string;
  const virtual = VIRTUAL_HOSTED.exec(host);
  if (virtual && !PATH_STYLE_AWS.test(host)) {
    bucket = virtual[1];
    key = path;
  } else {
    const slash = path.indexOf('/');
    bucket = slash < 0 ? path : path.slice(0, slash);
    key = slash < 0 ? '' : path.slice(slash + 1);
  }
  if (!bucket || !key) return { ok: false, error: `'${url}' does not name both a bucket and a key` };
  const location: S3Location = { bucket, key: decodeKey ? safeDecode(key) : key };
  for (const pair of (m[3] ?? '').split('&')) {
    const [name, value] = pair.split('=');
    if (name === 'versionId' && value) location.versionId = safeDecode(value);
  }
  return { ok: true, location };
}
