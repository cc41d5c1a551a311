/**
 * The floor: what forwarding alone costs in Node. A bare undici pass-through with no metering,
 * no ledger, no auth: read the body, send it upstream on a keep-alive pool, relay status, headers
 * and body back. Tollgate is measured against this, in the same run, on the same core.
 */
import { createServer } from 'node:http';
import { Pool } from 'undici';

const upstream = process.argv[2] as string;
const pool = new Pool(upstream, { connections: 256, pipelining: 1, keepAliveTimeout: 60_000 });

const server = createServer((req, res) => {
  const parts: Buffer[] = [];
  req.on('data', (c: Buffer) => parts.push(c));
  req.on('end', () => {
    pool.request({ method: 'POST', path: '/v1/chat/completions', headers: { 'content-type': 'application/json' }, body: Buffer.concat(parts) }).then(
      (up) => {
        res.writeHead(up.statusCode, { 'content-type': String(up.headers['content-type'] ?? 'application/json') });
        up.body.pipe(res);
      },
      () => {
        res.writeHead(502);
        res.end();
      },
    );
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening ${(server.address() as { port: number }).port}\n`);
});
