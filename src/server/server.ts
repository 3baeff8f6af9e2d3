// Process wiring: store, HTTP listener, admin endpoints. `startFlotilla` is also the in-process API for test suites.
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import Fastify, { type FastifyReply } from 'fastify';
import { pino, type Logger } from 'pino';
import type { ServerInfo } from '../services/context.ts';
import { handlers } from '../services/index.ts';
import { Clock } from '../engine/clock.ts';
import { jobsTopicHandler } from '../services/jobs-data-mqtt.ts';
import { jobsChangedHandler } from '../services/jobs-notify.ts';
import { shadowTopicHandler } from '../services/shadows-mqtt.ts';
import { reportPackageVersions } from '../services/shadows.ts';
import { recordInstalledPackages } from '../engine/packages.ts';
import { EffectRunner } from '../engine/effects.ts';
import { JobEngine } from '../engine/jobs.ts';
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
import { Api, IDEMPOTENCY_WINDOW_MS, type RawResponse } from './api.ts';
import { readBufferedBody } from './raw-body.ts';
import { openBus } from '../bus/bus.ts';
import { EmbeddedBus } from '../bus/embedded.ts';
import { openAuthorizer } from '../bus/authorizer.ts';
import { serveMqttOverWebSocket } from './mqtt-websocket.ts';
import { StorePresence } from '../bus/presence.ts';
import { retained } from '../store/mqtt.ts';
import type { TopicHandler } from '../bus/types.ts';
import { resolveConfig, type FlotillaConfig, type FlotillaOptions } from './config.ts';

export interface Flotilla {
  /** Base URL of the AWS APIs, for `endpoint` in the AWS SDKs. */
  endpoint: string;
  /** MQTT URL, or undefined while no broker runs. */
  mqttUrl?: string;
  config: FlotillaConfig;
  /** Object storage: the embedded S3 endpoint's store, or the external S3 of `--blob`. */
  blob: BlobStore;
  /** The store, for in-process tools and test suites (writes through it wake the engine like any request's). */
  store: Store;
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
  const api = new Api({
    store,
    auth: { mode: config.auth, credentials: config.credentials },
    account: config.account,
    region: config.region,
    server,
    handlers,
    log: logger,
  });

  const clock = new Clock(config.timeScale);
  if (clock.scale > 1) logger.info({ timeScale: clock.scale }, `rehearsal mode: the rollout engine's clocks run ${clock.scale}x faster`);
  const app = buildHttp(api, store, config, logger, blob, server);
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

  // Device requests on AWS's reserved topics go to the first of these that accepts the topic.
  // In-process handlers given by the embedding code (tests) come first.
  const topicHandlers: TopicHandler[] = [
    ...(options.topicHandlers ?? []),
    jobsTopicHandler({ store, blob: blob.blob, log: logger }),
    shadowTopicHandler({ store, log: logger }),
  ];
  const scope = { account: config.account, region: config.region };
  const presence = new StorePresence(store, logger);
  const authorizer = openAuthorizer(scope);
  server.authorizer = authorizer;
  let bus: Awaited<ReturnType<typeof openBus>>;
  try {
    const held = (await retained.all(store.db, scope)).map((r) => ({ topic: r.topic, payload: r.payload, qos: r.qos === 0 ? (0 as const) : (1 as const) }));
    bus = await openBus({ config, authorizer, handlers: topicHandlers, events: presence, retained: held, log: logger });
  } catch (err) {
    await app.close();
    await blob.close();
    await store.close();
    throw err;
  }
  server.mqttUrl = bus?.url;
  server.mqtt = bus
    ? { url: bus.url!, broker: bus instanceof EmbeddedBus ? 'embedded' : 'external', sharedSubscriptions: bus instanceof EmbeddedBus ? undefined : bus.shared }
    : undefined;
  // MQTT over WebSocket needs the embedded broker; with an external one devices use that broker's own listeners.
  const closeWebSocket = bus instanceof EmbeddedBus ? serveMqttOverWebSocket(app.server, bus, config) : () => {};

  const sbomValidator = new SbomValidator({ store, blob: blob.blob, config: config.sbom, log: logger });
  try {
    await sbomValidator.start();
  } catch (err) {
    await app.close();
    await bus?.close();
    await sbomValidator.stop();
    await blob.close();
    await store.close();
    throw err;
  }

  // Effects follow commits: every transaction's recorded effects are claimed and carried out by this runner.
  // The rollout engine's work items and timers are effect rows too, so replicas share them without a leader.
  const engine = new JobEngine({ store, clock, log: logger, maxExecutionsPerMinute: config.maxExecutionsPerMinute });
  const effectRunner = new EffectRunner({
    store,
    log: logger,
    handlers: {
      'registry.membership': (e) => followMembership(store, e.scope, e.subject),
      'sbom.validate': async () => sbomValidator.nudge(),
      'job.progress': (e) => engine.advance(e.scope, e.subject),
      'job.rollout': (e) => engine.advance(e.scope, e.subject),
      // A SUCCEEDED execution of a package deployment reports its versions in the thing's `$package` shadow.
      'package.installed': recordInstalledPackages(store, async (tx, at, thing, packages) => void (await reportPackageVersions(tx, at, thing, packages))),
      // Without a broker the message has no one to reach: done by doing nothing.
      // Devices hear about their pending jobs over MQTT only: without a broker there is no one to tell.
      'device.jobs-changed': bus ? jobsChangedHandler({ store, blob: blob.blob, publish: (m) => bus.publish(m) }) : undefined,
      'mqtt.publish': async ({ scope: at, payload: p }) => {
        const message = { topic: p.topic, payload: p.base64 ? Buffer.from(p.payload, 'base64') : p.payload, qos: p.qos ?? 1, retain: p.retain };
        await (p.asRequest ? bus?.publishAsRequest(at, message) : bus?.publish(message));
      },
    },
  });
  store.afterCommit(effectRunner.wake);
  await effectRunner.start();

  const prune = setInterval(
    () => {
      idempotency.pruneBefore(store.db, Date.now() - IDEMPOTENCY_WINDOW_MS).catch((err) => logger.warn({ err }, 'pruning client tokens failed'));
    },
    60 * 60 * 1000,
  );
  prune.unref();

  let stopping: Promise<void> | undefined;
  return {
    endpoint: server.apiUrl,
    mqttUrl: bus?.url,
    config,
    blob: blob.blob,
    store,
    stop() {
      stopping ??= (async () => {
        clearInterval(prune);
        // The bus first: its WebSocket connections would hold the HTTP server open.
        closeWebSocket();
        await bus?.close();
        await app.close();
        await presence.settled();
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

function buildHttp(api: Api, store: Store, config: FlotillaConfig, logger: Logger, blob: BlobSetup, server: ServerInfo) {
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
    http: {
      maxHeaderSize: HEADER_LIMIT,
      requestTimeout,
      headersTimeout,
      connectionsCheckingInterval: Math.min(30_000, Math.max(100, Math.floor(headersTimeout / 4))),
    },
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

  app.get('/_flotilla/health', async () => ({
    status: 'ok',
    store: store.dialect,
    effects: await effects.counts(store.db),
    mqtt: server.mqtt,
    ...(config.timeScale > 1 ? { rehearsal: { timeScale: config.timeScale } } : {}),
  }));
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
    let res: RawResponse;
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
        ? [
            408,
            'RequestTimeoutException',
            `The request was not received in time: its headers within ${Math.min(HEADERS_TIMEOUT_MS, requestTimeoutMs)} ms, all of it within ${requestTimeoutMs} ms`,
          ]
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
