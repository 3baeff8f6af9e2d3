// MQTT over WebSocket at /mqtt on the API port, as AWS IoT serves it: the `mqtt` subprotocol, and SigV4 in the query
// (service `iotdevicegateway`) verified under `--auth sigv4`. The MQTT bytes go to the embedded broker.
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, createWebSocketStream } from 'ws';
import type { EmbeddedBus } from '../bus/embedded.ts';
import { verifySignature } from '../protocol/sigv4.ts';
import type { FlotillaConfig } from './config.ts';

const MQTT_WEBSOCKET_PATH = '/mqtt';

/** Serves WebSocket upgrades of `http` at /mqtt; returns a function that closes the WebSocket server. */
export function serveMqttOverWebSocket(http: Server, bus: EmbeddedBus, config: FlotillaConfig): () => void {
  const wss = new WebSocketServer({ noServer: true, handleProtocols: (offered) => (offered.has('mqtt') ? 'mqtt' : false) });
  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const [path = '', query = ''] = (req.url ?? '').split('?', 2);
    if (path !== MQTT_WEBSOCKET_PATH) return refuse(socket, 404, 'Not Found');
    if (config.auth === 'sigv4' && !signed(req, path, query, config.credentials)) return refuse(socket, 403, 'Forbidden');
    wss.handleUpgrade(req, socket, head, (ws) => bus.handleStream(createWebSocketStream(ws), req));
  });
  return () => wss.close();
}

/**
 * The query's SigV4 signature holds. AWS IoT's clients add X-Amz-Security-Token after signing, so a signature that
 * fails with the token in the canonical query is tried again without it.
 */
function signed(req: IncomingMessage, rawPath: string, rawQuery: string, credentials: Map<string, string>): boolean {
  const attempt = (q: string) => {
    try {
      verifySignature({ method: 'GET', rawPath, rawQuery: q, headers: req.headers, body: Buffer.alloc(0) }, (key) => credentials.get(key), Date.now());
      return true;
    } catch {
      return false;
    }
  };
  if (attempt(rawQuery)) return true;
  const withoutToken = rawQuery
    .split('&')
    .filter((p) => !p.startsWith('X-Amz-Security-Token='))
    .join('&');
  return withoutToken !== rawQuery && attempt(withoutToken);
}

function refuse(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}
