// Pure rules of the thing registry: attribute merges, attribute limits, group hierarchy and membership limits.

export type Attributes = Record<string, string>;
export type Rule = { ok: true } | { ok: false; reason: string };

/** A thing without a thing type holds at most 3 attributes; a typed thing at most 50 (AWS IoT quotas). */
export const MAX_ATTRIBUTES_UNTYPED = 3;
export const MAX_ATTRIBUTES_TYPED = 50;
/** A thing type has at most 3 searchable attributes. */
export const MAX_SEARCHABLE_ATTRIBUTES = 3;
/** A thing group hierarchy is at most 7 levels deep (a root group is level 1). */
export const MAX_GROUP_DEPTH = 7;
/** A thing belongs to at most 10 static thing groups. */
export const MAX_GROUPS_PER_THING = 10;

/** Attributes as stored: an empty value means "no attribute", so it is dropped. */
export function cleanAttributes(attributes: Attributes | undefined): Attributes {
  const out: Attributes = {};
  for (const [k, v] of Object.entries(attributes ?? {})) if (v !== '') out[k] = v;
  return sortedAttributes(out);
}

/** The attributes after an update: merged (an empty value removes the key) or replaced. */
export function applyAttributePayload(current: Attributes, payload: { attributes?: Attributes; merge?: boolean } | undefined): Attributes {
  if (!payload || payload.attributes === undefined) return current;
  if (!payload.merge) return cleanAttributes(payload.attributes);
  const next: Attributes = { ...current };
  for (const [k, v] of Object.entries(payload.attributes)) {
    if (v === '') delete next[k];
    else next[k] = v;
  }
  return sortedAttributes(next);
}

export function sortedAttributes(attributes: Attributes): Attributes {
  return Object.fromEntries(Object.entries(attributes).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export function sameAttributes(a: Attributes, b: Attributes): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && b[k] === a[k]);
}

/**
 * A value with the explicitly empty parts left out (empty strings, lists and objects, null), keys sorted: two
 * properties that differ only in saying "nothing" explicitly or not compare equal (idempotent re-creates).
 */
export function withoutEmpties(value: unknown): unknown {
  if (Array.isArray(value)) {
    const items = value.map(withoutEmpties).filter((v) => v !== undefined);
    return items.length ? items : undefined;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .map((k) => [k, withoutEmpties((value as Record<string, unknown>)[k])] as const)
      .filter(([, v]) => v !== undefined);
    return entries.length ? Object.fromEntries(entries) : undefined;
  }
  return value === null || value === '' ? undefined : value;
}

export function sameProperties(a: unknown, b: unknown): boolean {
  return JSON.stringify(withoutEmpties(a)) === JSON.stringify(withoutEmpties(b));
}

export function checkAttributeCount(attributes: Attributes, typed: boolean): Rule {
  const max = typed ? MAX_ATTRIBUTES_TYPED : MAX_ATTRIBUTES_UNTYPED;
  const count = Object.keys(attributes).length;
  if (count <= max) return { ok: true };
  return {
    ok: false,
    reason: typed
      ? `A thing with a thing type can have at most ${MAX_ATTRIBUTES_TYPED} attributes; this one would have ${count}`
      : `A thing without a thing type can have at most ${MAX_ATTRIBUTES_UNTYPED} attributes; this one would have ${count}`,
  };
}

export function checkSearchableAttributes(names: string[] | undefined): Rule {
  const count = names?.length ?? 0;
  if (count <= MAX_SEARCHABLE_ATTRIBUTES) return { ok: true };
  return { ok: false, reason: `A thing type can have at most ${MAX_SEARCHABLE_ATTRIBUTES} searchable attributes; ${count} were given` };
}

/** `parentDepth` is the depth of the would-be parent (a root group has depth 1). */
export function checkChildDepth(parentDepth: number): Rule {
  if (parentDepth + 1 <= MAX_GROUP_DEPTH) return { ok: true };
  return { ok: false, reason: `A thing group hierarchy can be at most ${MAX_GROUP_DEPTH} levels deep` };
}

/**
 * Whether a thing may join `group`: at most MAX_GROUPS_PER_THING groups, and at most one group of any hierarchy
 * (groups are in the same hierarchy when they share a root). `current` maps each current group to its root.
 */
export function checkMembership(current: Map<string, string>, group: string, groupRoot: string): Rule {
  if (current.has(group)) return { ok: true };
  if (current.size >= MAX_GROUPS_PER_THING) return { ok: false, reason: `A thing can be in at most ${MAX_GROUPS_PER_THING} thing groups` };
  for (const [other, root] of current) {
    if (root === groupRoot) {
      return {
        ok: false,
        reason: `A thing cannot be in more than one group of the same hierarchy: it is already in ${other}, which shares the root ${root} with ${group}`,
      };
    }
  }
  return { ok: true };
}

/** Indexing configuration rules (UpdateIndexingConfiguration), checked lightly. */
export interface ThingIndexing {
  thingIndexingMode?: string;
  thingConnectivityIndexingMode?: string;
  deviceDefenderIndexingMode?: string;
  namedShadowIndexingMode?: string;
  filter?: { namedShadowNames?: string[] };
}

export function checkThingIndexing(config: ThingIndexing): Rule {
  const mode = config.thingIndexingMode;
  if (mode === 'OFF') {
    const extra = (
      [
        ['thingConnectivityIndexingMode', config.thingConnectivityIndexingMode],
        ['deviceDefenderIndexingMode', config.deviceDefenderIndexingMode],
        ['namedShadowIndexingMode', config.namedShadowIndexingMode],
      ] as const
    ).find(([, v]) => v !== undefined && v !== 'OFF');
    if (extra) return { ok: false, reason: `${extra[0]} ${extra[1]} requires thingIndexingMode REGISTRY or REGISTRY_AND_SHADOW` };
  }
  if (config.namedShadowIndexingMode === 'ON' && mode !== 'REGISTRY_AND_SHADOW') {
    return { ok: false, reason: 'namedShadowIndexingMode ON requires thingIndexingMode REGISTRY_AND_SHADOW' };
  }
  if ((config.filter?.namedShadowNames?.length ?? 0) > 0 && config.namedShadowIndexingMode !== 'ON') {
    return { ok: false, reason: 'filter.namedShadowNames requires namedShadowIndexingMode ON' };
  }
  return { ok: true };
}
