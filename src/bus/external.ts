// An external MQTT 5 broker (--broker mqtt://…): Flotilla connects as a client and serves the reserved request
// topics through shared subscriptions ($share/flotilla/…), so that replicas split the device requests between them
// and each request is answered once. The broker keeps connections, sessions and retained messages itself.
import { randomUUID } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { Scope } from '../domain/arn.ts';
import { TopicRouter } from './router.ts';
import { REQUEST_FILTERS } from './topics.ts';
import type { Bus, OutgoingMessage, TopicHandler } from './types.ts';

export interface ExternalBusOptions {
  /** mqtt(s)://[user:password@]host:port */
  url: string;
  /** The scope requests arriving from the broker act for. */
  scope: Scope;
  handlers: readonly TopicHandler[];
  log: Logger;
  /** How long the broker may take to answer CONNECT, SUBSCRIBE or a PUBLISH; default 10 s. */
  timeoutMs?: number;
}

/** The shared-subscription group every Flotilla replica joins. */
const SHARE_GROUP = 'flotilla';

export class ExternalBus implements Bus {
  readonly url: string;
  /** Whether device requests arrive through a shared subscription (split between replicas) or a plain one. */
  shared = false;
  private readonly router: TopicRouter;
  private readonly timeoutMs: number;

  private constructor(
    private readonly client: MqttClient,
    private readonly options: ExternalBusOptions,
  ) {
    const shown = new URL(options.url);
    shown.username = '';
    shown.password = '';
    this.url = shown.toString().replace(/\/$/, '');
    this.router = new TopicRouter(options.handlers, options.log);
    this.timeoutMs = options.timeoutMs ?? 10_000;
    client.on('message', (topic, payload) => void this.onRequest(topic, payload));
    client.on('error', (err) => options.log.warn({ err }, 'MQTT broker connection error'));
    client.on('offline', () => options.log.warn({ broker: this.url }, 'MQTT broker unreachable; reconnecting'));
  }

  /** Connects and subscribes; fails with a clear error when the broker does not answer within the timeout. */
  static async connect(options: ExternalBusOptions): Promise<ExternalBus> {
    const timeoutMs = options.timeoutMs ?? 10_000;
    const client = mqtt.connect(options.url, {
      protocolVersion: 5,
      clientId: `flotilla-${randomUUID()}`,
      clean: true,
      connectTimeout: timeoutMs,
      reconnectPeriod: 0, // until the first connection holds; then reconnect every second
      keepalive: 30,
    });
    const bus = new ExternalBus(client, options);
    try {
      await withTimeout(
        new Promise<void>((resolve, reject) => {
          client.once('connect', () => resolve());
          client.once('error', reject);
          client.once('close', () => reject(new Error('the connection closed before CONNACK')));
        }),
        timeoutMs,
        `no CONNACK within ${timeoutMs} ms`,
      );
      bus.shared = await probeSharedDollarTopics(client, timeoutMs);
      if (!bus.shared) {
        options.log.warn(
          { broker: bus.url },
          'the broker does not deliver $aws topics to shared subscriptions: every replica hears every device request, so run one Flotilla on it',
        );
      }
      const filters = REQUEST_FILTERS.map((f) => (bus.shared ? `$share/${SHARE_GROUP}/${f}` : f));
      const granted = await withTimeout(client.subscribeAsync(filters, { qos: 1 }), timeoutMs, `no SUBACK within ${timeoutMs} ms`);
      const refused = granted.filter((g) => g.qos > 2);
      if (refused.length) throw new Error(`the broker refused the subscriptions ${refused.map((g) => g.topic).join(', ')}`);
    } catch (err) {
      client.end(true);
      const reason = err instanceof Error ? err.message : String(err);
      throw new Error(`--broker ${bus.url}: ${reason === 'connack timeout' ? `no CONNACK within ${timeoutMs} ms` : reason}`);
    }
    client.options.reconnectPeriod = 1000;
    return bus;
  }

  publish(message: OutgoingMessage): Promise<void> {
    const payload = typeof message.payload === 'string' ? Buffer.from(message.payload) : message.payload;
    const sent = this.client.publishAsync(message.topic, payload, { qos: message.qos ?? 1, retain: message.retain ?? false }).then(() => undefined);
    return withTimeout(sent, this.timeoutMs, `publishing on ${message.topic}: no answer from the broker within ${this.timeoutMs} ms`);
  }

  /** Through the broker: the shared subscription hands a request topic to one replica, which answers it. */
  publishAsRequest(_scope: Scope, message: OutgoingMessage): Promise<void> {
    return this.publish(message);
  }

  private async onRequest(topic: string, payload: Buffer): Promise<void> {
    // MQTT does not tell a subscriber who published: the requester's client id is unknown here.
    const replies = await this.router.route({ clientId: '', scope: this.options.scope, topic, payload });
    for (const reply of replies) {
      await this.publish(reply).catch((err) => this.options.log.warn({ err, topic: reply.topic }, 'publishing a reply failed'));
    }
  }

  async close(): Promise<void> {
    await withTimeout(this.client.endAsync(), this.timeoutMs, 'closing').catch(() => this.client.end(true));
  }
}

/**
 * Does the broker deliver topics that start with `$` to a shared subscription? MQTT 5 says it should; Mosquitto 2.0
 * does not. Probed on a topic of Flotilla's own that no device or replica listens to.
 */
async function probeSharedDollarTopics(client: MqttClient, timeoutMs: number): Promise<boolean> {
  const id = randomUUID();
  const topic = `$flotilla/probe/${id}`;
  const filter = `$share/probe-${id}/${topic}`;
  const heard = new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), Math.min(timeoutMs, 2000));
    const listener = (t: string) => {
      if (t !== topic) return;
      clearTimeout(timer);
      client.off('message', listener);
      resolve(true);
    };
    client.on('message', listener);
  });
  await withTimeout(client.subscribeAsync(filter, { qos: 1 }), timeoutMs, `no SUBACK within ${timeoutMs} ms`);
  await withTimeout(client.publishAsync(topic, 'probe', { qos: 1 }), timeoutMs, `no PUBACK within ${timeoutMs} ms`);
  const shared = await heard;
  await withTimeout(client.unsubscribeAsync(filter), timeoutMs, `no UNSUBACK within ${timeoutMs} ms`);
  return shared;
}

function withTimeout<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
