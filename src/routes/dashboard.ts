import type { FastifyInstance } from 'fastify';
import { DASHBOARD_HTML } from '../dashboard/page.js';

/** The page itself is public; everything it shows is read with the key the user enters. */
export function registerDashboardRoute(app: FastifyInstance): void {
  app.get('/dashboard', async (_req, reply) => {
    reply
      .type('text/html; charset=utf-8')
      .header('content-security-policy', "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self'")
      .header('x-content-type-options', 'nosniff');
    return DASHBOARD_HTML;
  });
}
