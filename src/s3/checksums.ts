// The integrity checks S3 clients send: Content-MD5, x-amz-checksum-{crc32,crc32c,sha1,sha256}, x-amz-content-sha256.
import { createHash, type Hash } from 'node:crypto';
import { crc32 } from 'node:zlib';

export type ChecksumAlgorithm = 'CRC32' | 'CRC32C' | 'SHA1' | 'SHA256';
export const CHECKSUM_ALGORITHMS: readonly ChecksumAlgorithm[] = ['CRC32', 'CRC32C', 'SHA1', 'SHA256'];

/** `x-amz-checksum-crc32` → CRC32; undefined for a header that names no algorithm we know. */
export function algorithmOfHeader(name: string): ChecksumAlgorithm | undefined {
  const m = /^x-amz-checksum-([a-z0-9]+)$/.exec(name.toLowerCase());
  return m ? CHECKSUM_ALGORITHMS.find((a) => a.toLowerCase() === m[1]) : undefined;
}

export const headerOfAlgorithm = (algorithm: ChecksumAlgorithm) => `x-amz-checksum-${algorithm.toLowerCase()}`;

// CRC32C (Castagnoli, reflected polynomial 0x82F63B78): node:zlib only has the IEEE polynomial.
const CRC32C_TABLE = (() => {
  const table = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    table[n] = c;
  }
  return table;
})();

export function crc32c(data: Uint8Array, previous = 0): number {
  let crc = ~previous;
  for (let i = 0; i < data.length; i++) crc = CRC32C_TABLE[(crc ^ data[i]) & 0xff] ^ (crc >>> 8);
  return ~crc >>> 0;
}

/** One running checksum, rendered as S3 renders it: base64 of the big-endian CRC or of the digest. */
export class Checksum {
  private crc = 0;
  private readonly hash?: Hash;

  constructor(readonly algorithm: ChecksumAlgorithm) {
    if (algorithm === 'SHA1') this.hash = createHash('sha1');
    if (algorithm === 'SHA256') this.hash = createHash('sha256');
  }

  update(data: Uint8Array): void {
    if (this.hash) this.hash.update(data);
    else if (this.algorithm === 'CRC32') this.crc = crc32(data, this.crc);
    else this.crc = crc32c(data, this.crc);
  }

  digest(): string {
    if (this.hash) return this.hash.digest('base64');
    const out = Buffer.alloc(4);
    out.writeUInt32BE(this.crc >>> 0);
    return out.toString('base64');
  }
}

/** Everything computed over an object's bytes as they stream by. */
export class BodyDigests {
  size = 0;
  private readonly md5 = createHash('md5');
  private readonly sha256?: Hash;
  readonly checksum?: Checksum;

  constructor(options: { sha256?: boolean; checksum?: ChecksumAlgorithm }) {
    if (options.sha256) this.sha256 = createHash('sha256');
    if (options.checksum) this.checksum = new Checksum(options.checksum);
  }

  update(data: Uint8Array): void {
    this.size += data.length;
    this.md5.update(data);
    this.sha256?.update(data);
    this.checksum?.update(data);
  }

  finish(): { md5: Buffer; sha256Hex?: string; checksum?: string } {
    return { md5: this.md5.digest(), sha256Hex: this.sha256?.digest('hex'), checksum: this.checksum?.digest() };
  }
}
