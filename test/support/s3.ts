// Helpers for the S3 endpoint tests: a server verifying SigV4 with S3 clients, raw signed requests, and
// assertions on S3's error shape.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { Sha256 } from '@aws-crypto/sha256-js';
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { SignatureV4 } from '@smithy/signature-v4';
import type { FlotillaOptions } from '../../src/index.ts';
import { startTestServer, type TestServer } from './server.ts';

export const KEY = { accessKeyId: 'AKIDS3', secretAccessKey: 's3secret' };
export const OTHER = { accessKeyId: '111122223333', secretAccessKey: 'othersecret' };
export const WHEN_REQUIRED = { requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' } as const;

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface S3TestServer {
  server: TestServer;
  /** SDK defaults: streamed uploads use aws-chunked with a CRC32 trailer. */
  s3: S3Client;
  /** Checksums WHEN_REQUIRED: plain bodies. */
  s3Required: S3Client;
  client(config?: Partial<S3ClientConfig>): S3Client;
  /** A request signed with @smithy/signature-v4 for `s3`, as the SDK signs; `send` sends it unchanged. */
  signed(
    method: string,
    path: string,
    options?: { headers?: Record<string, string>; body?: Buffer; query?: Record<string, string> },
  ): Promise<{ path: string; headers: Record<string, string>; send(): Promise<RawResponse> }>;
  send(method: string, path: string, headers: Record<string, string>, body?: Buffer): Promise<RawResponse>;
  stop(): Promise<void>;
}

export const sha256Hex = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
export const bytes = async (body: any): Promise<Buffer> => Buffer.from(await body.transformToByteArray());

/** A Flotilla that verifies SigV4 and accepts KEY (default account) and OTHER (account 111122223333). */
export async function startS3Server(options: FlotillaOptions = {}): Promise<S3TestServer> {
  const server = await startTestServer({
    auth: 'sigv4',
    credentials: `${KEY.accessKeyId}:${KEY.secretAccessKey},${OTHER.accessKeyId}:${OTHER.secretAccessKey}`,
    ...options,
  });
  const url = new URL(server.endpoint);
  const clients: S3Client[] = [];
  const client = (config: Partial<S3ClientConfig> = {}) => {
    const c = new S3Client({ endpoint: server.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: KEY, maxAttempts: 1, ...config });
    clients.push(c);
    return c;
  };
  const send = (method: string, path: string, headers: Record<string, string>, body?: Buffer) =>
    new Promise<RawResponse>((resolve, reject) => {
      const req = request({ host: url.hostname, port: url.port, method, path, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      });
      req.on('error', reject);
      req.end(body);
    });
  return {
    server,
    s3: client(),
    s3Required: client(WHEN_REQUIRED),
    client,
    send,
    async signed(method, path, options = {}) {
      const signer = new SignatureV4({ service: 's3', region: 'us-east-1', credentials: KEY, sha256: Sha256, uriEscapePath: false });
      const headers: Record<string, string> = { host: url.host, 'x-amz-content-sha256': sha256Hex(options.body ?? ''), ...options.headers };
      if (options.body) headers['content-length'] = String(options.body.length);
      const req = await signer.sign({
        method,
        protocol: 'http:',
        hostname: url.hostname,
        port: Number(url.port),
        path,
        query: options.query ?? {},
        headers,
        body: options.body,
      });
      const query = new URLSearchParams(options.query ?? {}).toString();
      const fullPath = query ? `${path}?${query}` : path;
      return {
        path: fullPath,
        headers: req.headers as Record<string, string>,
        send: () => send(method, fullPath, req.headers as Record<string, string>, options.body),
      };
    },
    async stop() {
      for (const c of clients) c.destroy();
      await server.stop();
    },
  };
}

/** The S3 error a call fails with; asserts that the SDK read S3's XML error shape (Code, RequestId, Resource). */
export async function s3Error(fn: () => Promise<unknown>, status: number, code: string): Promise<any> {
  try {
    await fn();
  } catch (err: any) {
    assert.equal(err.$metadata?.httpStatusCode, status, `${err.name}: ${err.message}`);
    assert.equal(err.name, code);
    if (err.name !== 'NotFound') {
      // HEAD answers carry no body: the SDK names those by status alone.
      assert.equal(err.Code, code);
      assert.match(String(err.RequestId), /^[0-9A-F]{16}$/);
      assert.equal(typeof err.Resource, 'string');
    }
    return err;
  }
  assert.fail(`expected ${code}`);
}

/** Asserts the body is exactly S3's error document with the given code. */
export function assertErrorXml(body: string, code: string): void {
  const m =
    /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<Error><Code>([^<]+)<\/Code><Message>[^<]+<\/Message>(?:<\w+>[^<]*<\/\w+>)*<Resource>[^<]*<\/Resource><RequestId>[0-9A-F]{16}<\/RequestId><\/Error>$/.exec(
      body,
    );
  assert.ok(m, `not an S3 error document: ${body}`);
  assert.equal(m[1], code);
}
