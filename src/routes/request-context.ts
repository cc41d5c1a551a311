/**
 * What the app attaches to a request before a handler runs: the authenticated principal (from
 * the onRequest hook, before any body byte is read) and the raw body text (from our parser).
 */
import type { FastifyRequest } from 'fastify';
import type { Principal } from '../auth/keys.js';
import type { ConfigStore } from '../config/store.js';
import type { TeamConfig } from '../config/types.js';
import { TollgateError } from '../errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
    rawBody: string;
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

/** The JSON body of a proxied call: an object with a string `model` (SPEC §7). */
export function parsedBody(req: FastifyRequest): { json: Record<string, unknown>; text: string } {
  const body: unknown = req.body;
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new TollgateError('invalid_body', 'The request body must be a JSON object.');
  }
  const json = body as Record<string, unknown>;
  if (json.model === undefined || json.model === null || json.model === '') {
    throw new TollgateError('missing_model', "The request body must name a 'model'.");
  }
  if (typeof json.model !== 'string') throw new TollgateError('invalid_body', "'model' must be a string.");
  return { json, text: req.rawBody };
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
