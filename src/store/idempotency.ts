// clientToken records: the response an idempotent request produced, stored in the same transaction as its change.
import type { Scope } from '../domain/arn.ts';
import type { Db, IdempotencyRow } from './schema.ts';
import { inScope } from './scope.ts';

export const idempotency = {
  /** The record of a token used at or after `since` (epoch ms); an older one has left its window and counts as absent. */
  get(db: Db, scope: Scope, operation: string, token: string, since: number): Promise<IdempotencyRow | undefined> {
    return db
      .selectFrom('idempotency')
      .selectAll()
      .$call(inScope(scope))
      .where('operation', '=', operation)
      .where('token', '=', token)
      .where('created_at', '>=', since)
      .executeTakeFirst();
  },

  /** Records a token's response, replacing a record of the same token older than `since` (not yet pruned). */
  async put(db: Db, row: IdempotencyRow, since: number): Promise<void> {
    await db
      .deleteFrom('idempotency')
      .$call(inScope(row))
      .where('operation', '=', row.operation)
      .where('token', '=', row.token)
      .where('created_at', '<', since)
      .execute();
    await db.insertInto('idempotency').values(row).execute();
  },

  async pruneBefore(db: Db, before: number): Promise<void> {
    await db.deleteFrom('idempotency').where('created_at', '<', before).execute();
  },
};
