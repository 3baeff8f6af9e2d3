// Rules of the package-version lifecycle (DRAFT → PUBLISHED ⇄ DEPRECATED) and of what each state may change.

export type VersionStatus = 'DRAFT' | 'PUBLISHED' | 'DEPRECATED';
export type VersionAction = 'PUBLISH' | 'DEPRECATE';

/** Combined size of a version's attributes (UTF-8 bytes of keys and values), per the AWS docs. */
export const MAX_ATTRIBUTES_BYTES = 3072;

export type Rule<T> = { ok: true; value: T } | { ok: false; reason: string };

/** The status an action leads to. Repeating the current state is a no-op; nothing returns to DRAFT. */
export function applyAction(from: VersionStatus, action: VersionAction): Rule<VersionStatus> {
  if (action === 'PUBLISH') return { ok: true, value: 'PUBLISHED' };
  if (from === 'DRAFT') return { ok: false, reason: 'A package version in DRAFT status cannot be deprecated; publish it first' };
  return { ok: true, value: 'DEPRECATED' };
}

/** Attributes and artifact are fixed once a version leaves DRAFT; description and recipe stay editable. */
export function checkEditable(status: VersionStatus, change: { attributes?: unknown; artifact?: unknown }): Rule<void> {
  if (status === 'DRAFT') return { ok: true, value: undefined };
  const fixed = [change.attributes !== undefined && 'attributes', change.artifact !== undefined && 'artifact'].filter(Boolean);
  if (fixed.length === 0) return { ok: true, value: undefined };
  return { ok: false, reason: `The ${fixed.join(' and ')} of a package version can be updated only in DRAFT status; this version is ${status}` };
}

export function attributesSize(attributes: Record<string, string>): number {
  let bytes = 0;
  for (const [k, v] of Object.entries(attributes)) bytes += Buffer.byteLength(k) + Buffer.byteLength(v);
  return bytes;
}

export function checkAttributesSize(attributes: Record<string, string> | undefined): Rule<void> {
  const size = attributes ? attributesSize(attributes) : 0;
  if (size <= MAX_ATTRIBUTES_BYTES) return { ok: true, value: undefined };
  return { ok: false, reason: `The combined size of all attributes is ${size} bytes; it must not exceed ${MAX_ATTRIBUTES_BYTES} bytes` };
}

/** Only a PUBLISHED or DEPRECATED version can be a package's default. */
export function canBeDefault(status: VersionStatus): Rule<void> {
  if (status !== 'DRAFT') return { ok: true, value: undefined };
  return { ok: false, reason: 'A package version in DRAFT status cannot be the default version; publish it first' };
}
