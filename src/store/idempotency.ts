// clientToken records: the response an idempotent request produced, stored in the same transaction as its change.
import type { Scope } from '../domain/arn.ts';
import type { Db, IdempotencyRow } from './schema.ts';
import { inScope } from './scope.ts';

export const idempotency = {
  get(db: Db, scope: Scope, operation: string, token: string): Promise<IdempotencyRow | undefined> {
    return db
      .selectFrom('idempotency')
      .selectAll()
      .$call(inScope(scope))
      .where('operation', '=', operation)
      .where('token', '=', token)
      .executeTakeFirst();
  },

  async put(db: Db, row: IdempotencyRow): Promise<void> {
    await db.insertInto('idempotency').values(row).execute();
  },

  async pruneBefore(db: Db, before: number): Promise<void> {
    await db.deleteFrom('idempotency').where('created_at', '<', before).execute();
  },
};
