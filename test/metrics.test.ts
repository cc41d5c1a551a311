// GET /metrics: Prometheus text for admin keys only, counting what the ledger recorded.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OPENAI_USAGE, startFakeProvider, type FakeProvider } from './helpers/fake-provider.js';
import { ADMIN_KEY, SECRETS, TEAM_KEY, startApp, type TestApp } from './helpers/app.js';
import { LEDGERS } from './helpers/postgres.js';

let fake: FakeProvider;
let tg: TestApp;

describe.each(LEDGERS)('on the %s ledger', (ledger) => {
let dbPath: string;
beforeEach(async () => {
  fake = await startFakeProvider();
  dbPath = join(mkdtempSync(join(tmpdir(), 'tollgate-metrics-')), 'ledger.db');
  tg = await startApp(fake, {
    ledger,
    dbPath,
    configure: (raw) => {
      raw.teams[0].budgets = [{ window: 'month', limit_usd: 10, hard_cap: true }];
    },
  });
});
afterEach(async () => {
  await tg.close();
  await fake.close();
});

it('needs an admin key', async () => {
  expect((await fetch(`${tg.url}/metrics`)).status).toBe(401);
  expect((await fetch(`${tg.url}/metrics`, { headers: { authorization: `Bearer ${TEAM_KEY}` } })).status).toBe(403);
});

it('counts requests, tokens, cost and budget remaining per team and model', async () => {
  for (let i = 0; i < 4; i++) {
    const res = await fetch(`${tg.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEAM_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }], max_tokens: 400 }),
    });
    expect(res.status).toBe(200);
  }
  const text = await (await fetch(`${tg.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })).text();
  expect(text).toContain('tollgate_requests_total{team="search",model="gpt-4o",provider="openai",status="200"} 4');
  expect(text).toContain(`tollgate_tokens_total{team="search",model="gpt-4o",kind="input"} ${4 * OPENAI_USAGE.prompt_tokens}`);
  expect(text).toContain(`tollgate_tokens_total{team="search",model="gpt-4o",kind="output"} ${4 * OPENAI_USAGE.completion_tokens}`);
  // 4 × (1000 uncached × $2.50 + 200 cached × $1.25 + 300 × $10 per 1M) = 4 × $0.00575, summed as
  // integers: a float sum would print 0.022999999999999996.
  expect(text).toContain('tollgate_cost_usd_total{team="search",model="gpt-4o"} 0.023\n');
  expect(text).toContain('tollgate_budget_remaining_usd{team="search",window="month"} 9.977');
  expect(text).toMatch(/tollgate_upstream_latency_seconds_count\{provider="openai"\} 4/);
  // Read from the ledger: a restart (or another instance) reports the same.
  await tg.close();
  tg = await startApp(fake, { ledger, dbPath, ...(ledger === 'postgres' ? { databaseUrl: tg.deps.store.config.database.url as string } : {}) });
  const again = await (await fetch(`${tg.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })).text();
  expect(again).toContain('tollgate_requests_total{team="search",model="gpt-4o",provider="openai",status="200"} 4');
  expect(again).toContain('tollgate_cost_usd_total{team="search",model="gpt-4o"} 0.023\n');
  for (const s of SECRETS) expect(text).not.toContain(s);
});
});
