// The one place that decides what an MQTT connection may do, used by every listener (TCP and WebSocket) and the
// external broker's bridge alike. Today it admits every connection (the listener is loopback by default); device
// certificates and IoT policies plug in here later.
import type { Scope } from '../domain/arn.ts';
import { isServiceOnlyTopic } from './topics.ts';

/** Who is asking: what the listener knows of a connection. */
export interface Connection {
  clientId: string;
  /** Unique per connection (AWS's lifecycle `sessionIdentifier`). */
  sessionIdentifier: string;
  /** Remote address, '' when unknown. */
  ipAddress: string;
  /** 'mqtt' (TCP), 'wss' (WebSocket at /mqtt) or 'https' (iot-data Publish). */
  transport: 'mqtt' | 'wss' | 'https';
  username?: string;
}

export interface Authorizer {
  /** The scope the connection acts for, or undefined to refuse it. */
  connect(connection: Connection): Scope | undefined;
  /** May the connection publish on `topic`? */
  publish(connection: Connection, topic: string): boolean;
  /** May the connection subscribe to `filter`? */
  subscribe(connection: Connection, filter: string): boolean;
}

/** Admits every connection in the server's default scope; refuses device publishes on the service's own topics. */
export function openAuthorizer(scope: Scope): Authorizer {
  return {
    connect: () => scope,
    publish: (_connection, topic) => !isServiceOnlyTopic(topic),
    subscribe: () => true,
  };
}
