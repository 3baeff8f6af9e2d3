// Migration 0009_billing_groups: billing groups and the one billing group each thing may be in.
import type { Kysely, Migration, RawBuilder } from 'kysely';

export function billingMigration(key: RawBuilder<unknown>): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('billing_groups')
        .addColumn('account', key, (c) => c.notNull())
        .addColumn('region', key, (c) => c.notNull())
        .addColumn('name', key, (c) => c.notNull())
        .addColumn('arn', 'text', (c) => c.notNull())
        .addColumn('group_id', 'text', (c) => c.notNull())
        .addColumn('description', 'text')
        .addColumn('version', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('billing_groups_pk', ['account', 'region', 'name'])
        .execute();
      // Keyed by thing: the database itself keeps a thing in at most one billing group.
      await db.schema
        .createTable('billing_group_members')
        .addColumn('account', key, (c) => c.notNull())
        .addColumn('region', key, (c) => c.notNull())
        .addColumn('thing_name', key, (c) => c.notNull())
        .addColumn('group_name', key, (c) => c.notNull())
        .addColumn('added_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('billing_group_members_pk', ['account', 'region', 'thing_name'])
        .execute();
      await db.schema
        .createIndex('billing_group_members_group')
        .on('billing_group_members')
        .columns(['account', 'region', 'group_name', 'thing_name'])
        .execute();
    },
  };
}
