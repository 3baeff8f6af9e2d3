// The bus's events written to the store: a connectivity row per client id with AWS's lifecycle event in the same
// transaction (published after commit by the effects table), and retained messages devices publish. Writes of one
// client id (or one topic) run one after another, in the order the broker reported them.
import type { Logger } from 'pino';
import type { Scope } from '../domain/arn.ts';
import { effects } from '../store/effects.ts';
import { connectivity, retained } from '../store/mqtt.ts';
import type { Store } from '../store/store.ts';
import type { Connection } from './authorizer.ts';
import type { BusEvents, RetainedMessage } from './events.ts';

export class StorePresence implements BusEvents {
  private readonly queues = new Map<string, Promise<void>>();
  /** Version number of each open connection, by session identifier, for its disconnect event. */
  private readonly versions = new Map<string, number>();

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
  ) {}

  connected(scope: Scope, c: Connection): void {
    this.enqueue(`c:${c.clientId}`, async () => {
      const at = Date.now();
      await this.store.transaction(async (tx) => {
        const version = await connectivity.connected(tx, scope, {
          clientId: c.clientId,
          sessionIdentifier: c.sessionIdentifier,
          principalIdentifier: principalOf(c),
          ipAddress: c.ipAddress,
          at,
        });
        this.versions.set(c.sessionIdentifier, version);
        if (announced(c.clientId)) {
          await effects.publish(tx, scope, `$aws/events/presence/connected/${c.clientId}`, { ...eventFields(c, version, at), eventType: 'connected' });
        }
      });
    });
  }

  disconnected(scope: Scope, c: Connection, reason: string): void {
    this.enqueue(`c:${c.clientId}`, async () => {
      const version = this.versions.get(c.sessionIdentifier);
      this.versions.delete(c.sessionIdentifier);
      if (version === undefined) return; // its connect was never recorded
      const at = Date.now();
      const clientInitiated = reason === 'CLIENT_INITIATED_DISCONNECT';
      await this.store.transaction(async (tx) => {
        await connectivity.disconnected(tx, scope, c.clientId, version, at, reason, clientInitiated);
        if (announced(c.clientId)) {
          await effects.publish(tx, scope, `$aws/events/presence/disconnected/${c.clientId}`, {
            ...eventFields(c, version, at),
            eventType: 'disconnected',
            clientInitiatedDisconnect: clientInitiated,
            disconnectReason: reason,
          });
        }
      });
    });
  }

  retained(scope: Scope, m: RetainedMessage): void {
    this.enqueue(`r:${m.topic}`, () => this.store.transaction((tx) => retained.put(tx, scope, m.topic, m.payload, m.qos, null, Date.now())));
  }

  /** Resolves when every write queued so far is done (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.queues.size > 0) await Promise.all(this.queues.values());
  }

  private enqueue(key: string, work: () => Promise<unknown>): void {
    const run = (this.queues.get(key) ?? Promise.resolve()).then(work).then(
      () => undefined,
      (err) => this.log.error({ err, key }, 'recording MQTT state failed'),
    );
    this.queues.set(key, run);
    void run.then(() => {
      if (this.queues.get(key) === run) this.queues.delete(key);
    });
  }
}

/** AWS sends no lifecycle events for client ids with MQTT wildcards in them. */
const announced = (clientId: string) => !clientId.includes('#') && !clientId.includes('+');

/** The MQTT username when the client sent one, else `anonymous` (no certificates yet; see docs/decisions.md). */
const principalOf = (c: Connection) => c.username ?? 'anonymous';

function eventFields(c: Connection, version: number, at: number) {
  return {
    clientId: c.clientId,
    timestamp: at,
    sessionIdentifier: c.sessionIdentifier,
    principalIdentifier: principalOf(c),
    ipAddress: c.ipAddress,
    versionNumber: version,
  };
}
