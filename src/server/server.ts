// Process wiring: store, HTTP listener, admin endpoints. `startFlotilla` is also the in-process API for test suites.
import Fastify, { type FastifyReply } from 'fastify';
import { pino, type Logger } from 'pino';
import type { ServerInfo } from '../services/context.ts';
import { handlers } from '../services/index.ts';
import { EffectRunner } from '../engine/effects.ts';
import { followMembership } from '../services/job-registry.ts';
import { SbomValidator } from '../services/sbom-validation.ts';
import { sbomReport } from '../services/sbom.ts';
import { notFound } from '../protocol/errors.ts';
import { effects } from '../store/effects.ts';
import { idempotency } from '../store/idempotency.ts';
import { Store } from '../store/store.ts';
import { openBlob, type BlobSetup, type BlobStore } from '../blob/blob.ts';
import { isS3Request } from '../blob/s3-endpoint.ts';
import { Api, IDEMPOTENCY_WINDOW_MS } from './api.ts';
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
  /** Drains in-flight requests, then closes the store. */
  stop(): Promise<void>;
}

/** Body size the API accepts; the largest modelled document (a job document) is 32 KB. */
const BODY_LIMIT = 8 * 1024 * 1024;

export async function startFlotilla(options: FlotillaOptions = {}, log?: Logger): Promise<Flotilla> {
  const config = resolveConfig(options);
  const logger = log ?? pino({ level: config.logLevel });
  const store = await Store.open(config.database);
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
  const topicHandlers: TopicHandler[] = [...(options.topicHandlers ?? [])];
  const scope = { account: config.account, region: config.region };
  const presence = new StorePresence(store, logger);
  const authorizer = openAuthorizer(scope);
  server.authorizer = authorizer;
  let bus;
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
  server.mqtt = bus ? { url: bus.url!, broker: bus instanceof EmbeddedBus ? 'embedded' : 'external', sharedSubscriptions: bus instanceof EmbeddedBus ? undefined : bus.shared } : undefined;
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
  const effectRunner = new EffectRunner({
    store,
    log: logger,
    handlers: {
      'registry.membership': (e) => followMembership(store, e.scope, e.subject),
      'sbom.validate': async () => sbomValidator.nudge(),
      // Without a broker the message has no one to reach: done by doing nothing.
      'mqtt.publish': async ({ scope: at, payload: p }) => {
        const message = { topic: p.topic, payload: p.base64 ? Buffer.from(p.payload, 'base64') : p.payload, qos: p.qos ?? 1, retain: p.retain };
        await (p.asRequest ? bus?.publishAsRequest(at, message) : bus?.publish(message));
      },
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
    mqttUrl: bus?.url,
    config,
    blob: blob.blob,
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
  const app = Fastify({
    logger: false,
    bodyLimit: BODY_LIMIT,
    return503OnClosing: true,
    frameworkErrors: (err, _req, reply) => sendHttpError(err, reply, logger),
  });
  // Every body reaches the API as raw bytes: SigV4 hashes them and the model decides how to read them.
  app.removeAllContentTypeParsers();
  // S3 requests (signed for `s3`) keep the raw stream instead: the embedded endpoint streams objects to disk.
  app.addContentTypeParser('*', (req, payload, done) => {
    if (isS3(req.headers, req.raw.url)) return done(null, payload);
    readBufferedBody(payload, req.headers['content-length'], BODY_LIMIT, done);
  });

  app.get('/_flotilla/health', async () => ({ status: 'ok', store: store.dialect, effects: await effects.counts(store.db), mqtt: server.mqtt }));
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
