/** GET /usage/projection?team=: the flat-rate decision on this month's own traffic. */
import type { FastifyInstance } from 'fastify';
import { windowAt } from '../budget/windows.js';
import type { Deps } from '../deps.js';
import { project, type Candidate } from '../projection/projection.js';
import { ratesFor } from '../pricing/rates.js';
import { anyGlobMatches } from '../routing/glob.js';
import { providerFor } from '../routing/route-model.js';
import { scopedTeam } from './request-context.js';

/** Widely used low-cost models a team might move traffic to; offered only when routable and priced. */
const CHEAPER_CANDIDATES = [
  'gpt-4.1-nano', 'gpt-4o-mini', 'gpt-4.1-mini', 'gpt-5-nano', 'gpt-5-mini', 'claude-3-5-haiku-latest', 'claude-haiku-4-5',
  'deepseek-chat', 'gemini-2.5-flash', 'gemini-2.5-flash-lite', 'mistral-small-latest',
];

export function registerProjectionRoute(app: FastifyInstance, deps: Deps): void {
  app.get('/usage/projection', async (req) => {
    const team = scopedTeam(req, (req.query as Record<string, string | undefined>).team);
    const now = deps.clock();
    const month = windowAt('month', now);
    const monthEnd = month.resetsAt ?? now;
    const report = await deps.ledger.usage({ from: month.start, to: now + 1, team, groupBy: ['model', 'provider'] });
    const traffic = report.groups.map((g) => ({
      model: g.model ?? '',
      provider: g.provider ?? '',
      requests: g.requests,
      inputTokens: g.input_tokens,
      cachedInputTokens: g.cached_input_tokens,
      cacheWriteTokens: g.cache_write_tokens,
      outputTokens: g.output_tokens,
      costNano: g.cost_nano,
    }));
    const { config, prices } = deps.store;
    const teamConfig = team === undefined ? undefined : deps.store.team(team);
    const candidates: Candidate[] = [...new Set([...CHEAPER_CANDIDATES, ...Object.keys(config.prices).filter((m) => !m.includes('*'))])].flatMap((model) => {
      const provider = providerFor(model, config.providers);
      if (!provider || (teamConfig?.models && !anyGlobMatches(teamConfig.models, model))) return [];
      const quote = prices.lookup(provider.priceFamily, model, new Date(now));
      return quote ? [{ model, provider: provider.name, rates: ratesFor(quote.rates, 0) }] : [];
    });
    return {
      team: team ?? null,
      ...project({ now, monthStart: month.start, monthEnd, traffic, flatRateOptions: config.flatRateOptions, candidates }),
    };
  });
}
