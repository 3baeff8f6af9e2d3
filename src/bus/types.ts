// The seam between the MQTT transport (embedded aedes broker or an external broker) and the services that answer
// devices on AWS's reserved topics. A topic handler is transport-agnostic: it takes one device message and returns
// the messages to publish in reply (on `/accepted`, `/rejected` …); what must follow a commit (notify, shadow
// `/delta` and `/documents`) goes through the effects table instead (src/store/effects.ts `effects.publish`).
import type { Scope } from '../domain/arn.ts';

/** A message a device published. */
export interface DeviceMessage {
  /** MQTT client id of the publisher ('' when unknown, e.g. HTTP Publish). */
  clientId: string;
  /** The account and region the connection acts for. */
  scope: Scope;
  topic: string;
  payload: Buffer;
}

/** A message to publish. Replies use QoS 1 unless said otherwise. */
export interface OutgoingMessage {
  topic: string;
  payload: string | Buffer;
  qos?: 0 | 1;
  retain?: boolean;
}

/** Answers the messages of its topic family; never throws for bad input (it replies with AWS's error document). */
export interface TopicHandler {
  /** True when this handler serves the topic (e.g. `$aws/things/{thing}/jobs/...`). */
  accepts(topic: string): boolean;
  handle(message: DeviceMessage): Promise<OutgoingMessage[]>;
}

/** What the rest of the house needs from the bus: publish, and where devices connect. */
export interface Bus {
  /** mqtt://host:port of the embedded listener, or the external broker's URL; undefined when MQTT is off. */
  readonly url?: string;
  publish(message: OutgoingMessage): Promise<void>;
  /** Publishes on a client's behalf (iot-data Publish): delivered like any message, and a request topic is answered. */
  publishAsRequest(scope: Scope, message: OutgoingMessage): Promise<void>;
  close(): Promise<void>;
}
