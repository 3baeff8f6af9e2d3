// Device shadow rules, as AWS IoT's Device Shadow service applies them: request validation, the desired/reported
// merge (`null` deletes), per-field metadata timestamps, versions, the delta, and the response documents.
// Pure: the caller passes the stored shadow and the time; nothing here reads or writes anything.
// AWS's reference: "Device Shadow service documents" and "Device Shadow error messages" (AWS IoT developer guide).

export type Json = null | boolean | number | string | Json[] | JsonObject;
export interface JsonObject {
  [key: string]: Json;
}

export type Section = 'desired' | 'reported';
const SECTIONS: readonly Section[] = ['desired', 'reported'];

/** The stored part of a shadow: its state sections, their metadata mirror, and its version. */
export interface ShadowState {
  state: { desired?: JsonObject; reported?: JsonObject };
  metadata: { desired?: JsonObject; reported?: JsonObject };
  version: number;
}

export const SHADOW_LIMITS = {
  /** Each of desired and reported, as compact JSON in UTF-8 (metadata does not count). */
  sectionBytes: 8 * 1024,
  /** Levels of nesting inside desired or reported. */
  depth: 6,
  clientTokenBytes: 64,
  /** A whole request payload (AWS's MQTT message limit). */
  payloadBytes: 128 * 1024,
  /** A deleted shadow's version carries on if it is written again within this time (AWS: 48 hours). */
  versionMemoryMs: 48 * 60 * 60 * 1000,
};

/** The reserved named shadow the Software Package Catalog records installed versions in. */
export const PACKAGE_SHADOW = '$package';

/** An error AWS reports as `{code, message}` (MQTT) or with the HTTP status `code` (REST). */
export class ShadowError extends Error {
  constructor(
    readonly code: 400 | 404 | 409 | 413 | 415 | 500,
    message: string,
  ) {
    super(message);
  }
}

const bad = (message: string) => new ShadowError(400, message);
export const MESSAGES = {
  invalidJson: 'Payload contains invalid json',
  missingState: 'Missing required node: state',
  stateNotObject: 'State node must be an object',
  invalidNode: 'State contains an invalid node',
  invalidVersion: 'Invalid version',
  invalidClientToken: 'Invalid clientToken',
  tooDeep: `JSON contains too many levels of nesting; maximum is ${SHADOW_LIMITS.depth}`,
  versionConflict: 'Version conflict',
  tooLarge: 'The payload exceeds the maximum size allowed',
  encoding: 'Unsupported documented encoding; supported encoding is UTF-8',
};

/** The shadow's name in messages: the thing's for the classic shadow, `thing~name` for a named one (as AWS). */
export const shadowLabel = (thingName: string, shadowName: string) => (shadowName === '' ? thingName : `${thingName}~${shadowName}`);
export const noShadow = (thingName: string, shadowName: string) => new ShadowError(404, `No shadow exists with name: '${shadowLabel(thingName, shadowName)}'`);

export interface UpdateRequest {
  /** Each given section: an object to merge, or null to remove the section. */
  state: { desired?: JsonObject | null; reported?: JsonObject | null };
  clientToken?: string;
  version?: number;
}

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Decodes a payload as UTF-8 JSON; refuses invalid UTF-8 (415), oversized payloads (413) and bad JSON (400). */
export function parsePayload(payload: Uint8Array): unknown {
  if (payload.length > SHADOW_LIMITS.payloadBytes) throw new ShadowError(413, MESSAGES.tooLarge);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(payload);
  } catch {
    throw new ShadowError(415, MESSAGES.encoding);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw bad(MESSAGES.invalidJson);
  }
}

/** The clientToken of a request document, if it carries a valid one (errors echo it too). */
export function clientTokenOf(doc: unknown): string | undefined {
  if (!isObject(doc) || typeof doc.clientToken !== 'string') return undefined;
  return Buffer.byteLength(doc.clientToken) <= SHADOW_LIMITS.clientTokenBytes ? doc.clientToken : undefined;
}

/** Checks a clientToken-only request (get, delete); an empty payload is fine, as on AWS. */
export function parseTokenRequest(payload: Uint8Array): { clientToken?: string } {
  if (payload.length === 0) return {};
  const doc = parsePayload(payload);
  if (!isObject(doc)) return {};
  checkClientToken(doc);
  return { clientToken: clientTokenOf(doc) };
}

function checkClientToken(doc: JsonObject) {
  if (doc.clientToken === undefined) return;
  if (typeof doc.clientToken !== 'string' || Buffer.byteLength(doc.clientToken) > SHADOW_LIMITS.clientTokenBytes) throw bad(MESSAGES.invalidClientToken);
}

/** Validates an update request document for the shadow `shadowName` ('' is the classic shadow). */
export function parseUpdateRequest(payload: Uint8Array, shadowName: string): UpdateRequest {
  const doc = parsePayload(payload);
  if (!isObject(doc)) throw bad(MESSAGES.invalidJson);
  checkClientToken(doc);
  if (doc.version !== undefined && (typeof doc.version !== 'number' || !Number.isSafeInteger(doc.version) || doc.version < 0))
    throw bad(MESSAGES.invalidVersion);
  if (doc.state === undefined || doc.state === null) throw bad(MESSAGES.missingState);
  if (!isObject(doc.state)) throw bad(MESSAGES.stateNotObject);
  const state: UpdateRequest['state'] = {};
  for (const [key, value] of Object.entries(doc.state)) {
    if (key !== 'desired' && key !== 'reported') throw bad(`${MESSAGES.invalidNode}: ${key}`);
    if (value !== null && !isObject(value)) throw bad(key === 'desired' ? 'Desired node must be an object' : 'Reported node must be an object');
    if (value !== null) checkValue(value, 0);
    state[key] = value;
  }
  if (shadowName === PACKAGE_SHADOW) checkPackageState(state);
  return { state, clientToken: doc.clientToken as string | undefined, version: doc.version as number | undefined };
}

/** Depth (objects and arrays each add a level) and no null inside arrays (AWS refuses them). */
function checkValue(value: Json, depth: number) {
  if (value === null || typeof value !== 'object') return;
  if (depth + 1 > SHADOW_LIMITS.depth && (Array.isArray(value) ? value.length > 0 : Object.keys(value).length > 0)) throw bad(MESSAGES.tooDeep);
  if (Array.isArray(value)) {
    for (const item of value) {
      if (item === null) throw bad(`${MESSAGES.invalidNode}: arrays cannot hold null`);
      checkValue(item, depth + 1);
    }
  } else {
    for (const item of Object.values(value)) checkValue(item, depth + 1);
  }
}

/** `$package`: only `reported`, each package an object of `version` (string) and `attributes` (string map), or null. */
function checkPackageState(state: UpdateRequest['state']) {
  if (state.desired !== undefined) throw bad(`${MESSAGES.invalidNode}: the ${PACKAGE_SHADOW} shadow accepts only a reported section`);
  for (const [pkg, entry] of Object.entries(state.reported ?? {})) {
    if (entry === null) continue;
    if (!isObject(entry)) throw bad(`${MESSAGES.invalidNode}: package '${pkg}' must be an object of version and attributes`);
    for (const [key, value] of Object.entries(entry)) {
      if (key === 'version') {
        if (value !== null && typeof value !== 'string') throw bad(`${MESSAGES.invalidNode}: ${pkg}.version must be a string`);
      } else if (key === 'attributes') {
        if (value !== null && !(isObject(value) && Object.values(value).every((v) => v === null || typeof v === 'string'))) {
          throw bad(`${MESSAGES.invalidNode}: ${pkg}.attributes must map names to strings`);
        }
      } else {
        throw bad(`${MESSAGES.invalidNode}: package '${pkg}' may hold only version and attributes, not ${key}`);
      }
    }
  }
}

/** The metadata mirror of a value: a timestamp per leaf, objects and arrays mirrored element by element. */
export function metadataOf(value: Json, timestamp: number): Json {
  if (Array.isArray(value)) return value.map((v) => metadataOf(v, timestamp));
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, metadataOf(v, timestamp)]));
  return { timestamp };
}

/** Merges `patch` into `target` (and its metadata) in place: null deletes, objects merge, anything else replaces. */
function mergeInto(target: JsonObject, meta: JsonObject, patch: JsonObject, timestamp: number) {
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) {
      delete target[key];
      delete meta[key];
    } else if (isObject(value)) {
      // An empty object sets no field: it neither creates nor replaces anything.
      if (Object.keys(value).length === 0) continue;
      if (!isObject(target[key])) {
        target[key] = {};
        meta[key] = {};
      }
      if (!isObject(meta[key])) meta[key] = {};
      mergeInto(target[key] as JsonObject, meta[key] as JsonObject, value, timestamp);
      // An object left without fields is no longer part of the document.
      if (Object.keys(target[key] as JsonObject).length === 0) {
        delete target[key];
        delete meta[key];
      }
    } else {
      target[key] = value;
      meta[key] = metadataOf(value, timestamp);
    }
  }
}

const deepEqual = (a: Json | undefined, b: Json | undefined): boolean => {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) return a.length === (b as Json[]).length && a.every((v, i) => deepEqual(v, (b as Json[])[i]));
  const ka = Object.keys(a);
  const kb = b as JsonObject;
  return ka.length === Object.keys(kb).length && ka.every((k) => k in kb && deepEqual(a[k], kb[k]));
};

/**
 * The delta: every field of desired that reported lacks or holds differently, with the desired metadata of each.
 * Nested objects are compared field by field; arrays are values. Undefined when desired and reported agree.
 */
export function deltaOf(
  desired: JsonObject | undefined,
  reported: JsonObject | undefined,
  desiredMeta: JsonObject | undefined,
): { state: JsonObject; metadata: JsonObject } | undefined {
  if (!desired) return undefined;
  const state: JsonObject = {};
  const metadata: JsonObject = {};
  for (const [key, want] of Object.entries(desired)) {
    const have = reported?.[key];
    const meta = desiredMeta?.[key];
    if (isObject(want) && isObject(have)) {
      const inner = deltaOf(want, have, isObject(meta) ? meta : undefined);
      if (inner) {
        state[key] = inner.state;
        metadata[key] = inner.metadata;
      }
    } else if (!deepEqual(want, have)) {
      state[key] = want;
      metadata[key] = meta ?? metadataOf(want, 0);
    }
  }
  return Object.keys(state).length ? { state, metadata } : undefined;
}

export interface UpdateResult {
  next: ShadowState;
  /** The /update/accepted document (and UpdateThingShadow's answer). */
  accepted: JsonObject;
  /** The /update/delta document, when the update set desired and desired still differs from reported. */
  delta?: JsonObject;
  /** The /update/documents document. */
  documents: JsonObject;
}

/**
 * Applies a validated update to the live shadow `current` (undefined: none). `baseVersion` is the version a new
 * shadow continues from (a recently deleted one's, else 0). `now` is epoch milliseconds.
 */
export function applyUpdate(current: ShadowState | undefined, baseVersion: number, request: UpdateRequest, now: number): UpdateResult {
  if (request.version !== undefined && (!current || request.version !== current.version)) throw new ShadowError(409, MESSAGES.versionConflict);
  const timestamp = Math.floor(now / 1000);
  const next: ShadowState = structuredClone(current ?? { state: {}, metadata: {}, version: baseVersion });
  next.version += 1;
  const acceptedMeta: JsonObject = {};
  for (const section of SECTIONS) {
    const patch = request.state[section];
    if (patch === undefined) continue;
    acceptedMeta[section] = patch === null ? { timestamp } : metadataOf(patch, timestamp);
    if (patch === null) {
      delete next.state[section];
      delete next.metadata[section];
      continue;
    }
    const target = next.state[section] ?? {};
    const meta = next.metadata[section] ?? {};
    mergeInto(target, meta, patch, timestamp);
    if (Object.keys(target).length === 0) {
      delete next.state[section];
      delete next.metadata[section];
    } else {
      if (Buffer.byteLength(JSON.stringify(target)) > SHADOW_LIMITS.sectionBytes) throw new ShadowError(413, MESSAGES.tooLarge);
      next.state[section] = target;
      next.metadata[section] = meta;
    }
  }
  const token: JsonObject = request.clientToken === undefined ? {} : { clientToken: request.clientToken };
  const accepted: JsonObject = { state: request.state as JsonObject, metadata: acceptedMeta, version: next.version, timestamp, ...token };
  const delta = request.state.desired ? deltaOf(next.state.desired, next.state.reported, next.metadata.desired) : undefined;
  const documents: JsonObject = {
    ...(current ? { previous: documentOf(current) } : {}),
    current: documentOf(next),
    timestamp,
    ...token,
  };
  return { next, accepted, documents, delta: delta && { version: next.version, timestamp, state: delta.state, metadata: delta.metadata, ...token } };
}

/** A shadow as /documents shows it: state and metadata without delta, and the version. */
function documentOf(shadow: ShadowState): JsonObject {
  return { state: shadow.state as JsonObject, metadata: shadow.metadata as JsonObject, version: shadow.version };
}

/** The /get/accepted document (and GetThingShadow's answer): state with delta, metadata, version, timestamp. */
export function getDocument(shadow: ShadowState, now: number, clientToken?: string): JsonObject {
  const delta = deltaOf(shadow.state.desired, shadow.state.reported, shadow.metadata.desired);
  return {
    state: { ...shadow.state, ...(delta ? { delta: delta.state } : {}) },
    metadata: shadow.metadata as JsonObject,
    version: shadow.version,
    timestamp: Math.floor(now / 1000),
    ...(clientToken === undefined ? {} : { clientToken }),
  };
}

/** The /delete/accepted document (and DeleteThingShadow's answer). */
export function deleteDocument(version: number, now: number, clientToken?: string): JsonObject {
  return { version, timestamp: Math.floor(now / 1000), ...(clientToken === undefined ? {} : { clientToken }) };
}

/** The error document of /rejected topics. */
export function errorDocument(err: ShadowError, now: number, clientToken?: string): JsonObject {
  return { code: err.code, message: err.message, timestamp: Math.floor(now / 1000), ...(clientToken === undefined ? {} : { clientToken }) };
}

/** The version a shadow written now continues from: a deleted shadow's within 48 hours, else 0. */
export function baseVersionAfterDelete(deletedVersion: number, deletedAt: number, now: number): number {
  return now - deletedAt <= SHADOW_LIMITS.versionMemoryMs ? deletedVersion : 0;
}

/** A request that sets `state.reported.<pkg>.version` for each package (null removes the package). */
export function packageVersionsRequest(changes: Record<string, string | null>): UpdateRequest {
  const reported: JsonObject = {};
  for (const [pkg, version] of Object.entries(changes)) reported[pkg] = version === null ? null : { version };
  return { state: { reported } };
}
