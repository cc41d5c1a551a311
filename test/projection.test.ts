// GET /usage/projection: the month-end run rate, each flat-rate option's break-even against the
// projected volume, cheaper models for the same traffic, and the cache's share of input.
import { afterEach, beforeEach, expect, it } from 'vitest';
import { OPENAI_USAGE, startFakeProvider, type FakeProvider } from './helpers/fake-provider.js';
import { ADMIN_KEY, TEAM_KEY, startApp, type TestApp } from './helpers/app.js';

let fake: FakeProvider;
let tg: TestApp;
// Half of November has passed: the run rate doubles the month so far.
const NOW = Date.parse('2026-11-16T00:00:00Z');

beforeEach(async () => {
  fake = await startFakeProvider();
  tg = await startApp(fake, {
    clock: () => NOW,
    configure: (raw) => {
      raw.flat_rate_options = [
        { name: 'cheap-plan', monthly_usd: 0.03, models: ['gpt-4o'] },
        { name: 'dear-plan', monthly_usd: 1, models: ['gpt-4o*'] },
        { name: 'claude-plan', monthly_usd: 100, models: ['claude-*'] },
      ];
    },
  });
  for (let i = 0; i < 4; i++) {
    const res = await fetch(`${tg.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEAM_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.status).toBe(200);
  }
});
afterEach(async () => {
  await tg.close();
  await fake.close();
});

it('projects the month and decides each flat-rate option on the team’s own traffic', async () => {
  const res = await fetch(`${tg.url}/usage/projection?team=search`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
  expect(res.status).toBe(200);
  const p = (await res.json()) as any;
  // Per request: 1000 uncached × $2.50 + 200 cached × $1.25 + 300 × $10 per 1M = $0.00575.
  const perRequest = 0.00575;
  const tokensPerRequest = OPENAI_USAGE.prompt_tokens + OPENAI_USAGE.completion_tokens;
  expect(p.elapsed_fraction).toBe(0.5);
  expect(p.month_to_date).toEqual({ cost_usd: 4 * perRequest, tokens: 4 * tokensPerRequest });
  expect(p.projected_month_end).toEqual({ cost_usd: 8 * perRequest, tokens: 8 * tokensPerRequest });

  const blendedPerToken = perRequest / tokensPerRequest;
  const [cheap, dear, claude] = p.flat_rate_options;
  expect(cheap.break_even_tokens_per_month).toBe(Math.ceil(0.03 / blendedPerToken));
  expect(cheap.projected_tokens).toBe(8 * tokensPerRequest);
  expect(cheap.verdict).toBe('flat_rate_cheaper');
  expect(dear.break_even_tokens_per_month).toBe(Math.ceil(1 / blendedPerToken));
  expect(dear.verdict).toBe('per_token_cheaper');
  expect(claude.verdict).toBe('no_traffic');

  // The same traffic on gpt-4o-mini ($0.15 / $0.075 cached / $0.60).
  const miniPerRequest = (1000 * 0.15 + 200 * 0.075 + 300 * 0.6) / 1e6;
  const [gpt4o] = p.alternatives;
  expect(gpt4o.model).toBe('gpt-4o');
  const mini = gpt4o.cheaper.find((c: any) => c.model === 'gpt-4o-mini');
  expect(mini.cost_usd).toBeCloseTo(4 * miniPerRequest, 9);
  expect(gpt4o.cheaper.every((c: any) => c.cost_usd < 4 * perRequest)).toBe(true);

  expect(p.cache.share_of_input_from_cache).toBeCloseTo(200 / 1200, 6);
});

it('is scoped like /usage: a team key reads its own team only', async () => {
  const own = await fetch(`${tg.url}/usage/projection`, { headers: { authorization: `Bearer ${TEAM_KEY}` } });
  expect(((await own.json()) as any).team).toBe('search');
  const other = await fetch(`${tg.url}/usage/projection?team=ads`, { headers: { authorization: `Bearer ${TEAM_KEY}` } });
  expect(other.status).toBe(403);
});
