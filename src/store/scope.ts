// Every query of a scoped table filters on (account, region): one helper, so no query forgets one of them.
import type { Scope } from '../domain/arn.ts';

/** For Kysely's `$call`: `db.selectFrom('packages').$call(inScope(scope))`. */
export const inScope =
  (scope: Scope) =>
  <QB extends { where: (...args: any[]) => any }>(query: QB): QB =>
    query.where('account', '=', scope.account).where('region', '=', scope.region);
