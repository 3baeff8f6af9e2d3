// What every service handler receives besides its typed input.
import type { BlobStore } from '../blob/blob.ts';
import type { Scope } from '../domain/arn.ts';
import type { ServiceName } from '../protocol/model.ts';
import type { ServiceOperations } from '../protocol/operations.ts';
import type { Db } from '../store/schema.ts';
import type { Store } from '../store/store.ts';

export interface ServerInfo {
  /** Base URL of the HTTP API, e.g. http://127.0.0.1:4580 */
  apiUrl: string;
  /** URL of the MQTT listener, when there is one. */
  mqttUrl?: string;
  /** The bus as the health endpoint reports it; undefined while MQTT is off. */
  mqtt?: { url: string; broker: 'embedded' | 'external'; sharedSubscriptions?: boolean };
  /** Decides what MQTT clients and iot-data Publish may do (src/bus/authorizer.ts). */
  authorizer?: import('../bus/authorizer.ts').Authorizer;
  /** Object storage (embedded S3 endpoint or external S3): artifacts, SBOMs, presigned URLs. */
  blob?: BlobStore;
}

export interface RequestContext {
  scope: Scope;
  operation: string;
  /** The request's time, read once so that every date a request writes agrees. */
  now: Date;
  /** The open transaction for writes, the database for reads (and in a prefetch). */
  db: Db;
  store: Store;
  server: ServerInfo;
}

/**
 * A handler that needs the network (object storage) reads it in `prefetch`, before the request's transaction opens
 * and outside it; `run` then decides and writes in a short transaction with what was read, re-checking what it
 * relies on. A transaction never waits on the network (docs/architecture.md).
 */
export interface PhasedHandler<I = any, O = any, D = any> {
  prefetch(input: I, ctx: RequestContext): Promise<D>;
  run(input: I, ctx: RequestContext, prefetched: D): Promise<O>;
}

export type Handler<I = any, O = any> = (((input: I, ctx: RequestContext) => Promise<O>) & { ownTransaction?: boolean }) | PhasedHandler<I, O>;

/**
 * Marks a write handler that opens its own transactions (ctx.store.transaction) instead of running inside the one the
 * API opens, so that what must follow the commit (signing document URLs) runs outside it.
 */
export const ownTransaction = <I, O>(
  handler: (input: I, ctx: RequestContext) => Promise<O>,
): ((input: I, ctx: RequestContext) => Promise<O>) & { ownTransaction: true } => Object.assign(handler, { ownTransaction: true as const });
export type HandlerMap = Record<string, Handler>;

type InputOf<S extends ServiceName, Op extends keyof ServiceOperations[S]> = ServiceOperations[S][Op] extends { input: infer I } ? I : never;
type OutputOf<S extends ServiceName, Op extends keyof ServiceOperations[S]> = ServiceOperations[S][Op] extends { output: infer O } ? O : never;

/**
 * Handler maps are typed by operation. `Handlers<S>` maps each operation name of service S to a handler that takes
 * the AWS SDK's input type and resolves to its output type, as generated from the models into
 * src/protocol/operations.ts. Write a map as `export const fooHandlers = { async CreateFoo(input, ctx) { … } } satisfies
 * Handlers<'iot'>;` (or `'iot-jobs-data'`, `'iotdata'`) and spread it into its service in services/index.ts: a
 * misspelled operation name, a wrong input type or a wrong output shape is then a compile error. A handler that reads
 * object storage is a PhasedHandler (`phased({ prefetch, run })`), typed the same way.
 */
export type Handlers<S extends ServiceName> = {
  [Op in keyof ServiceOperations[S]]?:
    | ((input: InputOf<S, Op>, ctx: RequestContext) => Promise<OutputOf<S, Op>>)
    | PhasedHandler<InputOf<S, Op>, OutputOf<S, Op>>;
};

/** Declares a PhasedHandler with its prefetched data's type inferred. */
export const phased = <I, O, D>(handler: PhasedHandler<I, O, D>): PhasedHandler<I, O, D> => handler;

/**
 * What a prefetch read, or the error it met: the handler throws that error at the point where it relies on the
 * read, so that the other checks of the request keep their order.
 */
export type Fetched<T> = { ok: true; value: T } | { ok: false; error: unknown };

export async function fetched<T>(read: () => Promise<T>): Promise<Fetched<T>> {
  try {
    return { ok: true, value: await read() };
  } catch (error) {
    return { ok: false, error };
  }
}

export function fetchedValue<T>(f: Fetched<T>): T {
  if (!f.ok) throw f.error;
  return f.value;
}
