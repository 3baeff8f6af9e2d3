// Table types of the store. Times are integer epoch milliseconds; JSON documents are text.
import type { Kysely } from 'kysely';

/** Every row belongs to one (account, region): nothing crosses that line. */
export interface Scoped {
  account: string;
  region: string;
}

export interface PackageRow extends Scoped {
  name: string;
  arn: string;
  description: string | null;
  default_version: string | null;
  created_at: number;
  updated_at: number;
}

export interface PackageVersionRow extends Scoped {
  package_name: string;
  version_name: string;
  arn: string;
  description: string | null;
  attributes: string | null; // JSON object
  artifact: string | null; // JSON S3Location
  recipe: string | null;
  status: string;
  error_reason: string | null;
  sbom: string | null; // JSON S3Location
  sbom_validation_status: string | null;
  created_at: number;
  updated_at: number;
}

export interface TagRow extends Scoped {
  resource_arn: string;
  tag_key: string;
  tag_value: string;
}

export interface PackageConfigRow extends Scoped {
  enabled: number;
  role_arn: string | null;
  updated_at: number;
}

export interface IdempotencyRow extends Scoped {
  operation: string;
  token: string;
  request_hash: string;
  response: string;
  created_at: number;
}

export interface Database {
  packages: PackageRow;
  package_versions: PackageVersionRow;
  tags: TagRow;
  package_config: PackageConfigRow;
  idempotency: IdempotencyRow;
}

/** The database or a transaction on it: repositories accept either. */
export type Db = Kysely<Database>;
