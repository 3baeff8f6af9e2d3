// The baseline: Fastify with nothing else, answering a constant JSON at GET /x. Run as a child by bench/servers.ts.
import Fastify from 'fastify';

const app = Fastify({ logger: false });
const answer = { packageName: 'bench', versionName: '1.0.0', status: 'DRAFT' };
app.get('/x', async () => answer);

await app.listen({ host: '127.0.0.1', port: 0 });
const address = app.server.address();
const port = typeof address === 'object' && address ? address.port : 0;
process.stdout.write(`bare ready url=http://127.0.0.1:${port}\n`);

const stop = async () => {
  await app.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
