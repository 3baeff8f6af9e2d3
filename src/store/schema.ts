// Table types of the store. Times are integer epoch milliseconds; JSON documents are text.
import type { Generated, Kysely } from 'kysely';

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
  /** Bumped by every associate and disassociate; a validation writes its results only if it is unchanged. Default 0. */
  sbom_generation?: number;
  /** Epoch ms until which a validator holds the IN_PROGRESS validation (its lease); null when unclaimed. */
  sbom_claimed_until?: number | null;
  /** Claims of the current SBOM validation so far (reset by associate and disassociate). Default 0. */
  sbom_attempts?: number;
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

/** A bucket of the embedded S3 endpoint; scoped by account only, as bucket names are not regional. */
export interface S3BucketRow {
  account: string;
  name: string;
  region: string;
  versioning: string | null; // null, 'Enabled' or 'Suspended'
  created_at: number;
}

/** One version of an object (or a delete marker) of the embedded S3 endpoint. */
export interface S3ObjectRow {
  account: string;
  bucket: string;
  object_key: string;
  version_id: string; // 'null' for unversioned writes
  is_latest: number;
  delete_marker: number;
  size: number;
  etag: string; // quoted, as S3 sends it
  content_type: string | null;
  user_metadata: string | null; // JSON object
  checksum: string | null; // ALGORITHM:base64
  storage_id: string | null;
  created_at: number;
}

/** A job (IoT Jobs control plane). JSON configs are text; `document` is the resolved form, `document_before` as written. */
export interface JobRow extends Scoped {
  job_id: string;
  arn: string;
  status: string;
  target_selection: string;
  targets: string; // JSON array of target ARNs, as given
  description: string | null;
  document: string;
  document_before: string;
  document_source: string | null;
  destinations: string | null; // JSON array, $default resolved
  destinations_before: string | null; // JSON array, as given
  document_parameters: string | null; // JSON object
  presigned_url_config: string | null;
  rollout_config: string | null;
  abort_config: string | null;
  timeout_config: string | null;
  retry_config: string | null;
  scheduling_config: string | null;
  namespace_id: string | null;
  job_template_arn: string | null;
  force_canceled: number | null;
  reason_code: string | null;
  comment: string | null;
  created_at: number;
  updated_at: number;
  completed_at: number | null;
  /** 1 while the engine still has targets to expand into executions (processingTargets, isConcurrent). */
  fanout_pending: number;
  /** JSON {target, after}: the target index and last thing name the fan-out reached; null from the start. */
  fanout_cursor: string | null;
  /** Things released (notified) by the rollout so far. */
  released: number;
}

/** One target of a job (thing or thing group), for ListJobs' thing-group filters. */
export interface JobTargetRow extends Scoped {
  job_id: string;
  target_arn: string;
  kind: string; // 'thing' | 'thinggroup'
  name: string;
  group_id: string | null;
}

/** One execution of a job on a thing; a retry is a new row with the next execution_number. */
export interface JobExecutionRow extends Scoped {
  job_id: string;
  thing_name: string;
  execution_number: number;
  thing_arn: string;
  status: string;
  version_number: number;
  retry_attempt: number;
  status_details: string | null; // JSON object
  force_canceled: number | null;
  queued_at: number;
  started_at: number | null;
  last_updated_at: number;
  in_progress_deadline_at: number | null;
  step_deadline_at: number | null;
  /** 1 once the engine has handled the execution's end (retry, `$package`, events); 0 while it is open or unhandled. */
  settled?: number;
}

/** The account's event configuration (UpdateEventConfigurations). */
export interface EventConfigurationRow extends Scoped {
  config: string; // JSON {eventType: {Enabled: boolean}}
  updated_at: number;
}

/** What a thing's devices were last notified of (notify / notify-next / notify-namespace). */
export interface JobNotifyStateRow extends Scoped {
  thing_name: string;
  list: string; // JSON array
  head: string | null;
  namespaced: string; // JSON object
  updated_at: number;
}

/** A custom job template. */
export interface JobTemplateRow extends Scoped {
  template_id: string;
  arn: string;
  description: string;
  document: string | null;
  document_source: string | null;
  presigned_url_config: string | null;
  rollout_config: string | null;
  abort_config: string | null;
  timeout_config: string | null;
  retry_config: string | null;
  maintenance_windows: string | null;
  destinations: string | null;
  created_at: number;
}

/** A registered thing. `attributes` is a JSON object of strings. */
export interface ThingRow extends Scoped {
  name: string;
  arn: string;
  thing_id: string;
  thing_type_name: string | null;
  attributes: string; // JSON object
  version: number;
  created_at: number;
  updated_at: number;
}

/** One attribute of a thing, kept alongside ThingRow.attributes so ListThings can filter in SQL. */
export interface ThingAttributeRow extends Scoped {
  thing_name: string;
  attr_name: string;
  attr_value: string;
}

export interface ThingTypeRow extends Scoped {
  name: string;
  arn: string;
  thing_type_id: string;
  properties: string; // JSON ThingTypeProperties as given
  deprecated: number;
  deprecated_at: number | null;
  created_at: number;
}

/** A static thing group; `parent_name` is null for a root group. */
export interface ThingGroupRow extends Scoped {
  name: string;
  arn: string;
  group_id: string;
  parent_name: string | null;
  description: string | null;
  attributes: string; // JSON object
  version: number;
  created_at: number;
  updated_at: number;
}

export interface ThingGroupMemberRow extends Scoped {
  group_name: string;
  thing_name: string;
  added_at: number;
}

/** A billing group: a flat group of things for cost allocation, tagged like any resource. */
export interface BillingGroupRow extends Scoped {
  name: string;
  arn: string;
  group_id: string;
  description: string | null;
  version: number;
  created_at: number;
  updated_at: number;
}

/** A thing's billing group: at most one a thing, so the thing name is the key. */
export interface BillingGroupMemberRow extends Scoped {
  thing_name: string;
  group_name: string;
  added_at: number;
}

/** UpdateIndexingConfiguration's stored state, per account and region. */
export interface IndexingConfigRow extends Scoped {
  thing_config: string; // JSON ThingIndexingConfiguration
  group_config: string; // JSON ThingGroupIndexingConfiguration
  updated_at: number;
}

/** One file's result of a version's SBOM validation (a single SBOM, or one entry of a zip). */
export interface SbomResultRow extends Scoped {
  package_name: string;
  version_name: string;
  seq: number; // order of the validator's report, the listing's key
  file_name: string;
  validation_result: string; // SUCCEEDED or FAILED
  error_code: string | null;
  error_message: string | null;
  report: string; // JSON {format?, errors: Finding[], warnings: Finding[]}
}

/**
 * Work that follows a commit: written in the transaction of the change that causes it, carried out after the commit
 * by the effect runner (src/engine/effects.ts). `subject` orders rows (one at a time per kind and subject) and, for
 * coalescing kinds, merges repeated changes into one waiting row.
 */
export interface EffectRow extends Scoped {
  id: Generated<number>;
  kind: string;
  subject: string;
  payload: string; // JSON
  coalescing: number;
  due_at: number;
  attempts: number;
  /** Epoch ms until which a runner holds the row; past it, the row may be claimed again. */
  claimed_until: number | null;
  dead: number;
  last_error: string | null;
  created_at: number;
}

/** A device shadow; `shadow_name` '' is the classic shadow. `state` is null while the shadow is deleted. */
export interface ShadowRow extends Scoped {
  thing_name: string;
  shadow_name: string;
  state: string | null; // JSON {desired?, reported?}
  metadata: string | null; // JSON, mirrors state
  version: number;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
}

/** The latest connection of one MQTT client id: connected now, or when and why it left. */
export interface MqttConnectivityRow extends Scoped {
  client_id: string;
  connected: number;
  session_identifier: string;
  principal_identifier: string;
  ip_address: string;
  /** Grows with every connection of the client id: orders its lifecycle events. */
  version_number: number;
  connected_at: number;
  disconnected_at: number | null;
  disconnect_reason: string | null;
  client_initiated_disconnect: number | null;
}

/** The retained message of one topic (MQTT retain): delivered to every new subscriber, listed by iot-data. */
export interface RetainedMessageRow extends Scoped {
  topic: string;
  payload: Buffer;
  qos: number;
  user_properties: string | null; // base64 of the JSON user properties, as GetRetainedMessage returns them
  updated_at: number;
}

export interface Database {
  effects: EffectRow;
  shadows: ShadowRow;
  mqtt_connectivity: MqttConnectivityRow;
  retained_messages: RetainedMessageRow;
  sbom_results: SbomResultRow;
  s3_buckets: S3BucketRow;
  s3_objects: S3ObjectRow;
  packages: PackageRow;
  package_versions: PackageVersionRow;
  tags: TagRow;
  package_config: PackageConfigRow;
  idempotency: IdempotencyRow;
  things: ThingRow;
  thing_attributes: ThingAttributeRow;
  thing_types: ThingTypeRow;
  thing_groups: ThingGroupRow;
  thing_group_members: ThingGroupMemberRow;
  indexing_config: IndexingConfigRow;
  billing_groups: BillingGroupRow;
  billing_group_members: BillingGroupMemberRow;
  jobs: JobRow;
  job_targets: JobTargetRow;
  job_executions: JobExecutionRow;
  job_templates: JobTemplateRow;
  event_configurations: EventConfigurationRow;
  job_notify_state: JobNotifyStateRow;
}

/** The database or a transaction on it: repositories accept either. */
export type Db = Kysely<Database>;
