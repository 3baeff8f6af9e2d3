// PutObject / GetObject throughput of the embedded S3 endpoint, through the real S3 client.
import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { BENCH_KEY } from './servers.ts';

const MiB = 1024 * 1024;

/** Best of `rounds` for a `sizeMiB` object: PUT then GET, bytes checked; prints MB/s. */
export async function benchObjects(url: string, sizeMiB = 64, rounds = 3): Promise<void> {
  const s3 = new S3Client({
    endpoint: url,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: BENCH_KEY,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  try {
    await s3.send(new CreateBucketCommand({ Bucket: 'bench-objects' }));
    const body = randomBytes(sizeMiB * MiB);
    let put = Infinity;
    let get = Infinity;
    for (let i = 0; i < rounds; i++) {
      const key = `blob-${i}`;
      let t = performance.now();
      await s3.send(new PutObjectCommand({ Bucket: 'bench-objects', Key: key, Body: body }));
      put = Math.min(put, performance.now() - t);
      t = performance.now();
      const res = await s3.send(new GetObjectCommand({ Bucket: 'bench-objects', Key: key }));
      const bytes = await res.Body!.transformToByteArray();
      get = Math.min(get, performance.now() - t);
      if (!Buffer.from(bytes).equals(body)) throw new Error(`GetObject returned different bytes for ${key}`);
    }
    const rate = (ms: number) => ((sizeMiB * MiB) / 1e6 / (ms / 1000)).toFixed(0);
    console.log(`5. Embedded S3 endpoint (${sizeMiB} MiB object, signed, best of ${rounds})`);
    console.log(`  PutObject            ${rate(put)} MB/s (${put.toFixed(0)} ms; temp file, fsync, rename, metadata commit)`);
    console.log(`  GetObject            ${rate(get)} MB/s (${get.toFixed(0)} ms)`);
  } finally {
    s3.destroy();
  }
}
