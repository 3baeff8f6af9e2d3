// clientToken records: the response an idempotent request produced, stored in the same transaction as its change.
// Every idempotent write runs these statements (twice the lookup), so they are compiled once (prepared.ts).
import type { Scope } from '../domain/arn.ts';
import { prepared } from './prepared.ts';
import type { Db, IdempotencyRow } from './schema.ts';
import { inScope } from './scope.ts';

type TokenKey = Scope & { operation: string; token: string; since: number };

const lookup = prepared((db, p: TokenKey) =>
  db
    .selectFrom('idempotency')
    .selectAll()
    .$call(inScope(p))
    .where('operation', '=', p.operation)
    .where('token', '=', p.token)
    .where('created_at', '>=', p.since),
);
const deleteExpired = prepared((db, p: TokenKey) =>
  db.deleteFrom('idempotency').$call(inScope(p)).where('operation', '=', p.operation).where('token', '=', p.token).where('created_at', '<', p.since),
);
const insert = prepared((db, p: IdempotencyRow) =>
  db.insertInto('idempotency').values({
    account: p.account,
    region: p.region,
    operation: p.operation,
    token: p.token,
    request_hash: p.request_hash,
    response: p.response,
    created_at: p.created_at,
  }),
);

export const idempotency = {
  /** The record of a token used at or after `since` (epoch ms); an older one has left its window and counts as absent. */
  async get(db: Db, scope: Scope, operation: string, token: string, since: number): Promise<IdempotencyRow | undefined> {
    return (await lookup(db, { account: scope.account, region: scope.region, operation, token, since }))[0];
  },

  /** Records a token's response, replacing a record of the same token older than `since` (not yet pruned). */
  async put(db: Db, row: IdempotencyRow, since: number): Promise<void> {
    await deleteExpired(db, { account: row.account, region: row.region, operation: row.operation, token: row.token, since });
    await insert(db, row);
  },

  async pruneBefore(db: Db, before: number): Promise<void> {
    await db.deleteFrom('idempotency').where('created_at', '<', before).execute();
  },
};
