/**
 * GET /v1/models: OpenAI's list shape with concrete ids the caller's team may use: priced models
 * that route to a configured provider and pass the team's allow-list. Never a glob.
 */
import { findProvider } from '@pydantic/genai-prices';
import type { FastifyInstance } from 'fastify';
import type { Deps } from '../deps.js';
import { anyGlobMatches } from '../routing/glob.js';
import { PRICE_OVERRIDES } from '../pricing/overrides.js';
import { teamOf } from './request-context.js';

const PRICE_DATA_PROVIDER: Record<string, string> = { gemini: 'google' };

export function registerModelsRoute(app: FastifyInstance, deps: Deps): void {
  app.get('/v1/models', async (req) => {
    const team = teamOf(req, deps.store);
    const { providers, prices } = deps.store.config;
    const ids = new Set<string>();
    for (const provider of providers) {
      const known = findProvider({ providerId: PRICE_DATA_PROVIDER[provider.name] ?? provider.name })?.models.map((m) => m.id) ?? [];
      const candidates = [...Object.keys(prices), ...PRICE_OVERRIDES.map((o) => o.match), ...known];
      for (const id of candidates) {
        if (id.includes('*') || !anyGlobMatches(provider.models, id)) continue;
        // The first matching provider wins, as in routing.
        if (providers.find((p) => anyGlobMatches(p.models, id)) !== provider) continue;
        if (team.models && !anyGlobMatches(team.models, id)) continue;
        ids.add(`${provider.name}\u0000${id}`);
      }
    }
    const data = [...ids].sort().map((key) => {
      const [owner, id] = key.split('\u0000') as [string, string];
      return { id, object: 'model', created: 0, owned_by: owner };
    });
    return { object: 'list', data };
  });
}
