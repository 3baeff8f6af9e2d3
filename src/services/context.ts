// What every service handler receives besides its typed input.
import type { Scope } from '../domain/arn.ts';
import type { Db } from '../store/schema.ts';
import type { Store } from '../store/store.ts';

export interface ServerInfo {
  /** Base URL of the HTTP API, e.g. http://127.0.0.1:4580 */
  apiUrl: string;
  /** URL of the MQTT listener, when there is one. */
  mqttUrl?: string;
  /** Object storage (embedded S3 endpoint or external S3): artifacts, SBOMs, presigned URLs. */
  blob?: import('../blob/blob.ts').BlobStore;
}

export interface RequestContext {
  scope: Scope;
  operation: string;
  /** The request's time, read once so that every date a request writes agrees. */
  now: Date;
  /** The open transaction for writes, the database for reads. */
  db: Db;
  store: Store;
  server: ServerInfo;
}

export type Handler<I = any, O = any> = ((input: I, ctx: RequestContext) => Promise<O>) & { ownTransaction?: boolean };

/**
 * Marks a write handler that opens its own transactions (ctx.store.transaction) instead of running inside the one the
 * API opens, so that what must follow the commit (signing document URLs) runs outside it.
 */
export const ownTransaction = <I, O>(handler: (input: I, ctx: RequestContext) => Promise<O>): Handler<I, O> => Object.assign(handler, { ownTransaction: true });
export type HandlerMap = Record<string, Handler>;
