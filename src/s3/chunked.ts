// Decodes the `aws-chunked` content encoding the AWS SDKs use for streamed uploads, so that only the object's
// own bytes are stored. Covers STREAMING-UNSIGNED-PAYLOAD-TRAILER (checksum in a trailer),
// STREAMING-AWS4-HMAC-SHA256-PAYLOAD (every chunk signed) and STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER.
import { createHash, createHmac, timingSafeEqual, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { S3Error } from './xml.ts';

/** What chunk signatures chain from: the request's own signature and signing key. */
export interface ChunkSigning {
  signingKey: Buffer;
  amzDate: string;
  /** yyyymmdd/region/s3/aws4_request */
  scope: string;
  seedSignature: string;
  /** The trailer ends with x-amz-trailer-signature (…-PAYLOAD-TRAILER). */
  signedTrailer: boolean;
}

/** The SigV4 signing key, for verifying chunk signatures. */
export function signingKeyOf(secret: string, date: string, region: string, service: string): Buffer {
  const hmac = (k: string | Buffer, data: string) => createHmac('sha256', k).update(data).digest();
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
}

const EMPTY_SHA256 = createHash('sha256').update('').digest('hex');
const MAX_LINE = 16 * 1024;
/** A trailer carries a checksum and perhaps a signature: a few lines, never an unbounded header block. */
const MAX_TRAILER_LINES = 16;
const MAX_TRAILER_BYTES = 16 * 1024;
const malformed = (why: string) => new S3Error('InvalidRequest', `Malformed aws-chunked body: ${why}`);

type State = 'header' | 'data' | 'data-end' | 'trailer' | 'done';

export class AwsChunkedDecoder extends Transform {
  /** Trailing headers (lower-case names), e.g. x-amz-checksum-crc32, known once the stream has ended. */
  readonly trailers = new Map<string, string>();
  private state: State = 'header';
  private line: Buffer[] = [];
  private lineLength = 0;
  private remaining = 0;
  private crlfSeen = 0;
  private previousSignature: string;
  private chunkSignature?: string;
  private chunkHash?: Hash;
  private canonicalTrailer = '';
  private trailerSignature?: string;
  private trailerLines = 0;
  private trailerBytes = 0;

  constructor(private readonly signing?: ChunkSigning) {
    super();
    this.previousSignature = signing?.seedSignature ?? '';
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.consume(chunk);
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    // Some clients end right after the final chunk's header: accept that when nothing is left half-read.
    const endedCleanly =
      this.state === 'done' || (this.state === 'trailer' && this.lineLength === 0 && this.trailers.size === 0 && !this.signing?.signedTrailer);
    callback(endedCleanly ? null : new S3Error('IncompleteBody', 'The aws-chunked body ended before its final chunk'));
  }

  private consume(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.state === 'data') {
        const n = Math.min(this.remaining, chunk.length - offset);
        const slice = chunk.subarray(offset, offset + n);
        this.chunkHash?.update(slice);
        this.push(slice);
        this.remaining -= n;
        offset += n;
        if (this.remaining === 0) {
          this.state = 'data-end';
          this.crlfSeen = 0;
        }
      } else if (this.state === 'data-end') {
        if (chunk[offset] !== (this.crlfSeen === 0 ? 0x0d : 0x0a)) throw malformed('a chunk is longer than its declared size');
        offset++;
        if (++this.crlfSeen === 2) {
          this.verifyChunk(this.chunkHash?.digest('hex'));
          this.state = 'header';
        }
      } else if (this.state === 'done') {
        return; // anything after the final empty line is ignored
      } else {
        const newline = chunk.indexOf(0x0a, offset);
        const end = newline < 0 ? chunk.length : newline;
        this.line.push(chunk.subarray(offset, end));
        this.lineLength += end - offset;
        if (this.lineLength > MAX_LINE) throw malformed('a chunk header or trailer line is too long');
        offset = end;
        if (newline < 0) continue;
        offset++;
        const bytes = Buffer.concat(this.line, this.lineLength);
        this.line = [];
        this.lineLength = 0;
        if (bytes[bytes.length - 1] !== 0x0d) throw malformed('lines must end with CRLF');
        this.onLine(bytes.subarray(0, bytes.length - 1).toString('latin1'));
      }
    }
  }

  private onLine(line: string): void {
    if (this.state === 'header') {
      const [sizeText, ...extensions] = line.split(';');
      if (!/^[0-9a-fA-F]{1,15}$/.test(sizeText.trim())) throw malformed(`bad chunk size '${sizeText.slice(0, 20)}'`);
      const size = parseInt(sizeText.trim(), 16);
      this.chunkSignature = extensions
        .map((e) => e.trim())
        .find((e) => e.startsWith('chunk-signature='))
        ?.slice('chunk-signature='.length);
      if (this.signing && !this.chunkSignature) throw new S3Error('SignatureDoesNotMatch', 'A chunk of a signed aws-chunked upload has no chunk-signature');
      if (size === 0) {
        if (this.signing) this.verifyChunk(EMPTY_SHA256);
        this.state = 'trailer';
      } else {
        this.remaining = size;
        this.chunkHash = this.signing ? createHash('sha256') : undefined;
        this.state = 'data';
      }
      return;
    }
    // trailer
    if (line === '') {
      this.verifyTrailer();
      this.state = 'done';
      return;
    }
    if (++this.trailerLines > MAX_TRAILER_LINES) throw malformed(`the trailer has more than ${MAX_TRAILER_LINES} lines`);
    this.trailerBytes += line.length;
    if (this.trailerBytes > MAX_TRAILER_BYTES) throw malformed(`the trailer is longer than ${MAX_TRAILER_BYTES} bytes`);
    const colon = line.indexOf(':');
    if (colon <= 0) throw malformed('bad trailer line');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'x-amz-trailer-signature') {
      this.trailerSignature = value;
    } else {
      this.trailers.set(name, value);
      this.canonicalTrailer += `${name}:${value}\n`;
    }
  }

  private verifyChunk(dataHash: string | undefined): void {
    if (!this.signing) return;
    const s = this.signing;
    const stringToSign = ['AWS4-HMAC-SHA256-PAYLOAD', s.amzDate, s.scope, this.previousSignature, EMPTY_SHA256, dataHash ?? EMPTY_SHA256].join('\n');
    this.previousSignature = this.check(stringToSign, this.chunkSignature, 'chunk');
  }

  private verifyTrailer(): void {
    if (!this.signing?.signedTrailer) return;
    const s = this.signing;
    const trailerHash = createHash('sha256').update(this.canonicalTrailer).digest('hex');
    const stringToSign = ['AWS4-HMAC-SHA256-TRAILER', s.amzDate, s.scope, this.previousSignature, trailerHash].join('\n');
    this.check(stringToSign, this.trailerSignature, 'trailer');
  }

  private check(stringToSign: string, given: string | undefined, what: string): string {
    const expected = createHmac('sha256', this.signing!.signingKey).update(stringToSign).digest();
    const actual = Buffer.from(given ?? '', 'hex');
    if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) {
      throw new S3Error('SignatureDoesNotMatch', `The ${what} signature of the aws-chunked upload does not match`);
    }
    return given!;
  }
}
