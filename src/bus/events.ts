// What the bus reports to the rest of the house: connections opening and closing, and retained messages devices
// publish. The server wires these to the store (connectivity rows, lifecycle events, retained messages).
import type { Scope } from '../domain/arn.ts';
import type { Connection } from './authorizer.ts';

export interface RetainedMessage {
  topic: string;
  /** Empty: the topic's retained message is deleted, as in MQTT. */
  payload: Buffer;
  qos: 0 | 1;
}

export interface BusEvents {
  connected(scope: Scope, connection: Connection): void;
  disconnected(scope: Scope, connection: Connection, reason: string): void;
  retained(scope: Scope, message: RetainedMessage): void;
}
