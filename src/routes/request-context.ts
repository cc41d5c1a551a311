/**
 * What the app attaches to a request before a handler runs: the authenticated principal (from
 * the onRequest hook, before any body byte is read) and the body as our parser read it.
 */
import type { FastifyRequest } from 'fastify';
import type { Principal } from '../auth/keys.js';
import type { ProxiedBody } from '../body/analyzer.js';
import type { ConfigStore } from '../config/store.js';
import type { TeamConfig } from '../config/types.js';
import { TollgateError } from '../errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
    /** What the ledger recorded for a proxied call, for the access log line. */
    access: Record<string, unknown> | null;
  }
}

export function teamOf(req: FastifyRequest, store: ConfigStore): TeamConfig {
  const p = req.principal;
  if (!p) throw new TollgateError('invalid_api_key', 'Invalid or missing API key.');
  if (p.kind !== 'team') {
    throw new TollgateError('team_forbidden', 'Admin keys read usage; proxied requests need a team key.');
  }
  const team = store.team(p.team);
  if (!team) throw new TollgateError('invalid_api_key', 'Invalid or missing API key.'); // team removed by a reload
  return team;
}

/** The body of a proxied call, already checked by the parser (SPEC §7: a JSON object with a string `model`). */
export function proxiedBody(req: FastifyRequest): ProxiedBody {
  const body = req.body as ProxiedBody | undefined;
  if (body === undefined || body === null) throw new TollgateError('invalid_body', 'The request body must be a JSON object.');
  return body;
}

/** The team a read is limited to: undefined = all teams (admin only). */
export function scopedTeam(req: FastifyRequest, requested: string | undefined): string | undefined {
  const p = req.principal;
  if (!p) throw new TollgateError('invalid_api_key', 'Invalid or missing API key.');
  const wanted = requested === undefined || requested === '' ? undefined : requested;
  if (p.kind === 'admin') return wanted;
  if (wanted !== undefined && wanted !== p.team) {
    throw new TollgateError('team_forbidden', `This key belongs to team '${p.team}' and cannot read team '${wanted}'.`);
  }
  return p.team;
}
