// Alerts across restarts (SPEC §5: "once per team, budget, window and threshold, also across
// restarts", delivered at least once from a persisted outbox): a new process on the same ledger
// neither repeats a threshold nor a budget.exhausted already fired in the window, and picks up
// deliveries the previous process could not make.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startFakeProvider, type FakeProvider } from './helpers/fake-provider.js';
import { startApp, type RawConfig, type TestApp } from './helpers/app.js';
import { chat, deliveries, replyWithPennyUsage, usageReport, usePennyPrice } from './helpers/budget.js';
import { startWebhookReceiver, type WebhookReceiver } from './helpers/webhook-receiver.js';

let fake: FakeProvider;
let receiver: WebhookReceiver;
let dir: string;
let dbPath: string;
const apps: TestApp[] = [];

beforeEach(async () => {
  fake = await startFakeProvider();
  replyWithPennyUsage(fake); // every request costs exactly $0.01
  receiver = await startWebhookReceiver();
  dir = mkdtempSync(join(tmpdir(), 'tollgate-alerts-restart-'));
  dbPath = join(dir, 'ledger.db');
});

afterEach(async () => {
  for (const app of apps.splice(0)) await app.close().catch(() => {});
  await receiver.close();
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});

/** One "process": a fresh app (new in-memory state) on the same ledger file. */
async function boot(): Promise<TestApp> {
  const app = await startApp(fake, {
    dbPath,
    configure(raw: RawConfig) {
      usePennyPrice(raw);
      // $0.05 month; 50% = $0.025, 90% = $0.045. A worst case is ≈ $0.0101.
      raw.teams[0].budgets = [{ window: 'month', limit_usd: 0.05, alert_at: [0.5, 0.9], hard_cap: true }];
      raw.alerts = { webhooks: [{ url: `${receiver.url}/hook`, format: 'json' }], max_attempts: 50, backoff_base_ms: 20 };
    },
  });
  apps.push(app);
  return app;
}

async function shutdown(app: TestApp): Promise<void> {
  apps.splice(apps.indexOf(app), 1);
  await app.close();
}

const allDelivered = async (app: TestApp, count: number) => {
  const rows = await deliveries(app.url);
  expect(rows).toHaveLength(count);
  expect(rows.every((r) => r.state === 'delivered')).toBe(true);
};

describe('restart mid-window', () => {
  it('repeats neither a threshold nor budget.exhausted already fired', async () => {
    const first = await boot();
    for (let i = 0; i < 3; i++) expect((await chat(first.url)).status).toBe(200); // $0.03: crosses 50%
    await vi.waitFor(() => allDelivered(first, 1));
    await shutdown(first);

    const second = await boot();
    // The new process knows from the ledger what was spent and what already fired.
    expect((await usageReport(second.url)).budgets[0]).toMatchObject({ spent_usd: 0.03, alerts_fired: [0.5] });
    // More spend in the same window, still past 50% and short of 90%: settling it must not re-fire 50%.
    expect((await chat(second.url)).status).toBe(200); // $0.04
    // A refusal ($0.04 + ≈$0.0101 > $0.05) sends budget.exhausted from this process: once it has
    // arrived, this process's outbox has run, so a repeated 50% would have arrived too.
    expect((await chat(second.url)).status).toBe(402);
    await vi.waitFor(() => allDelivered(second, 2));
    await shutdown(second);

    const third = await boot();
    // A second refusal after another restart, same window: no new event is even recorded.
    expect((await chat(third.url)).status).toBe(402);
    const rows = (await deliveries(third.url))
      .map((r) => (r.event === 'budget.threshold' ? `${r.event}@${r.threshold}:${r.state}` : `${r.event}:${r.state}`))
      .sort();
    expect(rows).toEqual(['budget.exhausted:delivered', 'budget.threshold@0.5:delivered']);
    expect((await usageReport(third.url)).budgets[0]).toMatchObject({ spent_usd: 0.04, alerts_fired: [0.5] });

    const received = receiver.delivered().map((h) => [h.body.event, h.body.threshold, h.body.spent_usd]);
    expect(received).toHaveLength(2);
    expect(received).toEqual(expect.arrayContaining([
      ['budget.threshold', 0.5, 0.03],
      ['budget.exhausted', expect.any(Number), 0.04],
    ]));
    expect(receiver.hits).toHaveLength(2); // nothing failed, nothing repeated
  });

  it('resumes pending deliveries: receiver down for the first process, up for the second', async () => {
    await receiver.stop(); // connections to its port are refused now

    const first = await boot();
    for (let i = 0; i < 3; i++) expect((await chat(first.url)).status).toBe(200); // crosses 50%
    // The first process tries and fails; the delivery stays pending in the outbox.
    await vi.waitFor(async () => {
      const [row] = await deliveries(first.url);
      expect(row).toMatchObject({ event: 'budget.threshold', threshold: 0.5, state: 'pending' });
      expect(row!.attempts).toBeGreaterThanOrEqual(1);
      expect(row!.last_error).toBeTruthy();
    });
    await shutdown(first);
    expect(receiver.hits).toHaveLength(0);

    await receiver.listen(); // back, on the same port
    const second = await boot(); // nothing new is spent: only the outbox can send anything
    await vi.waitFor(() => allDelivered(second, 1), { timeout: 10_000 });
    const [row] = await deliveries(second.url);
    expect(row!.attempts).toBeGreaterThanOrEqual(2); // the failed tries, then the one that worked
    expect(row!.last_error).toBeNull();
    expect(receiver.hits.map((h) => [h.status, h.body.event, h.body.threshold, h.body.spent_usd])).toEqual([
      [200, 'budget.threshold', 0.5, 0.03],
    ]);
  });
});
