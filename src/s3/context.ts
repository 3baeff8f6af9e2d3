// What the S3 operation handlers share: the parsed call and the response shape.
import type { Readable } from 'node:stream';
import type { ChunkSigning } from './chunked.ts';
import type { ObjectStore } from '../blob/object-store.ts';
import type { Headers } from './upload.ts';

export interface S3Call {
  objects: ObjectStore;
  maxObjectSize: number;
  method: string;
  account: string;
  /** The region of the request's credential scope. */
  region: string;
  bucket: string;
  /** Undefined for bucket-level requests. */
  key?: string;
  query: URLSearchParams;
  headers: Headers;
  body: Readable;
  /** Set when the upload's aws-chunked chunks are signed and signatures are being verified. */
  signing?: ChunkSigning;
}

export interface S3Response {
  status: number;
  headers: Record<string, string>;
  body?: string | Buffer | Readable;
}

export const xmlResponse = (body: string, headers: Record<string, string> = {}): S3Response => ({
  status: 200,
  headers: { 'content-type': 'application/xml', ...headers },
  body,
});

export const emptyResponse = (status: number, headers: Record<string, string> = {}): S3Response => ({ status, headers: { ...headers } });
