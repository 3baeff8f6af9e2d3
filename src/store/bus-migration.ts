// Migration 0008_bus: MQTT connectivity per client id (what fleet indexing will search) and the retained messages
// of each account and region, durable across restarts.
import type { Kysely, Migration, RawBuilder } from 'kysely';
import type { Dialect } from './migrations.ts';

export function busMigration(dialect: Dialect, key: RawBuilder<unknown>): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('mqtt_connectivity')
        .addColumn('account', key, (c) => c.notNull())
        .addColumn('region', key, (c) => c.notNull())
        .addColumn('client_id', key, (c) => c.notNull())
        .addColumn('connected', 'integer', (c) => c.notNull())
        .addColumn('session_identifier', 'text', (c) => c.notNull())
        .addColumn('principal_identifier', 'text', (c) => c.notNull())
        .addColumn('ip_address', 'text', (c) => c.notNull())
        .addColumn('version_number', 'bigint', (c) => c.notNull())
        .addColumn('connected_at', 'bigint', (c) => c.notNull())
        .addColumn('disconnected_at', 'bigint')
        .addColumn('disconnect_reason', 'text')
        .addColumn('client_initiated_disconnect', 'integer')
        .addPrimaryKeyConstraint('mqtt_connectivity_pk', ['account', 'region', 'client_id'])
        .execute();
      await db.schema
        .createTable('retained_messages')
        .addColumn('account', key, (c) => c.notNull())
        .addColumn('region', key, (c) => c.notNull())
        .addColumn('topic', key, (c) => c.notNull())
        .addColumn('payload', dialect === 'postgres' ? 'bytea' : 'blob', (c) => c.notNull())
        .addColumn('qos', 'integer', (c) => c.notNull())
        .addColumn('user_properties', 'text')
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('retained_messages_pk', ['account', 'region', 'topic'])
        .execute();
    },
  };
}
