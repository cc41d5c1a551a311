/** GET /healthz: ok once serving; 503 degraded while the ledger's database does not answer (SPEC §10). */
import type { FastifyInstance } from 'fastify';
import type { Deps } from '../deps.js';

export function registerHealthRoute(app: FastifyInstance, deps: Deps): void {
  app.get('/healthz', async (_req, reply) => {
    if (!deps.ledger.healthy()) return reply.code(503).send({ status: 'degraded', database: 'unreachable' });
    return { status: 'ok' };
  });
}
