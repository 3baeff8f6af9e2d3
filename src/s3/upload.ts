// Receives a request body into a sink while checking everything the client declared about it: the aws-chunked
// framing (decoded, never stored), x-amz-content-sha256, Content-MD5, an x-amz-checksum-* header or trailer,
// x-amz-decoded-content-length, and the size cap.
import { Transform, Writable, type Readable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { AwsChunkedDecoder, type ChunkSigning } from './chunked.ts';
import { algorithmOfHeader, BodyDigests, type ChecksumAlgorithm } from './checksums.ts';
import { S3Error } from './xml.ts';

export type Headers = Record<string, string | string[] | undefined>;

export interface Received {
  size: number;
  /** Quoted hex MD5, as S3 sends ETags. */
  etag: string;
  checksum?: { algorithm: ChecksumAlgorithm; value: string };
}

export const STREAMING_MODES = ['STREAMING-UNSIGNED-PAYLOAD-TRAILER', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER'];
/** Headers named x-amz-checksum-* that do not carry a checksum. */
const NOT_CHECKSUMS = new Set(['x-amz-checksum-mode', 'x-amz-checksum-type', 'x-amz-checksum-algorithm']);

export function header(headers: Headers, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

function declaredLength(text: string | undefined, what: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d{1,16}$/.test(text.trim())) throw new S3Error('InvalidArgument', `${what} must be a number of bytes`);
  return Number(text);
}

/** True when the body uses the aws-chunked framing. */
export function isAwsChunked(headers: Headers): boolean {
  const encodings = (header(headers, 'content-encoding') ?? '').split(',').map((e) => e.trim().toLowerCase());
  return encodings.includes('aws-chunked') || (header(headers, 'x-amz-content-sha256') ?? '').startsWith('STREAMING-');
}

/**
 * Streams `source` into `sink` and verifies it. `signing` is given when the upload's chunks are signed and
 * signatures are being checked. Throws S3Error; the caller discards whatever the sink received.
 */
export async function receiveBody(source: Readable, headers: Headers, sink: Writable, options: { maxSize: number; signing?: ChunkSigning }): Promise<Received> {
  const contentSha256 = header(headers, 'x-amz-content-sha256');
  const chunked = isAwsChunked(headers);
  if (contentSha256?.startsWith('STREAMING-') && !STREAMING_MODES.includes(contentSha256)) {
    throw new S3Error('NotImplemented', `Flotilla does not support x-amz-content-sha256: ${contentSha256}`);
  }
  const hexSha256 = contentSha256 !== undefined && /^[0-9a-f]{64}$/i.test(contentSha256) ? contentSha256.toLowerCase() : undefined;
  if (contentSha256 !== undefined && !hexSha256 && contentSha256 !== 'UNSIGNED-PAYLOAD' && !contentSha256.startsWith('STREAMING-')) {
    throw new S3Error('InvalidArgument', 'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-… or a SHA-256 hex digest');
  }
  const contentLength = declaredLength(header(headers, 'content-length'), 'Content-Length');
  const decodedLength = chunked ? declaredLength(header(headers, 'x-amz-decoded-content-length'), 'x-amz-decoded-content-length') : contentLength;
  if (decodedLength !== undefined && decodedLength > options.maxSize) {
    throw new S3Error('EntityTooLarge', undefined, { fields: { ProposedSize: String(decodedLength), MaxSizeAllowed: String(options.maxSize) } });
  }

  const md5Text = header(headers, 'content-md5');
  const expectedMd5 = md5Text === undefined ? undefined : Buffer.from(md5Text, 'base64');
  if (expectedMd5 && (expectedMd5.length !== 16 || expectedMd5.toString('base64') !== md5Text!.trim())) throw new S3Error('InvalidDigest');

  // At most one checksum, from a header or announced for the trailer.
  const wanted: { algorithm: ChecksumAlgorithm; name: string; value?: string }[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (!name.startsWith('x-amz-checksum-') || NOT_CHECKSUMS.has(name)) continue;
    const algorithm = algorithmOfHeader(name);
    if (!algorithm) throw new S3Error('InvalidRequest', `Flotilla does not support the checksum ${name}`);
    wanted.push({ algorithm, name, value: Array.isArray(value) ? value[0] : value });
  }
  for (const name of (header(headers, 'x-amz-trailer') ?? '')
    .split(',')
    .map((t) => t.trim().toLowerCase())
    .filter(Boolean)) {
    if (!chunked) throw new S3Error('InvalidRequest', 'x-amz-trailer needs an aws-chunked body');
    const algorithm = algorithmOfHeader(name);
    if (!algorithm) throw new S3Error('InvalidRequest', `Flotilla does not support the trailer ${name}`);
    wanted.push({ algorithm, name });
  }
  if (wanted.length > 1) throw new S3Error('InvalidRequest', 'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.');
  const checksum = wanted[0];

  const digests = new BodyDigests({ sha256: !chunked && hexSha256 !== undefined, checksum: checksum?.algorithm });
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      digests.update(chunk);
      if (digests.size > options.maxSize) callback(new S3Error('EntityTooLarge', undefined, { fields: { MaxSizeAllowed: String(options.maxSize) } }));
      else callback(null, chunk);
    },
  });
  const decoder = chunked ? new AwsChunkedDecoder(contentSha256?.startsWith('STREAMING-AWS4-HMAC-SHA256-PAYLOAD') ? options.signing : undefined) : undefined;
  try {
    // The request is piped in, not part of the pipeline: a failure must not destroy the socket the error answer
    // still has to go out on.
    const first = decoder ?? meter;
    const done = pipeline(decoder ? [decoder, meter, sink] : [meter, sink]);
    const unfinished = finished(source).catch((err) => first.destroy(err));
    source.pipe(first);
    try {
      await done;
    } finally {
      source.unpipe(first);
      void unfinished;
    }
    // pipeline() waits for the sink's 'close': a file stream has fsynced (flush: true) and closed by then.
  } catch (err) {
    if (err instanceof S3Error) throw err;
    if ((err as NodeJS.ErrnoException).syscall) throw err; // the disk failed, not the client: an internal error
    throw new S3Error('IncompleteBody', `The request body could not be read: ${(err as Error).message}`);
  }

  const { md5, sha256Hex, checksum: computed } = digests.finish();
  if (decodedLength !== undefined && digests.size !== decodedLength) throw new S3Error('IncompleteBody');
  if (hexSha256 && !chunked && sha256Hex !== hexSha256)
    throw new S3Error('XAmzContentSHA256Mismatch', undefined, { fields: { ClientComputedContentSHA256: hexSha256, S3ComputedContentSHA256: sha256Hex! } });
  if (expectedMd5 && !md5.equals(expectedMd5)) throw new S3Error('BadDigest', 'The Content-MD5 you specified did not match what we received.');
  let stored: Received['checksum'];
  if (checksum) {
    const expected = checksum.value ?? decoder?.trailers.get(checksum.name);
    if (expected === undefined) throw new S3Error('InvalidRequest', `The trailer ${checksum.name} announced in x-amz-trailer was not sent`);
    if (expected.trim() !== computed) {
      throw new S3Error('BadDigest', `The ${checksum.algorithm} you specified did not match the calculated checksum.`);
    }
    stored = { algorithm: checksum.algorithm, value: computed! };
  }
  return { size: digests.size, etag: `"${md5.toString('hex')}"`, checksum: stored };
}

/** A sink that keeps a small body in memory (bucket configuration documents). */
export class MemorySink extends Writable {
  private readonly chunks: Buffer[] = [];
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.chunks.push(chunk);
    callback();
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}
