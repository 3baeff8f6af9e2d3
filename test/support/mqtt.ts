// Real MQTT clients for tests (package `mqtt`): connect, subscribe, and wait for the messages that arrive.
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';

export interface Received {
  topic: string;
  payload: Buffer;
  retain: boolean;
  qos: number;
}

export interface TestDevice {
  client: MqttClient;
  received: Received[];
  subscribe(filter: string | string[], qos?: 0 | 1): Promise<number[]>;
  publish(topic: string, payload: string | Buffer, options?: { qos?: 0 | 1; retain?: boolean }): Promise<void>;
  /** The first message on `topic` not yet taken; waits up to `timeoutMs`. */
  next(topic: string, timeoutMs?: number): Promise<Received>;
  /** The payload of next(topic), parsed as JSON. */
  nextJson(topic: string, timeoutMs?: number): Promise<any>;
  end(): Promise<void>;
}

/** Connects one client (MQTT 5 unless `protocolVersion: 4`). */
export async function connectDevice(url: string, options: IClientOptions = {}): Promise<TestDevice> {
  const client = await mqtt.connectAsync(url, {
    protocolVersion: 5,
    reconnectPeriod: 0,
    connectTimeout: 5000,
    clientId: `test-${Math.random().toString(36).slice(2, 10)}`,
    ...options,
  });
  const received: Received[] = [];
  const waiters: Array<() => void> = [];
  client.on('message', (topic, payload, packet) => {
    received.push({ topic, payload, retain: packet.retain, qos: packet.qos });
    for (const wake of waiters.splice(0)) wake();
  });
  const device: TestDevice = {
    client,
    received,
    async subscribe(filter, qos = 1) {
      const granted = await client.subscribeAsync(filter, { qos });
      return granted.map((g) => g.qos);
    },
    async publish(topic, payload, options = {}) {
      await client.publishAsync(topic, payload, { qos: options.qos ?? 1, retain: options.retain ?? false });
    },
    async next(topic, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const i = received.findIndex((m) => m.topic === topic);
        if (i >= 0) return received.splice(i, 1)[0]!;
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no message on ${topic} within ${timeoutMs} ms (got: ${received.map((m) => m.topic).join(', ') || 'nothing'})`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    },
    async nextJson(topic, timeoutMs) {
      return JSON.parse((await device.next(topic, timeoutMs)).payload.toString());
    },
    async end() {
      // A client the server already closed would wait forever for a clean end.
      if (!client.connected) return void client.end(true);
      await client.endAsync();
    },
  };
  return device;
}

/** Resolves once nothing more arrives on `topic` for `quietMs`, with how many messages came on it. */
export async function countQuiet(device: TestDevice, topic: string, quietMs = 300): Promise<number> {
  let last = -1;
  for (;;) {
    const n = device.received.filter((m) => m.topic === topic).length;
    if (n === last) return n;
    last = n;
    await new Promise((resolve) => setTimeout(resolve, quietMs));
  }
}
