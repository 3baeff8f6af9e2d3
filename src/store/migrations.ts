// Schema migrations, written once for SQLite and PostgreSQL with portable column types.
import { sql, type Kysely, type Migration } from 'kysely';

export type Dialect = 'sqlite' | 'postgres';

/** Text compared byte-wise on both databases, so keyset pagination orders rows the same way. */
const keyText = (dialect: Dialect) => (dialect === 'postgres' ? sql`text collate "C"` : sql`text`);

export function migrations(dialect: Dialect): Record<string, Migration> {
  const key = keyText(dialect);
  return {
    '0001_package_catalog': {
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('packages')
          .addColumn('account', key, (c) => c.notNull())
          .addColumn('region', key, (c) => c.notNull())
          .addColumn('name', key, (c) => c.notNull())
          .addColumn('arn', 'text', (c) => c.notNull())
          .addColumn('description', 'text')
          .addColumn('default_version', 'text')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('packages_pk', ['account', 'region', 'name'])
          .execute();
        await db.schema
          .createTable('package_versions')
          .addColumn('account', key, (c) => c.notNull())
          .addColumn('region', key, (c) => c.notNull())
          .addColumn('package_name', key, (c) => c.notNull())
          .addColumn('version_name', key, (c) => c.notNull())
          .addColumn('arn', 'text', (c) => c.notNull())
          .addColumn('description', 'text')
          .addColumn('attributes', 'text')
          .addColumn('artifact', 'text')
          .addColumn('recipe', 'text')
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('error_reason', 'text')
          .addColumn('sbom', 'text')
          .addColumn('sbom_validation_status', 'text')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('package_versions_pk', ['account', 'region', 'package_name', 'version_name'])
          .execute();
        await db.schema
          .createTable('tags')
          .addColumn('account', key, (c) => c.notNull())
          .addColumn('region', key, (c) => c.notNull())
          .addColumn('resource_arn', key, (c) => c.notNull())
          .addColumn('tag_key', key, (c) => c.notNull())
          .addColumn('tag_value', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('tags_pk', ['account', 'region', 'resource_arn', 'tag_key'])
          .execute();
        await db.schema
          .createTable('package_config')
          .addColumn('account', key, (c) => c.notNull())
          .addColumn('region', key, (c) => c.notNull())
          .addColumn('enabled', 'integer', (c) => c.notNull())
          .addColumn('role_arn', 'text')
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('package_config_pk', ['account', 'region'])
          .execute();
        await db.schema
          .createTable('idempotency')
          .addColumn('account', key, (c) => c.notNull())
          .addColumn('region', key, (c) => c.notNull())
          .addColumn('operation', key, (c) => c.notNull())
          .addColumn('token', key, (c) => c.notNull())
          .addColumn('request_hash', 'text', (c) => c.notNull())
          .addColumn('response', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('idempotency_pk', ['account', 'region', 'operation', 'token'])
          .execute();
        await db.schema.createIndex('idempotency_created').on('idempotency').column('created_at').execute();
      },
    },
  };
}
