// The buffered body path of the AWS JSON APIs, as Fastify's own `parseAs: 'buffer'` does it (a limit on the
// declared and the received size, a declared Content-Length that must match). It is a function parser so that
// S3 requests can take the raw stream instead (see server.ts).
import type { Readable } from 'node:stream';
import Fastify from 'fastify';

const { errorCodes } = Fastify; // through the default export: the build inlines Fastify as one CommonJS file (scripts/build.mjs)

export function readBufferedBody(
  payload: Readable,
  contentLengthHeader: string | undefined,
  limit: number,
  done: (err: Error | null, body?: Buffer) => void,
): void {
  const contentLength = Number(contentLengthHeader);
  if (contentLength > limit) {
    done(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
    return;
  }
  const chunks: Buffer[] = [];
  let received = 0;
  const cleanup = () => {
    payload.removeListener('data', onData);
    payload.removeListener('end', onEnd);
    payload.removeListener('error', onEnd);
  };
  const onData = (chunk: Buffer | string) => {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    received += bytes.length;
    if (received > limit) {
      cleanup();
      done(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
      return;
    }
    chunks.push(bytes);
  };
  const onEnd = (err?: Error & { statusCode?: number }) => {
    cleanup();
    if (err) {
      if (!(typeof err.statusCode === 'number' && err.statusCode >= 400)) err.statusCode = 400;
      return done(err);
    }
    if (!Number.isNaN(contentLength) && received !== contentLength) return done(new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH());
    done(null, Buffer.concat(chunks, received));
  };
  payload.on('data', onData);
  payload.on('end', onEnd);
  payload.on('error', onEnd);
  payload.resume();
}
