// What every service handler receives besides its typed input.
import type { Scope } from '../domain/arn.ts';
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

export type Handler<I = any, O = any> = (input: I, ctx: RequestContext) => Promise<O>;
export type HandlerMap = Record<string, Handler>;
