// MQTT 5 for the embedded broker. aedes 1.2 speaks MQTT 3.1.1 only, so an MQTT 5 connection is translated packet by
// packet: the client's v5 packets reach aedes as 3.1.1 (topic aliases resolved, properties dropped) and aedes's
// answers go back as v5 (reason codes instead of return codes, an assigned client id when the client sent none).
// MQTT 3.1.1 connections are handed to aedes untouched; only the first bytes are read to tell the two apart.
import { randomUUID } from 'node:crypto';
import { Duplex } from 'node:stream';
import mqttPacket, { type Packet } from 'mqtt-packet';

/** How long a new connection may take to send the start of its CONNECT. */
const SNIFF_TIMEOUT_MS = 10_000;

/**
 * Reads the start of the CONNECT to learn the protocol level, then hands `stream` on: as it is for MQTT 3.x, or
 * behind a v5 ↔ 3.1.1 translation for MQTT 5. A stream that never says closes after SNIFF_TIMEOUT_MS.
 */
export function acceptConnection(stream: Duplex, serve: (conn: Duplex) => void): void {
  let head = Buffer.alloc(0);
  const timer = setTimeout(() => stream.destroy(), SNIFF_TIMEOUT_MS);
  const onData = (chunk: Buffer) => {
    head = Buffer.concat([head, chunk]);
    const level = protocolLevel(head);
    if (level === undefined) return;
    clearTimeout(timer);
    stream.off('data', onData);
    stream.off('close', onClose);
    stream.pause();
    if (level === 5) {
      serve(new Mqtt5Bridge(stream, head));
    } else {
      stream.unshift(head);
      serve(stream);
    }
  };
  const onClose = () => clearTimeout(timer);
  stream.on('data', onData);
  stream.on('close', onClose);
  stream.on('error', () => stream.destroy());
}

/** The protocol level byte of a CONNECT, once enough bytes arrived; -1 for anything that is not a CONNECT. */
function protocolLevel(buf: Buffer): number | undefined {
  if (buf.length < 1) return undefined;
  if (buf[0]! >> 4 !== 1) return -1;
  let i = 1;
  for (; i < 5; i++) {
    if (i >= buf.length) return undefined;
    if ((buf[i]! & 0x80) === 0) break;
  }
  const nameStart = i + 1;
  if (buf.length < nameStart + 2) return undefined;
  const at = nameStart + 2 + buf.readUInt16BE(nameStart);
  return at < buf.length ? buf[at]! : undefined;
}

/** MQTT 3.1.1 CONNACK return codes as MQTT 5 reason codes. */
const CONNACK_REASON: Record<number, number> = { 0: 0, 1: 0x84, 2: 0x85, 3: 0x88, 4: 0x86, 5: 0x87 };

/** The 3.1.1 side of one MQTT 5 connection: what aedes reads from and writes to. */
class Mqtt5Bridge extends Duplex {
  private readonly inbound = mqttPacket.parser();
  private readonly outbound = mqttPacket.parser({ protocolVersion: 4 });
  private readonly aliases = new Map<number, string>();
  private readonly unsubscribeCounts = new Map<number, number>();
  private assignedClientId?: string;
  readonly remoteAddress?: string;

  constructor(
    private readonly socket: Duplex,
    head: Buffer,
  ) {
    super();
    this.remoteAddress = (socket as Duplex & { remoteAddress?: string }).remoteAddress;
    this.inbound.on('packet', (packet) => this.fromClient(packet));
    this.inbound.on('error', (err) => this.destroy(err));
    this.outbound.on('packet', (packet) => this.toClient(packet));
    this.outbound.on('error', (err) => this.destroy(err));
    socket.on('data', (chunk: Buffer) => this.inbound.parse(chunk));
    socket.on('close', () => this.destroy());
    socket.on('error', () => this.destroy());
    socket.on('end', () => this.push(null));
    this.inbound.parse(head);
    socket.resume();
  }

  override _read(): void {}

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    this.outbound.parse(chunk);
    done();
  }

  override _destroy(err: Error | null, done: (err: Error | null) => void): void {
    this.socket.destroy();
    done(err);
  }

  /** A v5 packet from the client, passed on as 3.1.1. */
  private fromClient(packet: Packet): void {
    const p = packet as Packet & { properties?: Record<string, unknown> };
    switch (packet.cmd) {
      case 'connect': {
        if (!packet.clientId) this.assignedClientId = packet.clientId = `flotilla-${randomUUID()}`;
        const { properties: _p, ...connect } = packet;
        const will = connect.will && { ...connect.will, properties: undefined };
        this.toBroker({ ...connect, will, protocolVersion: 4 } as Packet);
        return;
      }
      case 'publish': {
        const alias = p.properties?.topicAlias as number | undefined;
        if (alias !== undefined) {
          if (packet.topic) this.aliases.set(alias, packet.topic);
          else if (this.aliases.has(alias)) packet.topic = this.aliases.get(alias)!;
          else {
            this.destroy(new Error('unknown topic alias'));
            return;
          }
        }
        this.toBroker({ ...packet, properties: undefined } as Packet);
        return;
      }
      case 'unsubscribe':
        this.unsubscribeCounts.set(packet.messageId!, packet.unsubscriptions.length);
        this.toBroker({ ...packet, properties: undefined } as Packet);
        return;
      case 'subscribe':
        this.toBroker({ ...packet, properties: undefined, subscriptions: packet.subscriptions.map((s) => ({ topic: s.topic, qos: s.qos })) } as Packet);
        return;
      case 'auth':
        // Enhanced authentication is not offered: a client asking for it is closed.
        this.destroy();
        return;
      default:
        this.toBroker({ ...p, properties: undefined, reasonCode: undefined } as Packet);
    }
  }

  /** A 3.1.1 packet from aedes, sent to the client as v5. */
  private toClient(packet: Packet): void {
    let out: Packet = packet;
    if (packet.cmd === 'connack') {
      const reasonCode = CONNACK_REASON[packet.returnCode ?? 0] ?? 0x80;
      const properties = this.assignedClientId && reasonCode === 0 ? { assignedClientIdentifier: this.assignedClientId } : undefined;
      out = { cmd: 'connack', sessionPresent: packet.sessionPresent, reasonCode, properties } as Packet;
    } else if (packet.cmd === 'suback') {
      // 0x80 (failure) in 3.1.1; MQTT 5 says why: not authorized.
      out = { ...packet, granted: packet.granted.map((g) => (g === 0x80 ? 0x87 : g)) } as Packet;
    } else if (packet.cmd === 'unsuback') {
      const count = this.unsubscribeCounts.get(packet.messageId!) ?? 1;
      this.unsubscribeCounts.delete(packet.messageId!);
      out = { ...packet, granted: new Array(count).fill(0) } as Packet;
    }
    this.socket.write(mqttPacket.generate(out, { protocolVersion: 5 }));
  }

  private toBroker(packet: Packet): void {
    this.push(mqttPacket.generate(packet, { protocolVersion: 4 }));
  }
}
