// The embedded broker's memory per idle connection: RSS of the Flotilla child before and after BENCH_MQTT_CONNECTIONS
// (default 10,000) MQTT 3.1.1 clients connect and sit idle. The clients are raw sockets that send one CONNECT each,
// so the load generator stays light. The file-descriptor limit bounds how many connect: both processes need one each.
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import mqttPacket from 'mqtt-packet';
import { startFlotillaChild } from './servers.ts';

const COUNT = Number(process.env.BENCH_MQTT_CONNECTIONS) || 10_000;
const TARGET_KB = 10;

const rssKiB = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Opens one connection and resolves once CONNACK arrived. */
function connectOne(host: string, port: number, id: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, host);
    const connectPacket = mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: `bench-${id}`, keepalive: 0 });
    socket.once('connect', () => socket.write(connectPacket));
    socket.once('data', (chunk) => (chunk[0] === 0x20 && chunk[3] === 0 ? resolve(socket) : reject(new Error('connection refused by the broker'))));
    socket.once('error', reject);
  });
}

export async function benchMqttConnections(): Promise<void> {
  const server = await startFlotillaChild();
  const sockets: Socket[] = [];
  try {
    const health = (await (await fetch(`${server.url}/_flotilla/health`)).json()) as { mqtt?: { url: string } };
    const url = new URL(health.mqtt!.url);
    const host = url.hostname;
    const port = Number(url.port);
    // Warm the broker's code paths, then take the baseline.
    for (let i = 0; i < 50; i++) sockets.push(await connectOne(host, port, -i - 1));
    for (const s of sockets.splice(0)) s.destroy();
    await sleep(2000);
    const before = rssKiB(server.pid);
    const started = Date.now();
    let limitedBy: string | undefined;
    for (let i = 0; i < COUNT; i += 200) {
      const batch = await Promise.allSettled(Array.from({ length: Math.min(200, COUNT - i) }, (_, j) => connectOne(host, port, i + j)));
      for (const r of batch) if (r.status === 'fulfilled') sockets.push(r.value);
      const failed = batch.find((r) => r.status === 'rejected');
      if (failed) {
        limitedBy = String((failed as PromiseRejectedResult).reason?.code ?? (failed as PromiseRejectedResult).reason);
        break;
      }
    }
    const connectSeconds = (Date.now() - started) / 1000;
    await sleep(3000); // connectivity rows and presence events settle
    const after = rssKiB(server.pid);
    const perConnection = (after - before) / sockets.length;
    console.log('\nMQTT idle connections (embedded broker, MQTT 3.1.1, raw clients)');
    console.log(
      `  connections:            ${sockets.length}${limitedBy ? ` (stopped at ${limitedBy}; ulimit -n is the bound)` : ''}, connected in ${connectSeconds.toFixed(1)} s`,
    );
    console.log(`  broker RSS:             ${(before / 1024).toFixed(1)} MiB idle → ${(after / 1024).toFixed(1)} MiB`);
    console.log(`  RSS per connection:     ${perConnection.toFixed(1)} KB (target ≤ ${TARGET_KB} KB)`);
  } finally {
    for (const s of sockets) s.destroy();
    await server.stop();
  }
}
