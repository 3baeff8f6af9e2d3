// What every service handler receives besides its typed input.
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

/**
 * Handler maps are typed by operation. `Handlers<S>` maps each operation name of service S to a handler that takes
 * the AWS SDK's input type and resolves to its output type, as generated from the models into
 * src/protocol/operations.ts. Write a map as `export const fooHandlers = { async CreateFoo(input, ctx) { … } } satisfies
 * Handlers<'iot'>;` (or `'iot-jobs-data'`, `'iotdata'`) and spread it into its service in services/index.ts: a
 * misspelled operation name, a wrong input type or a wrong output shape is then a compile error.
 */
export type Handlers<S extends ServiceName> = {
  [Op in keyof ServiceOperations[S]]?: (input: ServiceOperations[S][Op] extends { input: infer I } ? I : never, ctx: RequestContext) => Promise<ServiceOperations[S][Op] extends { output: infer O } ? O : never>;
};
