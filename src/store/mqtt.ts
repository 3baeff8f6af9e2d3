// MQTT state kept in the store: each client id's connectivity, and the retained message of each topic.
import type { Selectable } from 'kysely';
import type { Scope } from '../domain/arn.ts';
import type { Db, MqttConnectivityRow, RetainedMessageRow } from './schema.ts';

export type Connectivity = Selectable<MqttConnectivityRow>;
export type Retained = Selectable<RetainedMessageRow>;

export interface Connected {
  clientId: string;
  sessionIdentifier: string;
  principalIdentifier: string;
  ipAddress: string;
  at: number;
}

export const connectivity = {
  /** Records a connection; returns its version number (one more than the client id's previous connection). */
  async connected(db: Db, scope: Scope, c: Connected): Promise<number> {
    const previous = await connectivity.get(db, scope, c.clientId);
    const version = (previous?.version_number ?? 0) + 1;
    const row = {
      connected: 1,
      session_identifier: c.sessionIdentifier,
      principal_identifier: c.principalIdentifier,
      ip_address: c.ipAddress,
      version_number: version,
      connected_at: c.at,
      disconnected_at: null,
      disconnect_reason: null,
      client_initiated_disconnect: null,
    };
    if (previous) {
      await db
        .updateTable('mqtt_connectivity')
        .set(row)
        .where('account', '=', scope.account)
        .where('region', '=', scope.region)
        .where('client_id', '=', c.clientId)
        .execute();
    } else {
      await db
        .insertInto('mqtt_connectivity')
        .values({ account: scope.account, region: scope.region, client_id: c.clientId, ...row })
        .execute();
    }
    return version;
  },

  /** Records the end of the connection `version`; a later connection of the same client id is left as it is. */
  async disconnected(db: Db, scope: Scope, clientId: string, version: number, at: number, reason: string, clientInitiated: boolean): Promise<void> {
    await db
      .updateTable('mqtt_connectivity')
      .set({ connected: 0, disconnected_at: at, disconnect_reason: reason, client_initiated_disconnect: clientInitiated ? 1 : 0 })
      .where('account', '=', scope.account)
      .where('region', '=', scope.region)
      .where('client_id', '=', clientId)
      .where('version_number', '=', version)
      .execute();
  },

  get(db: Db, scope: Scope, clientId: string): Promise<Connectivity | undefined> {
    return db
      .selectFrom('mqtt_connectivity')
      .selectAll()
      .where('account', '=', scope.account)
      .where('region', '=', scope.region)
      .where('client_id', '=', clientId)
      .executeTakeFirst();
  },
};

export const retained = {
  /** Keeps `payload` as the topic's retained message; an empty payload deletes it, as in MQTT. */
  async put(db: Db, scope: Scope, topic: string, payload: Buffer, qos: number, userProperties: string | null, at: number): Promise<void> {
    const where = db.deleteFrom('retained_messages').where('account', '=', scope.account).where('region', '=', scope.region).where('topic', '=', topic);
    if (payload.length === 0) {
      await where.execute();
      return;
    }
    await db
      .insertInto('retained_messages')
      .values({ account: scope.account, region: scope.region, topic, payload, qos, user_properties: userProperties, updated_at: at })
      .onConflict((oc) => oc.columns(['account', 'region', 'topic']).doUpdateSet({ payload, qos, user_properties: userProperties, updated_at: at }))
      .execute();
  },

  get(db: Db, scope: Scope, topic: string): Promise<Retained | undefined> {
    return db
      .selectFrom('retained_messages')
      .selectAll()
      .where('account', '=', scope.account)
      .where('region', '=', scope.region)
      .where('topic', '=', topic)
      .executeTakeFirst();
  },

  /** One page in topic order, after `afterTopic`. */
  list(db: Db, scope: Scope, afterTopic: string | undefined, limit: number): Promise<Retained[]> {
    let q = db.selectFrom('retained_messages').selectAll().where('account', '=', scope.account).where('region', '=', scope.region);
    if (afterTopic !== undefined) q = q.where('topic', '>', afterTopic);
    return q.orderBy('topic').limit(limit).execute();
  },

  /** Every retained message of a scope, for re-seeding a broker at start. */
  all(db: Db, scope: Scope): Promise<Retained[]> {
    return db.selectFrom('retained_messages').selectAll().where('account', '=', scope.account).where('region', '=', scope.region).orderBy('topic').execute();
  },
};
