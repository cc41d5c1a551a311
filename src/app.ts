/**
 * buildApp(deps): the HTTP app without a process, so tests build it with their own deps.
 * Hooks and routes are registered explicitly, in pipeline order.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import { presentedKey } from './auth/keys.js';
import type { Deps } from './deps.js';
import { dialectOf, renderError, TollgateError } from './errors.js';
import { registerDashboardRoute } from './routes/dashboard.js';
import { registerHealthRoute } from './routes/health.js';
import { lingerOnClose } from './routes/lingering-close.js';
import { registerMetricsRoute } from './routes/metrics.js';
import { registerModelsRoute } from './routes/models.js';
import { registerProjectionRoute } from './routes/projection.js';
import { registerProxyRoutes } from './routes/proxy.js';
import { registerUsageRoutes } from './routes/usage.js';
import './routes/request-context.js';

/** Paths that need no key. */
const PUBLIC_PATHS = new Set(['/healthz', '/dashboard']);

export async function buildApp(deps: Deps): Promise<FastifyInstance> {
  const { config } = deps.store;
  const app = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger,
    bodyLimit: config.server.bodyLimitBytes,
    // Streams may run for minutes; the upstream timeout bounds them, not a socket timer here.
    requestTimeout: 0,
    // While closing, our own hook answers 503 in the right envelope (Fastify's would not be).
    return503OnClosing: false,
    genReqId: () => crypto.randomUUID(),
    // One access line per request, ours (below), instead of Fastify's two generic ones.
    logController: new LogController({ disableRequestLogging: true }),
  });

  app.decorateRequest('principal', null);
  app.decorateRequest('access', null);

  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });

  // 1 · authenticate before the body is read (order of checks: key → size → shape).
  app.addHook('onRequest', async (req) => {
    if (closing) {
      throw new TollgateError('shutting_down', 'Tollgate is shutting down; retry the request.', { headers: { connection: 'close' } });
    }
    const path = req.url.split('?')[0] ?? '';
    if (PUBLIC_PATHS.has(path)) return;
    req.principal = deps.store.keys.lookup(presentedKey(req.headers)) ?? null;
    if (!req.principal) throw new TollgateError('invalid_api_key', unauthenticatedMessage(path, deps.store.config.adminKeys.length > 0));
    // A parameter given twice has no one meaning (which `team`?): refused, never guessed (SPEC §6).
    const repeated = Object.entries(req.query as Record<string, unknown>).find(([, v]) => Array.isArray(v));
    if (repeated) throw new TollgateError('invalid_query', `Query parameter '${repeated[0]}' is given more than once.`);
  });

  // The access log: one line a request at info, with what the ledger recorded for proxied calls
  // (the line users grep: request id, team, key, model, provider, status, tokens, cost, latency).
  app.addHook('onResponse', (req, reply, done) => {
    req.log.info({ method: req.method, path: req.url.split('?')[0], status: reply.statusCode, ms: Math.round(reply.elapsedTime * 100) / 100, ...req.access }, 'request');
    done();
  });

  // Every body is read as JSON whatever its content type (curl -d sends form-encoded), with the
  // body limit enforced while streaming in, so an oversized body is refused without being held.
  // Large bodies are parsed off the event loop (body/analyzer.ts).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, async (_req: unknown, buf: Buffer | string) =>
    deps.bodies.read(typeof buf === 'string' ? Buffer.from(buf) : buf),
  );

  app.setErrorHandler((err: FastifyError | TollgateError, req, reply) => {
    const dialect = dialectOf(req.url);
    const typed = toTollgateError(err);
    if (typed.code === 'internal_error') req.log.error({ err }, 'unhandled error');
    if (typed.code === 'request_too_large') lingerOnClose(req.raw.socket);
    // A stream that failed before its first byte already carries the provider's headers: ours replace them.
    reply.removeHeader('content-type');
    reply.removeHeader('content-length');
    const rendered = renderError(typed, dialect);
    return reply.code(rendered.status).headers(rendered.headers).send(rendered.body);
  });

  app.setNotFoundHandler((req, reply) => {
    const rendered = renderError(new TollgateError('not_found', `No route for ${req.method} ${req.url.split('?')[0]}.`), dialectOf(req.url));
    return reply.code(rendered.status).send(rendered.body);
  });

  registerHealthRoute(app, deps);
  registerProxyRoutes(app, deps);
  registerModelsRoute(app, deps);
  registerUsageRoutes(app, deps);
  registerProjectionRoute(app, deps);
  registerMetricsRoute(app, deps);
  registerDashboardRoute(app);
  return app;
}

/** With no admin key configured, say what to set instead of only refusing (SPEC §1). */
function unauthenticatedMessage(path: string, adminConfigured: boolean): string {
  const adminRead = /^\/(usage|metrics|alerts)/.test(path);
  return adminRead && !adminConfigured
    ? 'Invalid or missing API key. No admin key is configured: set TOLLGATE_ADMIN_KEY (admin_keys) to read every team, or use a team key.'
    : 'Invalid or missing API key.';
}

/** Fastify's own errors mapped into the catalogue; anything unknown is internal and says nothing more. */
function toTollgateError(err: FastifyError | TollgateError): TollgateError {
  if (err instanceof TollgateError) return err;
  if (err.name === 'AbortError' || err.code === 'UND_ERR_ABORTED') {
    return new TollgateError('client_closed', 'The client closed the connection.', { cause: err });
  }
  switch (err.code) {
    // A relayed stream that breaks before its first byte reaches the client lands here.
    case 'UND_ERR_BODY_TIMEOUT':
    case 'UND_ERR_HEADERS_TIMEOUT':
      return new TollgateError('upstream_timeout', 'The provider did not answer in time.', { cause: err });
    case 'UND_ERR_SOCKET':
    case 'ECONNRESET':
      return new TollgateError('upstream_unavailable', 'The provider closed the connection.', { cause: err });
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new TollgateError('request_too_large', 'The request body is larger than the configured limit.', { cause: err });
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new TollgateError('invalid_body', 'The request body could not be read.', { cause: err });
  }
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
    return new TollgateError('invalid_body', 'The request could not be read.', { cause: err });
  }
  return new TollgateError('internal_error', 'Tollgate failed to handle this request.', { cause: err });
}
