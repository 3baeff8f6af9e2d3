// `$package` after a SUCCEEDED execution: the engine decides (src/engine/jobs.ts, installedPackages) and records a
// `package.installed` effect per thing; this handler hands the versions to whatever writes the thing's `$package`
// shadow (`state.reported.<pkg>.version`; null removes the package, sibling packages stay untouched).
import type { Scope } from '../domain/arn.ts';
import type { ClaimedEffect } from '../store/effects.ts';
import type { Db } from '../store/schema.ts';
import type { Store } from '../store/store.ts';

/** Writes reported package versions into a thing's `$package` shadow, in the caller's transaction. */
export type PackageShadowWriter = (db: Db, scope: Scope, thingName: string, packages: Record<string, string | null>) => Promise<void>;

/** The `package.installed` handler, given the shadow writer. */
export function recordInstalledPackages(store: Store, write: PackageShadowWriter) {
  return (effect: ClaimedEffect<'package.installed'>) => store.transaction((tx) => write(tx, effect.scope, effect.subject, effect.payload.packages));
}
