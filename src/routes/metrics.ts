import type { FastifyInstance } from 'fastify';
import type { Deps } from '../deps.js';
import { TollgateError } from '../errors.js';

export function registerMetricsRoute(app: FastifyInstance, deps: Deps): void {
  app.get('/metrics', async (req, reply) => {
    if (req.principal?.kind !== 'admin') {
      const hint = deps.store.config.adminKeys.length === 0 ? ' None is configured: set TOLLGATE_ADMIN_KEY (admin_keys).' : '';
      throw new TollgateError('admin_key_required', `/metrics needs an admin key.${hint}`);
    }
    reply.type(deps.metrics.registry.contentType);
    return deps.metrics.registry.metrics();
  });
}
