// Device shadows over HTTP (`iotdata`: GetThingShadow, UpdateThingShadow, DeleteThingShadow,
// ListNamedShadowsForThing), the same operations for the MQTT topics (src/services/shadows-mqtt.ts), and
// reportPackageVersions for the rollout engine's `$package` writes. Every committed change publishes AWS's
// `/update/delta` and `/update/documents` (and, for writes not made over MQTT, `/accepted`) as effects of its own
// transaction, so HTTP and engine writes reach devices exactly as MQTT ones do.
import type * as IoTData from '@aws-sdk/client-iot-data-plane';
import type { Scope } from '../domain/arn.ts';
import {
  applyUpdate,
  baseVersionAfterDelete,
  deleteDocument,
  getDocument,
  noShadow,
  PACKAGE_SHADOW,
  packageVersionsRequest,
  parseUpdateRequest,
  ShadowError,
  type JsonObject,
  type ShadowState,
  type UpdateRequest,
} from '../domain/shadows.ts';
import { invalidRequest, ServiceError } from '../protocol/errors.ts';
import { effects } from '../store/effects.ts';
import type { Db, ShadowRow } from '../store/schema.ts';
import { shadows } from '../store/shadows.ts';
import type { RequestContext } from './context.ts';
import { pageRequest } from './paging.ts';

/** A reserved topic of one shadow: `$aws/things/{thing}/shadow[/name/{name}]/{suffix}`. */
export function shadowTopic(thingName: string, shadowName: string, suffix: string): string {
  return shadowName === '' ? `$aws/things/${thingName}/shadow/${suffix}` : `$aws/things/${thingName}/shadow/name/${shadowName}/${suffix}`;
}

const liveState = (row: ShadowRow | undefined): ShadowState | undefined =>
  row && row.state !== null ? { state: JSON.parse(row.state), metadata: JSON.parse(row.metadata ?? '{}'), version: Number(row.version) } : undefined;

/** Who made the change: over MQTT the handler answers `/accepted` itself; otherwise it is published as an effect. */
export type Origin = 'mqtt' | 'other';

/** The shadow's document with its delta, or 404. */
export async function readShadow(db: Db, scope: Scope, thingName: string, shadowName: string, now: number, clientToken?: string): Promise<JsonObject> {
  const shadow = liveState(await shadows.get(db, scope, thingName, shadowName));
  if (!shadow) throw noShadow(thingName, shadowName);
  return getDocument(shadow, now, clientToken);
}

/** Applies a validated update in the caller's transaction; returns the accepted document. */
export async function writeShadow(
  tx: Db,
  scope: Scope,
  thingName: string,
  shadowName: string,
  request: UpdateRequest,
  now: number,
  origin: Origin,
): Promise<JsonObject> {
  const row = await shadows.lock(tx, scope, thingName, shadowName, now);
  const current = liveState(row);
  const base = current ? current.version : baseVersionAfterDelete(Number(row.version), Number(row.deleted_at ?? 0), now);
  const result = applyUpdate(current, base, request, now);
  await shadows.update(tx, scope, thingName, shadowName, {
    state: JSON.stringify(result.next.state),
    metadata: JSON.stringify(result.next.metadata),
    version: result.next.version,
    created_at: current ? row.created_at : now,
    updated_at: now,
    deleted_at: null,
  });
  const publish = (suffix: string, doc: JsonObject) => effects.publish(tx, scope, shadowTopic(thingName, shadowName, suffix), doc);
  if (origin !== 'mqtt') await publish('update/accepted', result.accepted);
  if (result.delta) await publish('update/delta', result.delta);
  await publish('update/documents', result.documents);
  return result.accepted;
}

/** Validates and applies an update request document (the bytes a client sent). */
export function updateShadow(
  tx: Db,
  scope: Scope,
  thingName: string,
  shadowName: string,
  payload: Uint8Array,
  now: number,
  origin: Origin,
): Promise<JsonObject> {
  return writeShadow(tx, scope, thingName, shadowName, parseUpdateRequest(payload, shadowName), now, origin);
}

/** Deletes the shadow (its version is remembered); 404 when there is none. */
export async function deleteShadow(
  tx: Db,
  scope: Scope,
  thingName: string,
  shadowName: string,
  now: number,
  origin: Origin,
  clientToken?: string,
): Promise<JsonObject> {
  const locked = await shadows.lock(tx, scope, thingName, shadowName, now);
  if (!liveState(locked)) throw noShadow(thingName, shadowName);
  await shadows.update(tx, scope, thingName, shadowName, { state: null, metadata: null, updated_at: now, deleted_at: now });
  const doc = deleteDocument(Number(locked.version), now, clientToken);
  if (origin !== 'mqtt') await effects.publish(tx, scope, shadowTopic(thingName, shadowName, 'delete/accepted'), doc);
  return doc;
}

/**
 * For the rollout engine: records installed package versions in the thing's `$package` shadow, in the caller's
 * transaction: `state.reported.<pkg>.version = <version>`, or the package removed when its version is null. Sibling
 * packages and their attributes stay. Devices hear `/update/accepted` and `/update/documents` as for any update.
 * Throws ShadowError (413 when the shadow would outgrow its limit).
 */
export async function reportPackageVersions(tx: Db, scope: Scope, thingName: string, changes: Record<string, string | null>): Promise<JsonObject> {
  return writeShadow(tx, scope, thingName, PACKAGE_SHADOW, packageVersionsRequest(changes), Date.now(), 'other');
}

/** A shadow refusal as the HTTP API answers it. */
export function httpError(err: unknown): unknown {
  if (!(err instanceof ShadowError)) return err;
  const code = {
    400: 'InvalidRequestException',
    404: 'ResourceNotFoundException',
    409: 'ConflictException',
    413: 'RequestEntityTooLargeException',
    415: 'UnsupportedDocumentEncodingException',
    500: 'InternalFailureException',
  }[err.code];
  return new ServiceError(code, err.message);
}

const json = (doc: JsonObject) => Buffer.from(JSON.stringify(doc));

async function answering<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw httpError(err);
  }
}

export const shadowHandlers = {
  GetThingShadow(input: IoTData.GetThingShadowRequest, ctx: RequestContext): Promise<IoTData.GetThingShadowResponse> {
    return answering(async () => ({ payload: json(await readShadow(ctx.db, ctx.scope, input.thingName!, input.shadowName ?? '', ctx.now.getTime())) }));
  },

  UpdateThingShadow(input: IoTData.UpdateThingShadowRequest, ctx: RequestContext): Promise<IoTData.UpdateThingShadowResponse> {
    return answering(async () => ({
      payload: json(
        await updateShadow(ctx.db, ctx.scope, input.thingName!, input.shadowName ?? '', input.payload ?? new Uint8Array(), ctx.now.getTime(), 'other'),
      ),
    }));
  },

  DeleteThingShadow(input: IoTData.DeleteThingShadowRequest, ctx: RequestContext): Promise<IoTData.DeleteThingShadowResponse> {
    return answering(async () => ({
      payload: json(await deleteShadow(ctx.db, ctx.scope, input.thingName!, input.shadowName ?? '', ctx.now.getTime(), 'other')),
    }));
  },

  async ListNamedShadowsForThing(input: IoTData.ListNamedShadowsForThingRequest, ctx: RequestContext): Promise<IoTData.ListNamedShadowsForThingResponse> {
    const page = pageRequest(`shadows:${input.thingName}`, { maxResults: input.pageSize, nextToken: input.nextToken }, 100, invalidRequest);
    const names = await shadows.listNamed(ctx.db, ctx.scope, input.thingName!, page.after?.[0], page.limit + 1);
    const { items, nextToken } = page.split(names, (name) => [name]);
    return { results: items, nextToken, timestamp: Math.floor(ctx.now.getTime() / 1000) };
  },
};
