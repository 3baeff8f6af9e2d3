// Process wiring: store, HTTP listener, admin endpoints. `startFlotilla` is also the in-process API for test suites.
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import Fastify, { type FastifyReply } from 'fastify';
import { pino, type Logger } from 'pino';
import type { ServerInfo } from '../services/context.ts';
import { handlers } from '../services/index.ts';
import { EffectRunner } from '../engine/effects.ts';
import { followMembership } from '../services/job-registry.ts';
import { SbomValidator } from '../services/sbom-validation.ts';
import { sbomReport } from '../services/sbom.ts';
import { notFound, validation } from '../protocol/errors.ts';
import { effects } from '../store/effects.ts';
import { idempotency } from '../store/idempotency.ts';
import { Store } from '../store/store.ts';
import type { BlobStore } from '../blob/blob.ts';
import { isS3Request } from '../s3/endpoint.ts';
import { openBlob, type BlobSetup } from './blob-setup.ts';
import { Api, IDEMPOTENCY_WINDOW_MS } from './api.ts';
import { readBufferedBody } from './raw-body.ts';
import { resolveConfig, type FlotillaConfig, type FlotillaOptions } from './config.ts';

export interface Flotilla {
  /** Base URL of the AWS APIs, for `endpoint` in the AWS SDKs. */
  endpoint: string;
  /** MQTT URL, or undefined while no broker runs. */
  mqttUrl?: string;
  config: FlotillaConfig;
  /** Object storage: the embedded S3 endpoint's store, or the external S3 of `--blob`. */
  blob: BlobStore;
  /** Drains in-flight requests, then closes the store. */
  stop(): Promise<void>;
}

/** Body size the API accepts; the largest modelled document (a job document) is 32 KB. */
const BODY_LIMIT = 8 * 1024 * 1024;
/** Request line and headers together, in bytes (S3 allows 8 KB of request headers). */
export const HEADER_LIMIT = 16 * 1024;
/** Longest wait for a request's headers (slow clients hold a socket each). */
const HEADERS_TIMEOUT_MS = 30_000;
/** A connection with no bytes either way for this long is closed (above the 72 s keep-alive of idle ones). */
const IDLE_TIMEOUT_MS = 120_000;
/** Requests on one keep-alive connection before it is closed, so no client holds one forever. */
const REQUESTS_PER_SOCKET = 1000;

export async function startFlotilla(options: FlotillaOptions = {}, log?: Logger): Promise<Flotilla> {
  const config = resolveConfig(options);
  const logger = log ?? pino({ level: config.logLevel });
  const store = await Store.open(config.database, logger);
  const server: ServerInfo = { apiUrl: '' };
  let blob: BlobSetup;
  try {
    blob = await openBlob(config, store, server, logger);
  } catch (err) {
    await store.close();
    throw err;
  }
  server.blob = blob.blob;
  const api = new Api({ store, auth: { mode: config.auth, credentials: config.credentials }, account: config.account, region: config.region, server, handlers, log: logger });

  const app = buildHttp(api, store, config, logger, blob);
  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (err) {
    await blob.close();
    await store.close();
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const hostForUrl = config.host.includes(':') && !config.host.startsWith('[') ? `[${config.host}]` : config.host;
  server.apiUrl = `http://${hostForUrl}:${port}`;

  const sbomValidator = new SbomValidator({ store, blob: blob.blob, config: config.sbom, log: logger });
  try {
    await sbomValidator.start();
  } catch (err) {
    await app.close();
    await sbomValidator.stop();
    await blob.close();
    await store.close();
    throw err;
  }

  // Effects follow commits: every transaction's recorded effects are claimed and carried out by this runner.
  const effectRunner = new EffectRunner({
    store,
    log: logger,
    handlers: {
      'registry.membership': (e) => followMembership(store, e.scope, e.subject),
      'sbom.validate': async () => sbomValidator.nudge(),
    },
  });
  store.afterCommit(effectRunner.wake);
  effectRunner.start();

  const prune = setInterval(() => {
    idempotency.pruneBefore(store.db, Date.now() - IDEMPOTENCY_WINDOW_MS).catch((err) => logger.warn({ err }, 'pruning client tokens failed'));
  }, 60 * 60 * 1000);
  prune.unref();

  let stopping: Promise<void> | undefined;
  return {
    endpoint: server.apiUrl,
    config,
    blob: blob.blob,
    stop() {
      stopping ??= (async () => {
        clearInterval(prune);
        await app.close();
        await effectRunner.stop();
        // Before the store closes: an abandoned validation writes nothing and is taken up again at the next start.
        await sbomValidator.stop();
        await blob.close();
        await store.close();
      })();
      return stopping;
    },
  };
}

function buildHttp(api: Api, store: Store, config: FlotillaConfig, logger: Logger, blob: BlobSetup) {
  const s3 = blob.endpoint;
  const isS3 = (headers: Record<string, string | string[] | undefined>, url: string | undefined) => s3 !== undefined && isS3Request(headers, url ?? '/');
  // Fastify's own logger stays off: requests are not logged one by one, errors are logged below.
  const requestTimeout = config.requestTimeoutMs;
  const headersTimeout = Math.min(HEADERS_TIMEOUT_MS, requestTimeout);
  const app = Fastify({
    logger: false,
    bodyLimit: BODY_LIMIT,
    return503OnClosing: true,
    requestTimeout,
    connectionTimeout: IDLE_TIMEOUT_MS,
    maxRequestsPerSocket: REQUESTS_PER_SOCKET,
    // Node checks the request and headers deadlines every connectionsCheckingInterval (30 s by default).
    http: { maxHeaderSize: HEADER_LIMIT, requestTimeout, headersTimeout, connectionsCheckingInterval: Math.min(30_000, Math.max(100, Math.floor(headersTimeout / 4))) },
    clientErrorHandler: (err, socket) => sendClientError(err, socket, requestTimeout),
    frameworkErrors: (err, _req, reply) => sendHttpError(err, reply, logger),
  });
  // While stopping, answers close their connection, so that a drained keep-alive connection does not hold the stop.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', (_req, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    done(null, payload); // a callback hook: no promise per response
  });
  // Every body reaches the API as raw bytes: SigV4 hashes them and the model decides how to read them.
  app.removeAllContentTypeParsers();
  // S3 requests (signed for `s3`) keep the raw stream instead: the embedded endpoint streams objects to disk.
  app.addContentTypeParser('*', (req, payload, done) => {
    if (isS3(req.headers, req.raw.url)) return done(null, payload);
    readBufferedBody(payload, req.headers['content-length'], BODY_LIMIT, done);
  });

  app.get('/_flotilla/health', async () => ({ status: 'ok', store: store.dialect, effects: await effects.counts(store.db) }));
  app.post('/_flotilla/reset', async (_req, reply) => {
    if (!config.allowReset) {
      return reply.code(403).send({ message: 'Reset is allowed only with the embedded SQLite store and --auth off, or with --allow-reset' });
    }
    await store.reset();
    await blob.reset();
    return { status: 'reset' };
  });

  // The full SBOM validation report (every file's errors and warnings), authenticated and scoped as the AWS API.
  app.get<{ Params: { packageName: string; versionName: string } }>('/_flotilla/sbom-report/:packageName/:versionName', async (req, reply) => {
    let res;
    try {
      const scope = api.authenticateRequest({ method: req.method, url: req.raw.url ?? '/', headers: req.headers, body: Buffer.alloc(0) });
      const { packageName, versionName } = req.params;
      if (`${packageName}${versionName}`.includes('\u0000')) throw validation('A package or version name must not contain the character U+0000 (NUL)');
      const report = await sbomReport(store.db, scope, packageName, versionName);
      if (!report) throw notFound(`Package version ${packageName}/${versionName} does not exist`);
      res = { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(report) };
    } catch (err) {
      res = api.errorOf(err);
    }
    return reply.code(res.status).headers(res.headers).send(res.body);
  });

  app.all('*', async (req, reply) => {
    if (s3 && isS3(req.headers, req.raw.url)) {
      const res = await s3.handle({ method: req.method, url: req.raw.url ?? '/', headers: req.headers, body: req.raw });
      return reply.code(res.status).headers(res.headers).send(res.body);
    }
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const res = await api.handle({ method: req.method, url: req.raw.url ?? '/', headers: req.headers, body });
    return reply.code(res.status).headers(res.headers).send(res.body);
  });

  app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => sendHttpError(err, reply, logger));
  return app;
}

/**
 * Errors Node's HTTP parser raises before any request exists (headers over HEADER_LIMIT, a request not received in
 * time, malformed HTTP), in AWS's JSON error shape: AWS publishes no JSON name for them, so S3's
 * `RequestHeaderSectionTooLarge` and `RequestTimeout` become those of the JSON APIs too (docs/decisions.md).
 */
function sendClientError(err: NodeJS.ErrnoException, socket: Duplex, requestTimeoutMs: number) {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, type, message] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'RequestHeaderSectionTooLarge', `Your request header section exceeds the maximum allowed size of ${HEADER_LIMIT} bytes`]
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'RequestTimeoutException', `The request was not received in time: its headers within ${Math.min(HEADERS_TIMEOUT_MS, requestTimeoutMs)} ms, all of it within ${requestTimeoutMs} ms`]
        : [400, 'SerializationException', `Malformed HTTP request: ${err.message}`];
  // A response already on its way cannot be followed by another one: just close.
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent;
  if (socket.writable && !inFlight) {
    const body = JSON.stringify({ message });
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\nX-Amzn-ErrorType: ${type}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}

/** Errors raised by the HTTP layer itself (bad URLs, oversized or malformed bodies) still answer in AWS's shape. */
function sendHttpError(err: { statusCode?: number; message: string }, reply: FastifyReply, logger: Logger) {
  const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
  if (status === 500) logger.error({ err }, 'request failed');
  const type = status === 413 ? 'RequestEntityTooLargeException' : status === 500 ? 'InternalFailureException' : 'SerializationException';
  return reply
    .code(status)
    .header('content-type', 'application/json')
    .header('x-amzn-errortype', type)
    .send(JSON.stringify({ message: status === 500 ? 'An internal error occurred' : err.message }));
}
