// Zip archives of SBOMs, read in memory with yauzl (sbom.md §6.5, dependencies.md §8): it reads
// the central directory, rejects '../' and absolute names (strictFileNames) and aborts an entry
// whose inflated size differs from its header (validateEntrySizes). On top of that we count bytes
// ourselves while inflating, so no header, honest or lying, can make us allocate past the limits.
import { crc32 } from 'node:zlib';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { isZip } from './detect.ts';
import { failed, type FileReport, type SbomErrorCode, type SbomLimits } from './types.ts';

const MiB = 1024 * 1024;
/** Below this size an entry cannot be a meaningful bomb, however well it compresses. */
const RATIO_FLOOR_BYTES = 1 * MiB;
/** Central-directory records we are willing to walk, skipped ones included (directories, __MACOSX). */
const rawEntryCap = (limits: SbomLimits): number => Math.max(1000, limits.maxZipEntries * 10);
const NESTED_ARCHIVE = /\.(zip|jar|war|ear|apk|aar|nupkg|whl|tar|tgz|gz|bz2|xz|zst|7z|rar)$/i;

export type ValidateOne = (bytes: Uint8Array, fileName: string) => Promise<FileReport>;

function open(buf: Buffer): Promise<ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(buf, { lazyEntries: true, strictFileNames: true, validateEntrySizes: true, decodeStrings: true, autoClose: false }, (err, zip) =>
      err ? reject(err) : resolve(zip),
    );
  });
}

function readDirectory(zip: ZipFile): Promise<Entry[]> {
  return new Promise((resolve, reject) => {
    const list: Entry[] = [];
    zip.on('entry', (e: Entry) => {
      list.push(e);
      zip.readEntry();
    });
    zip.once('end', () => resolve(list));
    zip.once('error', reject);
    zip.readEntry();
  });
}

/** Directories, macOS resource forks and dotfiles (.DS_Store, …) are not SBOMs: skip, don't fail. */
export function isSkipped(name: string): boolean {
  return name.endsWith('/') || name.startsWith('__MACOSX/') || name.split('/').some((s) => s.startsWith('.'));
}

type Inflated = { ok: true; bytes: Buffer } | { ok: false; code: SbomErrorCode; message: string };

function inflate(zip: ZipFile, entry: Entry, limits: SbomLimits): Promise<Inflated> {
  // The header size is ≤ maxFileBytes here (checked by the caller), so this allocation is bounded.
  const expected = entry.uncompressedSize;
  return new Promise((resolve) => {
    let settled = false;
    const done = (r: Inflated): void => {
      if (!settled) {
        settled = true;
        resolve(r);
      }
    };
    zip.openReadStream(entry, (err, stream) => {
      if (err) return done({ ok: false, code: 'INCOMPATIBLE_FORMAT', message: `cannot read zip entry: ${err.message}` });
      const buf = Buffer.allocUnsafe(expected);
      let n = 0;
      stream.on('data', (chunk: Buffer) => {
        if (settled) return;
        // Our own counter: stop at the header size (a liar) and at the file and ratio limits.
        const next = n + chunk.length;
        if (next > limits.maxFileBytes) {
          stream.destroy();
          return done({ ok: false, code: 'FILE_SIZE_LIMIT_EXCEEDED', message: `inflates past the ${limits.maxFileBytes}-byte file limit` });
        }
        if (next > RATIO_FLOOR_BYTES && next > limits.maxCompressionRatio * Math.max(entry.compressedSize, 1)) {
          stream.destroy();
          return done({ ok: false, code: 'FILE_SIZE_LIMIT_EXCEEDED', message: `inflates past the ${limits.maxCompressionRatio}:1 compression-ratio limit` });
        }
        if (next > expected) {
          stream.destroy();
          return done({ ok: false, code: 'INCOMPATIBLE_FORMAT', message: `zip entry inflates to more than the ${expected} bytes its header declares` });
        }
        chunk.copy(buf, n);
        n = next;
      });
      stream.on('error', (e: Error) => {
        const sizeLie = /bytes in the stream/.test(e.message);
        done({
          ok: false,
          code: 'INCOMPATIBLE_FORMAT',
          message: sizeLie ? `zip entry size does not match its header (${e.message})` : `corrupt zip entry: ${e.message}`,
        });
      });
      stream.on('end', () => {
        if (n !== expected) return done({ ok: false, code: 'INCOMPATIBLE_FORMAT', message: `zip entry size does not match its header (${n} != ${expected})` });
        if (crc32(buf) >>> 0 !== entry.crc32 >>> 0)
          return done({ ok: false, code: 'INCOMPATIBLE_FORMAT', message: 'zip entry CRC-32 mismatch: the archive is corrupt' });
        done({ ok: true, bytes: buf });
      });
    });
  });
}

/** Header-only verdict for an entry, or null when it may be inflated. */
function precheck(e: Entry, limits: SbomLimits): { code: SbomErrorCode; message: string } | null {
  if (e.isEncrypted()) return { code: 'INCOMPATIBLE_FORMAT', message: 'encrypted zip entries are not supported' };
  if (NESTED_ARCHIVE.test(e.fileName))
    return { code: 'INCOMPATIBLE_FORMAT', message: 'nested archives are not supported: put the SBOM files directly in the zip' };
  if (e.compressionMethod !== 0 && e.compressionMethod !== 8) {
    return { code: 'INCOMPATIBLE_FORMAT', message: `zip compression method ${e.compressionMethod} is not supported (only stored and deflate)` };
  }
  if (e.uncompressedSize > limits.maxFileBytes) {
    return { code: 'FILE_SIZE_LIMIT_EXCEEDED', message: `${e.uncompressedSize} bytes uncompressed exceeds the ${limits.maxFileBytes}-byte file limit` };
  }
  const ratio = e.uncompressedSize / Math.max(e.compressedSize, 1);
  if (e.uncompressedSize > RATIO_FLOOR_BYTES && ratio > limits.maxCompressionRatio) {
    return { code: 'FILE_SIZE_LIMIT_EXCEEDED', message: `compression ratio ${Math.round(ratio)}:1 exceeds the ${limits.maxCompressionRatio}:1 limit` };
  }
  return null;
}

/** One report per SBOM file in the archive, plus one for the archive itself when it as a whole fails. */
export async function validateZip(bytes: Uint8Array, archiveName: string, limits: SbomLimits, validateOne: ValidateOne): Promise<FileReport[]> {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let zip: ZipFile;
  try {
    zip = await open(buf);
  } catch (err) {
    return [failed(archiveName, 'INCOMPATIBLE_FORMAT', `not a readable zip archive: ${(err as Error).message}`)];
  }
  try {
    if (zip.entryCount > rawEntryCap(limits)) {
      return [
        failed(archiveName, 'FILE_SIZE_LIMIT_EXCEEDED', `zip archive has ${zip.entryCount} entries; at most ${limits.maxZipEntries} SBOM files are accepted`),
      ];
    }
    let entries: Entry[];
    try {
      entries = await readDirectory(zip);
    } catch (err) {
      return [failed(archiveName, 'INCOMPATIBLE_FORMAT', `zip archive rejected: ${(err as Error).message}`)];
    }
    const files = entries.filter((e) => !isSkipped(e.fileName));
    if (files.length === 0) return [failed(archiveName, 'INCOMPATIBLE_FORMAT', 'zip archive contains no SBOM files')];
    if (files.length > limits.maxZipEntries) {
      return [failed(archiveName, 'FILE_SIZE_LIMIT_EXCEEDED', `zip archive has ${files.length} SBOM files; the limit is ${limits.maxZipEntries}`)];
    }
    const verdicts = files.map((e) => precheck(e, limits));
    const declaredTotal = files.reduce((sum, e, i) => sum + (verdicts[i] ? 0 : e.uncompressedSize), 0);
    if (declaredTotal > limits.maxZipTotalBytes) {
      return [failed(archiveName, 'FILE_SIZE_LIMIT_EXCEEDED', `zip archive inflates to ${declaredTotal} bytes; the limit is ${limits.maxZipTotalBytes}`)];
    }

    const reports: FileReport[] = [];
    let total = 0;
    for (const [i, e] of files.entries()) {
      const pre = verdicts[i];
      if (pre) {
        reports.push(failed(e.fileName, pre.code, pre.message));
        continue;
      }
      const r = await inflate(zip, e, limits);
      if (!r.ok) {
        reports.push(failed(e.fileName, r.code, r.message));
        continue;
      }
      total += r.bytes.length;
      if (total > limits.maxZipTotalBytes) {
        // Unreachable with yauzl's size check, kept so the limit never rests on one mechanism.
        reports.push(failed(archiveName, 'FILE_SIZE_LIMIT_EXCEEDED', `zip archive inflates past the ${limits.maxZipTotalBytes}-byte limit`));
        break;
      }
      if (isZip(r.bytes) || (r.bytes[0] === 0x1f && r.bytes[1] === 0x8b)) {
        reports.push(failed(e.fileName, 'INCOMPATIBLE_FORMAT', 'nested archives are not supported: put the SBOM files directly in the zip'));
        continue;
      }
      reports.push(await validateOne(r.bytes, e.fileName));
    }
    return reports;
  } finally {
    zip.close();
  }
}
