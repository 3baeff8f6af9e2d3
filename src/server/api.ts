// The path of an API call: signing scope → route → bind → validate → handler in one transaction → response.
import { createHash, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { BindError, bindInput, encodeOutput, validateInput, validationMessage } from '../protocol/codec.ts';
import { ServiceError, UNMODELLED_STATUS } from '../protocol/errors.ts';
import { idempotencyMember, loadModel, SERVICE_FILES, type Operation, type ServiceModel, type ServiceName } from '../protocol/model.ts';
import { Router } from '../protocol/router.ts';
import { isPresigned, readCredential, verifySignature, type Credential } from '../protocol/sigv4.ts';
import { BlobUnavailableError } from '../blob/blob.ts';
import type { HandlerMap, RequestContext, ServerInfo } from '../services/context.ts';
import { idempotency } from '../store/idempotency.ts';
import { isUniqueViolation, type Store } from '../store/store.ts';

export interface AuthConfig {
  mode: 'off' | 'sigv4';
  /** access key id → secret, for `sigv4` */
  credentials: Map<string, string>;
}

export interface RawRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string | Buffer;
}

export interface ApiOptions {
  store: Store;
  auth: AuthConfig;
  account: string;
  region: string;
  server: ServerInfo;
  handlers: Record<ServiceName, HandlerMap>;
  log: Logger;
}

interface Service {
  name: ServiceName;
  model: ServiceModel;
  router: Router;
  handlers: HandlerMap;
}

/** Signing names that address another service: older botocore (1.29, for one) signs `iot` requests as `execute-api`. */
const SIGNING_ALIASES: Record<string, ServiceName> = { 'execute-api': 'iot' };

/** How long a clientToken replays its first response. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;

export class Api {
  private readonly services = new Map<string, Service>();

  constructor(private readonly options: ApiOptions) {
    for (const name of Object.keys(SERVICE_FILES) as ServiceName[]) {
      const model = loadModel(name);
      this.services.set(name, { name, model, router: new Router(model), handlers: options.handlers[name] });
    }
  }

  async handle(req: RawRequest): Promise<RawResponse> {
    const requestId = randomUUID();
    let service = this.services.get('iot')!;
    let operation: Operation | undefined;
    try {
      const queryAt = req.url.indexOf('?');
      const rawPath = queryAt < 0 ? req.url : req.url.slice(0, queryAt);
      const rawQuery = queryAt < 0 ? '' : req.url.slice(queryAt + 1);
      const credential = this.authenticate({ method: req.method, rawPath, rawQuery, headers: req.headers, body: req.body });
      const signingName = credential?.service ?? 'iot';
      const found = this.services.get(SIGNING_ALIASES[signingName] ?? signingName);
      if (!found) throw new ServiceError('UnknownOperationException', `Flotilla does not serve the signing service '${signingName}'`);
      service = found;
      const route = service.router.match(req.method, rawPath);
      if (!route) throw new ServiceError('UnknownOperationException', `No ${service.name} operation matches ${req.method} ${rawPath}`);
      const opName = route.operation;
      operation = service.model.operations[opName];
      const input = this.bind(service, operation, { labels: route.labels, query: new URLSearchParams(rawQuery), headers: req.headers, body: req.body });
      const handler = service.handlers[opName];
      if (!handler) throw new ServiceError(validationCode(operation), `Flotilla does not implement the ${service.name} operation ${opName} yet`);
      const scope = this.scopeOfCredential(credential);
      const encoded = await this.execute(service, opName, operation, input, scope);
      return { status: 200, headers: { 'content-type': 'application/json', 'x-amzn-requestid': requestId, ...encoded.headers }, body: encoded.body };
    } catch (err) {
      return this.errorResponse(err, service, operation, requestId);
    }
  }

  /**
   * For Flotilla's own routes outside the AWS namespace: authenticates the request exactly as the AWS API does
   * (any signing service) and returns the account and region it acts for. Throws a ServiceError otherwise.
   */
  authenticateRequest(req: RawRequest): RequestContext['scope'] {
    const queryAt = req.url.indexOf('?');
    const rawPath = queryAt < 0 ? req.url : req.url.slice(0, queryAt);
    const rawQuery = queryAt < 0 ? '' : req.url.slice(queryAt + 1);
    return this.scopeOfCredential(this.authenticate({ method: req.method, rawPath, rawQuery, headers: req.headers, body: req.body }));
  }

  /** An error of Flotilla's own routes, in the AWS JSON error shape of the `iot` service. */
  errorOf(err: unknown): RawResponse {
    return this.errorResponse(err, this.services.get('iot')!, undefined, randomUUID());
  }

  private scopeOfCredential(credential: Credential | undefined): RequestContext['scope'] {
    const accessKey = credential?.accessKeyId;
    return {
      account: accessKey && /^\d{12}$/.test(accessKey) ? accessKey : this.options.account,
      region: credential?.region || this.options.region,
    };
  }

  private authenticate(req: Parameters<typeof readCredential>[0]): Credential | undefined {
    const { auth } = this.options;
    if (auth.mode === 'off') return readCredential(req);
    // AWS documents presigned URLs for S3 (and the MQTT WebSocket gateway), not for these JSON APIs (docs/decisions.md).
    if (isPresigned(req)) {
      throw new ServiceError(
        'MissingAuthenticationTokenException',
        'Missing Authentication Token: presigned (query string) signatures are not accepted here; sign with the Authorization header',
      );
    }
    return verifySignature(req, (key) => auth.credentials.get(key), Date.now());
  }

  private bind(service: Service, operation: Operation, parts: Parameters<typeof bindInput>[2]): Record<string, unknown> {
    let input: Record<string, unknown>;
    try {
      input = bindInput(service.model, operation.input, parts);
    } catch (err) {
      if (err instanceof BindError) throw new ServiceError(validationCode(operation), err.message);
      throw err;
    }
    const problems = validateInput(service.model, operation.input, input);
    if (problems.length) throw new ServiceError(validationCode(operation), validationMessage(problems));
    return input;
  }

  private async execute(service: Service, opName: string, operation: Operation, input: Record<string, unknown>, scope: RequestContext['scope']) {
    const { store } = this.options;
    const handler = service.handlers[opName];
    const context = (db: RequestContext['db']): RequestContext => ({ scope, operation: opName, now: new Date(), db, store, server: this.options.server });
    // A phased handler reads the network before any transaction opens (docs/architecture.md).
    let prefetched: unknown;
    const prefetch = async () => {
      if (typeof handler !== 'function') prefetched = await handler.prefetch(input, context(store.db));
    };
    const run = async (db: RequestContext['db']) => {
      const output = typeof handler === 'function' ? await handler(input, context(db)) : await handler.run(input, context(db), prefetched);
      return encodeOutput(service.model, operation.output, output);
    };
    if (operation.method === 'GET') {
      // The hot read path: no transaction, and a plain handler without the phased wrapping.
      if (typeof handler === 'function') return encodeOutput(service.model, operation.output, await handler(input, context(store.db)));
      await prefetch();
      return run(store.db);
    }
    // A handler marked ownTransaction opens its own transactions (its effects follow its commits).
    if (typeof handler === 'function' && handler.ownTransaction) {
      await prefetch();
      return run(store.db);
    }

    const tokenMember = idempotencyMember(service.model, operation);
    const token = tokenMember ? (input[tokenMember] as string | undefined) : undefined;
    if (!token) {
      await prefetch();
      return store.transaction(run);
    }

    const { [tokenMember!]: _token, ...request } = input;
    const requestHash = createHash('sha256').update(stableJson(request)).digest('hex');
    const since = Date.now() - IDEMPOTENCY_WINDOW_MS;
    const replay = async (db: RequestContext['db']) => {
      const prior = await idempotency.get(db, scope, opName, token, since);
      if (!prior) return undefined;
      if (prior.request_hash !== requestHash) {
        const code = operation.errors.includes('ConflictException') ? 'ConflictException' : validationCode(operation);
        throw new ServiceError(code, `The clientToken ${token} was already used with a different ${opName} request`);
      }
      return { headers: {}, body: prior.response };
    };
    try {
      // A replay answers without reading the network again; the transaction looks once more, for a concurrent twin.
      const earlier = await replay(store.db);
      if (earlier) return earlier;
      await prefetch();
      return await store.transaction(async (tx) => {
        const prior = await replay(tx);
        if (prior) return prior;
        const encoded = await run(tx);
        await idempotency.put(
          tx,
          { ...scope, operation: opName, token, request_hash: requestHash, response: String(encoded.body), created_at: Date.now() },
          since,
        );
        return encoded;
      });
    } catch (err) {
      // A concurrent request with the same token may have won the race: answer what it answered.
      if (err instanceof ServiceError || isUniqueViolation(err)) {
        const prior = await replay(store.db);
        if (prior) return prior;
      }
      throw err;
    }
  }

  private errorResponse(err: unknown, service: Service, operation: Operation | undefined, requestId: string): RawResponse {
    let error: ServiceError;
    if (err instanceof ServiceError) {
      error = err;
    } else if (err instanceof BlobUnavailableError) {
      // A dependency that did not answer: the operation's modelled unavailability, else its internal error.
      this.options.log.warn({ err: err.message, requestId }, 'object storage unavailable');
      const code =
        ['ServiceUnavailableException', 'InternalServerException', 'InternalFailureException'].find((e) => operation?.errors.includes(e)) ??
        'InternalFailureException';
      error = new ServiceError(code, err.message);
    } else {
      this.options.log.error({ err, requestId }, 'request failed');
      const code = operation?.errors.find((e) => e === 'InternalServerException' || e === 'InternalFailureException') ?? 'InternalFailureException';
      error = new ServiceError(code, 'An internal error occurred; the request was not applied');
    }
    const status = error.statusOverride ?? service.model.shapes[error.code]?.status ?? UNMODELLED_STATUS[error.code] ?? 400;
    return {
      status,
      headers: { 'content-type': 'application/json', 'x-amzn-errortype': error.code, 'x-amzn-requestid': requestId },
      body: JSON.stringify({ message: error.message, ...error.extra }),
    };
  }
}

/** The error an operation models for bad input: ValidationException where it has one, else InvalidRequestException. */
function validationCode(operation: Operation): string {
  return operation.errors.includes('ValidationException') ? 'ValidationException' : 'InvalidRequestException';
}

/** JSON with object keys sorted, so equal requests hash equally. */
function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) =>
    v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date) && !Buffer.isBuffer(v)
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, v[k]]),
        )
      : v,
  );
}
