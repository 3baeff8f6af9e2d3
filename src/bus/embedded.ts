// The embedded broker: aedes (MQTT 3.1.1 and 5) on the MQTT port, and on WebSocket streams handed over by the HTTP
// listener (/mqtt). Device requests on reserved topics go to the topic handlers; their replies are published here.
import { randomUUID } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { Aedes, type AedesPublishPacket, type Client } from 'aedes';
import type { Logger } from 'pino';
import type { Scope } from '../domain/arn.ts';
import type { Authorizer, Connection } from './authorizer.ts';
import type { BusEvents } from './events.ts';
import { acceptConnection } from './mqtt5.ts';
import { TopicRouter } from './router.ts';
import type { Bus, OutgoingMessage, TopicHandler } from './types.ts';

export interface EmbeddedBusOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  authorizer: Authorizer;
  handlers: readonly TopicHandler[];
  events: BusEvents;
  /** Retained messages to hold from the start (the store's, so that subscribers get them after a restart). */
  retained: readonly OutgoingMessage[];
  log: Logger;
}

interface Session {
  connection: Connection;
  scope: Scope;
  /** Why the broker is closing this connection, when it knows better than "the connection was lost". */
  reason?: DisconnectReason;
}

export type DisconnectReason =
  | 'CLIENT_INITIATED_DISCONNECT'
  | 'CONNECTION_LOST'
  | 'DUPLICATE_CLIENTID'
  | 'MQTT_KEEP_ALIVE_TIMEOUT'
  | 'CLIENT_ERROR'
  | 'AUTH_ERROR'
  | 'SERVER_INITIATED_DISCONNECT';

const NETWORK_ERRORS = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ERR_STREAM_PREMATURE_CLOSE']);

/** Refusal codes of CONNACK (MQTT 3.1.1): 5 = not authorized. */
const NOT_AUTHORIZED = 5;

export class EmbeddedBus implements Bus {
  url?: string;
  private readonly aedes: Aedes;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly sessions = new WeakMap<Client, Session>();
  private readonly router: TopicRouter;
  private closing?: Promise<void>;

  private constructor(private readonly options: EmbeddedBusOptions) {
    this.router = new TopicRouter(options.handlers, options.log);
    this.aedes = new Aedes({
      authenticate: (client, username, _password, done) => {
        const connection = connectionOf(client, username);
        const scope = options.authorizer.connect(connection);
        if (!scope) return done(Object.assign(new Error('Not authorized'), { returnCode: NOT_AUTHORIZED }), null);
        this.sessions.set(client, { connection, scope });
        // aedes closes a connection that holds the same client id once this one is admitted.
        const holder = this.clients()[client.id];
        if (holder && holder !== client) this.markReason(holder, 'DUPLICATE_CLIENTID');
        done(null, true);
      },
      authorizePublish: (client, packet, done) => {
        const session = client && this.sessions.get(client);
        if (!client) return done(null);
        if (!session || packet.topic.startsWith('$SYS/') || !options.authorizer.publish(session.connection, packet.topic)) {
          if (session) session.reason = 'AUTH_ERROR';
          return done(new Error(`Not authorized to publish on ${packet.topic}`));
        }
        done(null);
      },
      authorizeSubscribe: (client, subscription, done) => {
        const session = this.sessions.get(client);
        // A refused filter gets a failure code in SUBACK; the connection stays.
        done(null, session && options.authorizer.subscribe(session.connection, subscription.topic) ? subscription : null);
      },
    });
    this.aedes.on('publish', (packet, client) => {
      if (client) void this.onDevicePublish(packet, client);
    });
    this.aedes.on('clientReady', (client) => {
      const session = this.sessions.get(client);
      if (session) options.events.connected(session.scope, session.connection);
    });
    this.aedes.on('keepaliveTimeout', (client) => this.markReason(client, 'MQTT_KEEP_ALIVE_TIMEOUT'));
    // A reset or broken socket is a lost connection; anything else the client got wrong (a second CONNECT, a bad packet).
    this.aedes.on('clientError', (client, err) =>
      this.markReason(client, NETWORK_ERRORS.has((err as NodeJS.ErrnoException).code ?? '') ? 'CONNECTION_LOST' : 'CLIENT_ERROR'),
    );
    this.aedes.on('clientDisconnect', (client) => {
      const session = this.sessions.get(client);
      if (!session) return;
      const reason = (client as Client & { _disconnected?: boolean })._disconnected ? 'CLIENT_INITIATED_DISCONNECT' : (session.reason ?? 'CONNECTION_LOST');
      options.events.disconnected(session.scope, session.connection, reason);
    });
    // No Nagle: a PUBACK followed by a reply would otherwise wait for the device's delayed ACK (~40 ms a request).
    this.server = createServer({ noDelay: true }, (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      acceptConnection(socket, (conn) => this.aedes.handle(conn));
    });
  }

  static async start(options: EmbeddedBusOptions): Promise<EmbeddedBus> {
    const bus = new EmbeddedBus(options);
    await bus.aedes.listen();
    for (const message of options.retained) await bus.publish({ ...message, retain: true });
    await new Promise<void>((resolve, reject) => {
      bus.server.once('error', reject);
      bus.server.listen(options.port, options.host, () => {
        bus.server.off('error', reject);
        resolve();
      });
    });
    const address = bus.server.address();
    const port = typeof address === 'object' && address ? address.port : options.port;
    const host = options.host.includes(':') && !options.host.startsWith('[') ? `[${options.host}]` : options.host;
    bus.url = `mqtt://${host}:${port}`;
    return bus;
  }

  /** Serves one MQTT connection carried by another transport (a WebSocket stream). */
  handleStream(stream: Duplex, request: IncomingMessage): void {
    acceptConnection(stream, (conn) => this.aedes.handle(conn, request));
  }

  /** aedes's connected clients by id (a public field its types leave out). */
  private clients(): Record<string, Client> {
    return (this.aedes as unknown as { clients: Record<string, Client> }).clients;
  }

  /** Records the first known reason a connection is closing, for its disconnect event. */
  private markReason(client: Client, reason: DisconnectReason): void {
    const session = this.sessions.get(client);
    if (session && !session.reason) session.reason = reason;
  }

  publish(message: OutgoingMessage): Promise<void> {
    // While the broker shuts down its subscribers are leaving: there is no one left to deliver to.
    if (this.closing) return Promise.resolve();
    const payload = typeof message.payload === 'string' ? Buffer.from(message.payload) : message.payload;
    return new Promise((resolve, reject) => {
      this.aedes.publish({ cmd: 'publish', topic: message.topic, payload, qos: message.qos ?? 1, retain: message.retain ?? false, dup: false }, (err) =>
        err ? reject(err) : resolve(),
      );
    });
  }

  async publishAsRequest(scope: Scope, message: OutgoingMessage): Promise<void> {
    await this.publish(message);
    const payload = typeof message.payload === 'string' ? Buffer.from(message.payload) : message.payload;
    await this.answer(await this.router.route({ clientId: '', scope, topic: message.topic, payload }));
  }

  private async answer(replies: OutgoingMessage[]): Promise<void> {
    for (const reply of replies) {
      await this.publish(reply).catch((err) => this.options.log.warn({ err, topic: reply.topic }, 'publishing a reply failed'));
    }
  }

  private async onDevicePublish(packet: AedesPublishPacket, client: Client): Promise<void> {
    const session = this.sessions.get(client);
    if (!session) return;
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    if (packet.retain) this.options.events.retained(session.scope, { topic: packet.topic, payload, qos: packet.qos === 0 ? 0 : 1 });
    await this.answer(await this.router.route({ clientId: client.id, scope: session.scope, topic: packet.topic, payload }));
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const client of Object.values(this.clients())) this.markReason(client, 'SERVER_INITIATED_DISCONNECT');
      await new Promise<void>((resolve) => this.aedes.close(() => resolve()));
      for (const socket of this.sockets) socket.destroy();
      await new Promise<void>((resolve) => this.server.close(() => resolve()));
    })();
    return this.closing;
  }
}

function connectionOf(client: Client, username: string | undefined): Connection {
  const ws = client.req !== undefined;
  const socket = client.req?.socket ?? (client.conn as Socket);
  return {
    clientId: client.id,
    sessionIdentifier: randomUUID(),
    ipAddress: (socket?.remoteAddress ?? '').replace(/^::ffff:/, ''),
    transport: ws ? 'wss' : 'mqtt',
    username: username || undefined,
  };
}
