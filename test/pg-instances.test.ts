// Several instances on one PostgreSQL ledger (SPEC §10, issue 9): they behave as one. Three
// Tollgate apps, each with its own connection pool, share a fresh database: a hard cap holds
// exactly across them under 300 concurrent requests, all three answer /usage the same to the
// nano-dollar, and each alert event is delivered once whichever instance crossed it.
import OpenAI from 'openai';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startFakeProvider, type FakeProvider } from './helpers/fake-provider.js';
import { ADMIN_KEY, startApp, TEAM_KEY, type RawConfig, type TestApp } from './helpers/app.js';
import { PENNY_BODY, PENNY_NANO, replyWithPennyUsage, usePennyPrice } from './helpers/budget.js';
import { freshDatabase, pgClusterUrl } from './helpers/postgres.js';
import { eventKey, startWebhookReceiver, type WebhookReceiver } from './helpers/webhook-receiver.js';

let fake: FakeProvider;
let apps: TestApp[] = [];

beforeEach(async () => {
  fake = await startFakeProvider();
});

afterEach(async () => {
  for (const a of apps) await vi.waitFor(() => expect(a.deps.budgets.openReservations()).toBe(0));
  for (const a of apps) await a.close();
  apps = [];
  await fake.close();
});

async function instances(n: number, configure: (raw: RawConfig) => void): Promise<TestApp[]> {
  const databaseUrl = await freshDatabase();
  apps = await Promise.all(Array.from({ length: n }, () => startApp(fake, { databaseUrl, configure })));
  return apps;
}

async function admin(app: TestApp, path: string): Promise<any> {
  const res = await fetch(`${app.url}${path}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
  expect(res.status, path).toBe(200);
  return res.json();
}

describe.skipIf(!pgClusterUrl())('three instances on one PostgreSQL ledger', () => {
  it('300 concurrent requests round-robin: spend ≤ cap, at least floor(cap / worst) − 1 admitted, refusals unforwarded, same totals everywhere', async () => {
    // my-finetune at $1 in / $10 out per 1M; max_tokens 1,000 → worst case ≈ $0.0101; usage costs $0.01.
    const CAP_USD = 0.105; // ≈ 10.4 worst cases
    const all = await instances(3, (raw) => {
      usePennyPrice(raw);
      raw.teams[0].budgets = [{ window: 'month', limit_usd: CAP_USD, hard_cap: true }];
    });
    replyWithPennyUsage(fake);
    const clients = all.map((a) => new OpenAI({ apiKey: TEAM_KEY, baseURL: `${a.url}/v1`, maxRetries: 2 }));
    const body = JSON.parse(PENNY_BODY) as OpenAI.Chat.ChatCompletionCreateParamsNonStreaming;
    const results = await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        (clients[i % 3] as OpenAI).chat.completions.create(body).then(
          () => 'ok' as const,
          (err: unknown) => (err instanceof OpenAI.APIError ? err.status : err),
        ),
      ),
    );
    const admitted = results.filter((r) => r === 'ok').length;
    const refused = results.filter((r) => r === 402).length;
    expect(admitted + refused, JSON.stringify(results.filter((r) => r !== 'ok' && r !== 402)).slice(0, 300)).toBe(300);

    // The worst case (README): the body's bytes at $1/1M (1,000 nano a token) + max_tokens 1,000 at $10/1M.
    const worstNano = Buffer.byteLength(PENNY_BODY) * 1_000 + 1_000 * 10_000;
    expect(admitted).toBeGreaterThanOrEqual(Math.floor((CAP_USD * 1e9) / worstNano) - 1);
    expect(admitted * PENNY_NANO).toBeLessThanOrEqual(CAP_USD * 1e9);
    expect(fake.requests).toHaveLength(admitted); // refused requests never reached the provider

    const reports = await Promise.all(all.map((a) => admin(a, '/usage?group_by=team')));
    for (const r of reports) {
      expect(r.totals).toMatchObject({ requests: admitted, refused, cost_usd: (admitted * PENNY_NANO) / 1e9 });
      expect(r.budgets[0]).toMatchObject({ spent_usd: (admitted * PENNY_NANO) / 1e9, reserved_usd: 0 });
    }
    expect(new Set(reports.map((r) => JSON.stringify(r.totals))).size).toBe(1);
    const metrics = await Promise.all(all.map(async (a) =>
      (await (await fetch(`${a.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })).text())
        .split('\n').filter((l) => /^tollgate_(requests|tokens|cost_usd|budget_refusals)_total|^tollgate_budget_remaining/.test(l)).join('\n')));
    expect(metrics[0]).toContain(`tollgate_requests_total{team="search",model="my-finetune",provider="openai",status="200"} ${admitted}`);
    expect(new Set(metrics).size).toBe(1);
    const pages = await Promise.all(all.map((a) => admin(a, '/usage/requests?limit=1000')));
    expect(new Set(pages.map((p) => JSON.stringify(p.data))).size).toBe(1);
    expect(pages[0].data).toHaveLength(admitted);
  });

  describe('alerts', () => {
    let receiver: WebhookReceiver;
    beforeEach(async () => {
      receiver = await startWebhookReceiver();
    });
    afterEach(async () => {
      await receiver.close();
    });

    it('thresholds crossed through three instances are each delivered once', async () => {
      const all = await instances(3, (raw) => {
        usePennyPrice(raw);
        raw.teams[0].budgets = [{ window: 'month', limit_usd: 0.1, alert_at: [0.2, 0.5, 0.8, 1.0], hard_cap: false }];
        raw.alerts = { webhooks: [{ url: `${receiver.url}/hook`, format: 'json' }], backoff_base_ms: 20 };
      });
      replyWithPennyUsage(fake);
      // Twelve cents in bursts of three (one per instance), so crossings race between instances.
      for (let round = 0; round < 4; round++) {
        await Promise.all(all.map((a) => fetch(`${a.url}/v1/chat/completions`, {
          method: 'POST', headers: { authorization: `Bearer ${TEAM_KEY}`, 'content-type': 'application/json' }, body: PENNY_BODY,
        }).then((r) => expect(r.status).toBe(200))));
      }
      const thresholds = [0.2, 0.5, 0.8, 1];
      await vi.waitFor(() => expect(receiver.delivered().map((h) => h.body.threshold).sort()).toEqual(thresholds), { timeout: 10_000 });
      // Give every outbox a few more passes: nothing arrives twice.
      await new Promise((r) => setTimeout(r, 500));
      const keys = receiver.received.map((h) => eventKey(h.body));
      expect(keys).toHaveLength(4);
      expect(new Set(keys).size).toBe(4);
      for (const a of all) {
        const rows = (await admin(a, '/alerts/deliveries')).data as { state: string; attempts: number }[];
        expect(rows.map((r) => [r.state, r.attempts])).toEqual(thresholds.map(() => ['delivered', 1]));
      }
    });
  });
});
