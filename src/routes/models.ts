/**
 * GET /v1/models: OpenAI's list shape with concrete ids the caller may use: priced models of
 * providers that have a key, routed to that provider (first glob match wins, as in routing), and
 * inside the team's allow-list (an admin key sees every team's). Never a glob or a prefix.
 */
import { findProvider, type MatchLogic } from '@pydantic/genai-prices';
import type { FastifyInstance } from 'fastify';
import type { Deps } from '../deps.js';
import { TollgateError } from '../errors.js';
import { ALIASES, PRICE_OVERRIDES } from '../pricing/overrides.js';
import { anyGlobMatches } from '../routing/glob.js';
import { providerFor } from '../routing/route-model.js';

/** What an API model id looks like: no price-data suffixes such as `:extended` or a trailing `-`. */
const MODEL_NAME = /^[a-z0-9][a-z0-9._-]*[a-z0-9]$/i;

/**
 * Concrete ids from a price-data entry: the exact names its match lists, and its own id when that
 * id satisfies the match and reads as a model name (not a prefix such as `…-2024-07-18.ft-`).
 */
function concreteIds(model: { id: string; match: MatchLogic }): string[] {
  const ids = new Set(exactNames(model.match));
  if (matches(model.match, model.id)) ids.add(model.id);
  return [...ids].filter((id) => MODEL_NAME.test(id));
}

function exactNames(m: MatchLogic): string[] {
  if ('equals' in m) return [m.equals];
  if ('or' in m) return m.or.flatMap(exactNames);
  return [];
}

function matches(m: MatchLogic, id: string): boolean {
  if ('equals' in m) return id === m.equals;
  if ('starts_with' in m) return id.startsWith(m.starts_with);
  if ('ends_with' in m) return id.endsWith(m.ends_with);
  if ('contains' in m) return id.includes(m.contains);
  if ('regex' in m) return new RegExp(m.regex).test(id);
  if ('or' in m) return m.or.some((x) => matches(x, id));
  return m.and.every((x) => matches(x, id));
}

let knownIds: string[] | undefined;

/** Every concrete model id the price data names, whoever's list it is in (computed once). */
function priceDataIds(): string[] {
  knownIds ??= [...new Set(PRICE_DATA_FAMILIES.flatMap((f) => findProvider({ providerId: f })?.models.flatMap(concreteIds) ?? []))];
  return knownIds;
}

/** The lists a model id may be found in: direct providers' own, not resellers' (`vendor/model` ids). */
const PRICE_DATA_FAMILIES = ['openai', 'anthropic', 'google', 'mistral', 'deepseek', 'x-ai', 'cohere', 'groq', 'together', 'fireworks', 'perplexity', 'moonshotai', 'azure'];

export function registerModelsRoute(app: FastifyInstance, deps: Deps): void {
  app.get('/v1/models', async (req) => {
    const principal = req.principal;
    if (!principal) throw new TollgateError('invalid_api_key', 'Invalid or missing API key.');
    const { providers, prices, teams } = deps.store.config;
    const allowList = principal.kind === 'team' ? deps.store.team(principal.team)?.models : undefined;
    if (principal.kind === 'team' && !teams.some((t) => t.name === principal.team)) {
      throw new TollgateError('invalid_api_key', 'Invalid or missing API key.');
    }
    const seen = new Map<string, string>();
    const now = new Date(deps.clock());
    const ours = [...PRICE_OVERRIDES.flatMap((o) => o.match), ...ALIASES.map((a) => a.alias)];
    for (const id of new Set([...Object.keys(prices), ...ours, ...priceDataIds()])) {
      if (/[*?]/.test(id)) continue;
      // Listed under the provider that routing would send it to, when that provider can price it.
      const provider = providerFor(id, providers);
      if (!provider || provider.apiKey === undefined) continue;
      if (allowList && !anyGlobMatches(allowList, id)) continue;
      if (deps.store.prices.lookup(provider.priceFamily, id, now)) seen.set(id, provider.name);
    }
    const data = [...seen.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([id, owner]) => ({ id, object: 'model', created: 0, owned_by: owner }));
    return { object: 'list', data };
  });
}
