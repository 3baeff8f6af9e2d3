// Closed-loop HTTP/1.1 load generator: N keep-alive connections, each sending its next request as soon as the
// previous answer has been read, for a fixed duration. Latency is measured from request start to the end of the body.
//
// Two engines share that loop: `http` (node:http with a keep-alive Agent, the default) and `net` (raw sockets
// writing pre-serialized requests and reading Content-Length framed answers). `net` costs the client several times
// less CPU per request, which matters when the server under test is faster than node:http can drive it.
import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

export type Engine = 'http' | 'net';

export interface LoadRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
}

export interface LoadOptions {
  /** host:port of the target, e.g. http://127.0.0.1:1234 */
  url: string;
  connections: number;
  durationMs: number;
  /** Builds the request each connection sends next (may sign it on the spot). `n` counts requests started. */
  next: (n: number) => LoadRequest | Promise<LoadRequest>;
  /** Status codes counted as success; default 200. */
  okStatus?: (status: number) => boolean;
  engine?: Engine;
}

export interface LoadResult {
  /** Successful requests completed inside the measured window. */
  count: number;
  /** Requests that answered with another status or failed on the socket. */
  errors: number;
  /** A sample of the first error, for the report. */
  firstError?: string;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  elapsedMs: number;
  /** CPU the load generator process used, as a share of one core (1 = 100 %). */
  clientCpu: number;
}

/** Sends one request on a fresh connection and returns its status and body. */
export function sendOnce(url: string, req: LoadRequest): Promise<{ status: number; body: string }> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const r = request({ host: target.hostname, port: target.port, method: req.method, path: req.path, headers: req.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    r.on('error', reject);
    r.end(req.body);
  });
}

/** Runs the load and returns the figures of the successful requests. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const target = new URL(options.url);
  const okStatus = options.okStatus ?? ((s: number) => s === 200);
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let started = 0;
  const failed = (why: string) => {
    errors++;
    firstError ??= why;
  };

  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const deadline = t0 + options.durationMs;

  let client: { worker(): Promise<void>; close(): void };
  if (options.engine === 'net') {
    client = rawClient(target, okStatus, latencies, failed, () => (performance.now() < deadline ? options.next(started++) : undefined));
  } else {
    const agent = new Agent({ keepAlive: true, maxSockets: options.connections, maxFreeSockets: options.connections });
    const one = (req: LoadRequest) =>
      new Promise<void>((resolve) => {
        const begin = performance.now();
        const r = request({ agent, host: target.hostname, port: target.port, method: req.method, path: req.path, headers: req.headers }, (res) => {
          const ok = okStatus(res.statusCode ?? 0);
          const chunks: Buffer[] = [];
          if (ok) res.resume();
          else res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            if (ok) latencies.push(performance.now() - begin);
            else failed(`HTTP ${res.statusCode}: ${Buffer.concat(chunks).toString('utf8').slice(0, 300)}`);
            resolve();
          });
          res.on('error', (err) => {
            failed(String(err));
            resolve();
          });
        });
        r.on('error', (err) => {
          failed(String(err));
          resolve();
        });
        r.end(req.body);
      });
    client = {
      async worker() {
        while (performance.now() < deadline) await one(await options.next(started++));
      },
      close: () => agent.destroy(),
    };
  }
  await Promise.all(Array.from({ length: options.connections }, () => client.worker()));

  const elapsedMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  client.close();

  latencies.sort((a, b) => a - b);
  const pct = (p: number) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] : NaN);
  return {
    count: latencies.length,
    errors,
    firstError,
    rps: (latencies.length / elapsedMs) * 1000,
    p50Ms: pct(50),
    p99Ms: pct(99),
    maxMs: latencies.length ? latencies[latencies.length - 1] : NaN,
    elapsedMs,
    clientCpu: (cpu.user + cpu.system) / 1000 / elapsedMs,
  };
}

// ---------------------------------------------------------------- raw socket engine

const serialized = new WeakMap<LoadRequest, Buffer>();

function serialize(req: LoadRequest, host: string): Buffer {
  let bytes = serialized.get(req);
  if (!bytes) {
    const body = req.body === undefined ? Buffer.alloc(0) : Buffer.from(req.body);
    let head = `${req.method} ${req.path} HTTP/1.1\r\n`;
    const names = new Set(Object.keys(req.headers).map((h) => h.toLowerCase()));
    if (!names.has('host')) head += `host: ${host}\r\n`;
    for (const [name, value] of Object.entries(req.headers)) head += `${name}: ${value}\r\n`;
    if (!names.has('content-length') && (body.length > 0 || req.method === 'PUT' || req.method === 'POST')) head += `content-length: ${body.length}\r\n`;
    bytes = Buffer.concat([Buffer.from(`${head}connection: keep-alive\r\n\r\n`, 'latin1'), body]);
    serialized.set(req, bytes);
  }
  return bytes;
}

const HEAD_END = Buffer.from('\r\n\r\n');

/**
 * One socket per connection at a time; each answer must be framed by Content-Length (what both servers send). An
 * answer with `Connection: close` (Flotilla closes a keep-alive connection after 1000 requests) is followed by a new
 * socket, as a keep-alive Agent would do.
 */
function rawClient(
  target: URL,
  okStatus: (status: number) => boolean,
  latencies: number[],
  failed: (why: string) => void,
  next: () => LoadRequest | Promise<LoadRequest> | undefined,
) {
  const sockets = new Set<Socket>();
  const port = Number(target.port);
  const worker = () =>
    new Promise<void>((resolve) => {
      let socket: Socket;
      let buffered: Buffer = Buffer.alloc(0);
      let begin = 0;
      let inFlight = false;
      let finished = false;
      const finish = () => {
        if (finished) return;
        finished = true;
        socket.destroy();
        resolve();
      };
      const send = async () => {
        const req = await next();
        if (!req) return finish();
        begin = performance.now();
        inFlight = true;
        socket.write(serialize(req, target.host));
      };
      const sendNext = () =>
        send().catch((err) => {
          failed(`building the request failed: ${err}`);
          finish();
        });
      const open = () => {
        const s = connect({ host: target.hostname, port, noDelay: true });
        socket = s;
        sockets.add(s);
        buffered = Buffer.alloc(0);
        s.on('connect', sendNext);
        s.on('error', (err) => {
          if (!finished) failed(String(err));
          finish();
        });
        s.on('close', () => {
          sockets.delete(s);
          if (s !== socket) return; // replaced after a Connection: close
          if (!finished && inFlight) failed('the server closed the connection before answering');
          finish();
        });
        s.on('data', (chunk: Buffer) => {
          buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
          const headEnd = buffered.indexOf(HEAD_END);
          if (headEnd < 0) return;
          const head = buffered.toString('latin1', 0, headEnd);
          const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
          if (!length) {
            failed(`answer without Content-Length: ${head.slice(0, 200)}`);
            return finish();
          }
          const total = headEnd + 4 + Number(length[1]);
          if (buffered.length < total) return;
          const status = Number(head.slice(9, 12));
          if (okStatus(status)) latencies.push(performance.now() - begin);
          else failed(`HTTP ${status}: ${buffered.toString('utf8', headEnd + 4, total).slice(0, 300)}`);
          buffered = buffered.subarray(total);
          inFlight = false;
          if (/\r\nconnection:\s*close/i.test(head)) {
            s.destroy();
            open();
          } else {
            void sendNext();
          }
        });
      };
      open();
    });
  return {
    worker,
    close: () => {
      for (const s of sockets) s.destroy();
    },
  };
}
