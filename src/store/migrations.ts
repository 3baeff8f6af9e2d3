// Schema migrations, written once for SQLite and PostgreSQL with portable column types.
import { sql, type Kysely, type Migration } from 'kysely';
import { billingMigration } from './billing-migration.ts';
import { busMigration } from './bus-migration.ts';
import { effectsMigration } from './effects-migration.ts';
import { hardeningMigration } from './hardening-migration.ts';
import { engineMigration } from './engine-migration.ts';
import { deviceJobsMigration } from './device-jobs-migration.ts';
import { jobsMigration } from './jobs-migration.ts';
import { shadowsMigration } from './shadows-migration.ts';

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
    // The embedded S3 endpoint's metadata (src/blob/object-store.ts). Buckets are scoped by account only: S3 bucket names are
    // not regional; `region` records where the bucket was created. The bytes live in <dataDir>/objects/.
    '0002_object_storage': {
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('s3_buckets')
          .addColumn('account', key, (c) => c.notNull())
          .addColumn('name', key, (c) => c.notNull())
          .addColumn('region', 'text', (c) => c.notNull())
          .addColumn('versioning', 'text') // null (never set), Enabled or Suspended
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('s3_buckets_pk', ['account', 'name'])
          .execute();
        await db.schema
          .createTable('s3_objects')
          .addColumn('account', key, (c) => c.notNull())
          .addColumn('bucket', key, (c) => c.notNull())
          .addColumn('object_key', key, (c) => c.notNull())
          .addColumn('version_id', key, (c) => c.notNull()) // 'null' for unversioned writes, as S3
          .addColumn('is_latest', 'integer', (c) => c.notNull())
          .addColumn('delete_marker', 'integer', (c) => c.notNull())
          .addColumn('size', 'bigint', (c) => c.notNull())
          .addColumn('etag', 'text', (c) => c.notNull())
          .addColumn('content_type', 'text')
          .addColumn('user_metadata', 'text') // JSON object of x-amz-meta-* (names without the prefix)
          .addColumn('checksum', 'text') // ALGORITHM:base64, when the upload carried one
          .addColumn('storage_id', 'text') // file under objects/, null for delete markers
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('s3_objects_pk', ['account', 'bucket', 'object_key', 'version_id'])
          .execute();
        await db.schema.createIndex('s3_objects_latest').on('s3_objects').columns(['account', 'bucket', 'is_latest', 'object_key']).execute();
      },
    },
    // The thing registry: things (attributes also one row each, for ListThings filters), thing types, static thing
    // groups (parent_name makes the hierarchy), memberships and the fleet indexing configuration.
    '0003_things': {
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('things')
          .addColumn('account', key, (c) => c.notNull())
          .addColumn('region', key, (c) => c.notNull())
          .addColumn('name', key, (c) => c.notNull())
          .addColumn('arn', 'text', (c) => c.notNull())
          .addColumn('thing_id', 'text', (c) => c.notNull())
          .addColumn('thing_type_name', key)
          .addColumn('attributes', 'text', (c) => c.notNull())
          .addColumn('version', 'bigint', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('things_pk', ['account', 'region', 'name'])
          .execute();
        await db.schema.createIndex('things_type').on('things').columns(['account', 'region', 'thing_type_name', 'name']).execute();
        await db.schema
          .createTable('thing_attributes')
          .addColumn('account', key, (c) => c.notNull())
          .addColumn('region', key, (c) => c.notNull())
          .addColumn('thing_name', key, (c) => c.notNull())
          .addColumn('attr_name', key, (c) => c.notNull())
          .addColumn('attr_value', key, (c) => c.notNull())
          .addPrimaryKeyConstraint('thing_attributes_pk', ['account', 'region', 'thing_name', 'attr_name'])
          .execute();
        await db.schema.createIndex('thing_attributes_value').on('thing_attributes').columns(['account', 'region', 'attr_name', 'attr_value']).execute();
        await db.schema
          .createTable('thing_types')
          .addColumn('account', key, (c) => c.notNull())
          .addColumn('region', key, (c) => c.notNull())
          .addColumn('name', key, (c) => c.notNull())
          .addColumn('arn', 'text', (c) => c.notNull())
          .addColumn('thing_type_id', 'text', (c) => c.notNull())
          .addColumn('properties', 'text', (c) => c.notNull())
          .addColumn('deprecated', 'integer', (c) => c.notNull())
          .addColumn('deprecated_at', 'bigint')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('thing_types_pk', ['account', 'region', 'name'])
          .execute();
        await db.schema
          .createTable('thing_groups')
          .addColumn('account', key, (c) => c.notNull())
          .addColumn('region', key, (c) => c.notNull())
          .addColumn('name', key, (c) => c.notNull())
          .addColumn('arn', 'text', (c) => c.notNull())
          .addColumn('group_id', 'text', (c) => c.notNull())
          .addColumn('parent_name', key)
          .addColumn('description', 'text')
          .addColumn('attributes', 'text', (c) => c.notNull())
          .addColumn('version', 'bigint', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('thing_groups_pk', ['account', 'region', 'name'])
          .execute();
        await db.schema.createIndex('thing_groups_parent').on('thing_groups').columns(['account', 'region', 'parent_name', 'name']).execute();
        await db.schema
          .createTable('thing_group_members')
          .addColumn('account', key, (c) => c.notNull())
          .addColumn('region', key, (c) => c.notNull())
          .addColumn('group_name', key, (c) => c.notNull())
          .addColumn('thing_name', key, (c) => c.notNull())
          .addColumn('added_at', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('thing_group_members_pk', ['account', 'region', 'group_name', 'thing_name'])
          .execute();
        await db.schema.createIndex('thing_group_members_thing').on('thing_group_members').columns(['account', 'region', 'thing_name', 'group_name']).execute();
        await db.schema
          .createTable('indexing_config')
          .addColumn('account', key, (c) => c.notNull())
          .addColumn('region', key, (c) => c.notNull())
          .addColumn('thing_config', 'text', (c) => c.notNull())
          .addColumn('group_config', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('indexing_config_pk', ['account', 'region'])
          .execute();
      },
    },
    '0004_jobs': jobsMigration(key),
    // SBOMs: per-file validation results, and on each version a generation (bumped by every associate and
    // disassociate, so a validation of a superseded SBOM writes nothing) and the lease of the validator working on it.
    '0005_sbom': {
      async up(db: Kysely<any>) {
        await db.schema
          .alterTable('package_versions')
          .addColumn('sbom_generation', 'bigint', (c) => c.notNull().defaultTo(0))
          .execute();
        await db.schema.alterTable('package_versions').addColumn('sbom_claimed_until', 'bigint').execute();
        await db.schema.createIndex('package_versions_sbom_status').on('package_versions').columns(['sbom_validation_status', 'sbom_claimed_until']).execute();
        await db.schema
          .createTable('sbom_results')
          .addColumn('account', key, (c) => c.notNull())
          .addColumn('region', key, (c) => c.notNull())
          .addColumn('package_name', key, (c) => c.notNull())
          .addColumn('version_name', key, (c) => c.notNull())
          .addColumn('seq', 'integer', (c) => c.notNull())
          .addColumn('file_name', 'text', (c) => c.notNull())
          .addColumn('validation_result', 'text', (c) => c.notNull())
          .addColumn('error_code', 'text')
          .addColumn('error_message', 'text')
          .addColumn('report', 'text', (c) => c.notNull()) // JSON {format?, errors, warnings}
          .addPrimaryKeyConstraint('sbom_results_pk', ['account', 'region', 'package_name', 'version_name', 'seq'])
          .execute();
      },
    },
    '0006_effects': effectsMigration(dialect, key),
    '0007_shadows': shadowsMigration(key),
    '0008_bus': busMigration(dialect, key),
    '0009_billing_groups': billingMigration(key),
    '0010_device_jobs': deviceJobsMigration(key),
    '0012_hardening': hardeningMigration,
    '0013_engine': engineMigration(key),
  };
}
