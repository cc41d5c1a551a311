// Budget alerts (SPEC §5, §8): each crossing of an alert_at fraction by settled spend is one event,
// POSTed to every webhook from a persisted outbox with backoff. A real receiver on its own port
// fails attempts on purpose; every event still arrives exactly once with a 2xx, each attempt is
// visible in /alerts/deliveries, and a bounded number of attempts ends in `failed`.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startFakeProvider, type FakeProvider } from './helpers/fake-provider.js';
import { startApp, type RawConfig, type TestApp } from './helpers/app.js';
import { LEDGERS } from './helpers/postgres.js';
import {
  PENNY_BODY,
  chat,
  deliveries,
  monthStartIso,
  replyWithPennyUsage,
  usageReport,
  usePennyPrice,
  type DeliveryRow,
} from './helpers/budget.js';
import { eventKey, failFirst, startWebhookReceiver, type WebhookReceiver } from './helpers/webhook-receiver.js';

let fake: FakeProvider;
let tg: TestApp | undefined;
let receiver: WebhookReceiver;

describe.each(LEDGERS)('on the %s ledger', (ledger) => {
  beforeEach(async () => {
    fake = await startFakeProvider();
    replyWithPennyUsage(fake); // every request costs exactly $0.01
    receiver = await startWebhookReceiver();
  });

  afterEach(async () => {
    if (tg) {
      await vi.waitFor(() => expect(tg!.deps.budgets.openReservations()).toBe(0));
      await tg.close();
      tg = undefined;
    }
    await receiver.close();
    await fake.close();
  });

  interface Setup {
    budget: Record<string, unknown>;
    webhooks: { path: string; format?: 'json' | 'slack' }[];
    maxAttempts?: number;
  }

  async function start(s: Setup): Promise<TestApp> {
    tg = await startApp(fake, {
      ledger,
      configure(raw: RawConfig) {
        usePennyPrice(raw);
        raw.teams[0].budgets = [s.budget];
        raw.alerts = {
          webhooks: s.webhooks.map((w) => ({ url: `${receiver.url}${w.path}`, format: w.format ?? 'json' })),
          max_attempts: s.maxAttempts ?? 8,
          backoff_base_ms: 20,
        };
      },
    });
    return tg;
  }

  async function spend(app: TestApp, times: number, body = PENNY_BODY): Promise<void> {
    for (let i = 0; i < times; i++) expect((await chat(app.url, body)).status).toBe(200);
  }

  /** Deliveries in the order their events were recorded. */
  const inOrder = (rows: DeliveryRow[]) => [...rows].sort((a, b) => a.id - b.id);

  describe('threshold events', () => {
    it('a receiver that fails its first 2 attempts ends up with each event exactly once', async () => {
      receiver.setResponder(failFirst(2));
      const app = await start({
        budget: { window: 'month', limit_usd: 0.05, alert_at: [0.5, 0.8], hard_cap: true },
        webhooks: [{ path: '/hook' }],
      });

      // $0.01 per request: 0.5 × $0.05 is first reached by the 3rd request, 0.8 × $0.05 exactly by the 4th.
      await spend(app, 2);
      expect(await deliveries(app.url)).toEqual([]); // $0.02 < $0.025: nothing yet
      await spend(app, 2);

      await vi.waitFor(async () => {
        const rows = await deliveries(app.url);
        expect(rows).toHaveLength(2);
        expect(rows.every((r) => r.state === 'delivered')).toBe(true);
      }, { timeout: 10_000 });

      const rows = inOrder(await deliveries(app.url));
      expect(rows.map((r) => [r.event, r.threshold, r.state, r.attempts, r.last_error, r.url])).toEqual([
        ['budget.threshold', 0.5, 'delivered', 3, null, `${receiver.url}/hook`],
        ['budget.threshold', 0.8, 'delivered', 3, null, `${receiver.url}/hook`],
      ]);
      expect(rows.every((r) => typeof r.delivered_at === 'string')).toBe(true);

      const windowStart = monthStartIso();
      const delivered = receiver.delivered().map((h) => h.body);
      expect(delivered).toHaveLength(2);
      const half = delivered.find((b) => b.threshold === 0.5);
      expect(half).toEqual({
        event: 'budget.threshold',
        team: 'search',
        window: 'month',
        threshold: 0.5,
        limit_usd: 0.05,
        spent_usd: 0.03, // settled spend when the crossing happened
        window_start: windowStart,
        at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
      });
      // Reaching the threshold exactly is crossing it (SPEC §8: ≥).
      expect(delivered.find((b) => b.threshold === 0.8)).toMatchObject({ threshold: 0.8, spent_usd: 0.04 });
      // Every attempt carried the same event; 2 failures + 1 success each, nothing after the success.
      for (const b of delivered) expect(receiver.hitsFor(eventKey(b)).map((h) => h.status)).toEqual([500, 500, 200]);

      const budget = (await usageReport(app.url)).budgets[0];
      expect(budget).toMatchObject({ spent_usd: 0.04, alerts_fired: [0.5, 0.8] });
    });

    it('json and slack webhooks each get every event; a soft budget alerts past 100% and never refuses', async () => {
      const app = await start({
        budget: { window: 'month', limit_usd: 0.02, alert_at: [0.5, 1.0], hard_cap: false },
        webhooks: [{ path: '/json', format: 'json' }, { path: '/slack', format: 'slack' }],
      });
      // No max_tokens: the worst case (the default maximum output, ≈ $0.33) is far over the limit,
      // which a hard cap would refuse; a soft budget forwards every one.
      const noLimit = JSON.stringify({ model: 'my-finetune', messages: [{ role: 'user', content: 'hi' }] });
      await spend(app, 5, noLimit); // $0.05 = 250% of the limit
      expect(fake.requests).toHaveLength(5);

      await vi.waitFor(async () => {
        const rows = await deliveries(app.url);
        expect(rows).toHaveLength(4); // 2 events × 2 webhooks
        expect(rows.every((r) => r.state === 'delivered' && r.attempts === 1)).toBe(true);
      });
      const rows = await deliveries(app.url);
      expect(rows.every((r) => r.event === 'budget.threshold')).toBe(true); // no budget.exhausted without a refusal

      const json = receiver.hits.filter((h) => h.path === '/json').map((h) => h.body);
      // Crossed by settled spend: 50% at the 1st request ($0.01), 100% at the 2nd ($0.02); none after.
      expect(json.map((b) => [b.event, b.threshold, b.spent_usd]).sort((a, b) => Number(a[1]) - Number(b[1]))).toEqual([
        ['budget.threshold', 0.5, 0.01],
        ['budget.threshold', 1, 0.02],
      ]);

      const slack = receiver.hits.filter((h) => h.path === '/slack').map((h) => h.body);
      expect(slack).toHaveLength(2);
      for (const b of slack) {
        expect(Object.keys(b)).toEqual(['text']);
        expect(b.text).toContain('search');
      }
      expect(slack.map((b) => b.text).join('\n')).toContain('50%');
      expect(slack.map((b) => b.text).join('\n')).toContain('100%');

      const report = await usageReport(app.url);
      expect(report.totals.refused).toBe(0);
      expect(report.budgets[0]).toMatchObject({
        limit_usd: 0.02,
        spent_usd: 0.05,
        remaining_usd: 0,
        hard_cap: false,
        alerts_fired: [0.5, 1],
      });
    });

    it('gives up after max_attempts: the delivery is failed with the last error, after exactly that many tries', async () => {
      receiver.setResponder(() => 500);
      const app = await start({
        budget: { window: 'month', limit_usd: 0.02, alert_at: [0.5], hard_cap: true },
        webhooks: [{ path: '/down' }],
        maxAttempts: 3,
      });
      await spend(app, 1);
      await vi.waitFor(async () => expect((await deliveries(app.url))[0]?.state).toBe('failed'), { timeout: 10_000 });
      const [row] = await deliveries(app.url);
      expect(row).toMatchObject({ state: 'failed', attempts: 3, last_error: 'HTTP 500', delivered_at: null });
      expect(receiver.hits.map((h) => h.status)).toEqual([500, 500, 500]);
    });
  });

  describe('budget.exhausted', () => {
    it('is sent once, on the first refusal of the window, with the refused request’s worst case', async () => {
      const app = await start({
        budget: { window: 'month', limit_usd: 0.025, alert_at: [], hard_cap: true },
        webhooks: [{ path: '/hook' }],
      });
      await spend(app, 2); // $0.02 spent: a third worst case (≈ $0.0101) no longer fits $0.025

      const first = await chat(app.url);
      expect(first.status).toBe(402);
      await vi.waitFor(() => expect(receiver.delivered()).toHaveLength(1));
      const event = receiver.delivered()[0]!.body;
      // Worst case: at least max_tokens × $10/1M = $0.01; at most that plus the body's bytes × $1/1M.
      const byteBound = (Buffer.byteLength(PENNY_BODY) * 1_000 + 1000 * 10_000) / 1e9;
      expect(event).toEqual({
        event: 'budget.exhausted',
        team: 'search',
        window: 'month',
        threshold: expect.any(Number),
        limit_usd: 0.025,
        spent_usd: 0.02,
        window_start: monthStartIso(),
        at: expect.any(String),
        request_worst_case_usd: expect.any(Number),
      });
      expect(event.request_worst_case_usd).toBeGreaterThanOrEqual(0.01);
      expect(event.request_worst_case_usd).toBeLessThanOrEqual(byteBound);

      // The second refusal in the same window records nothing new (the event is recorded before the
      // 402 is sent, so its absence right after the response is conclusive).
      expect((await chat(app.url)).status).toBe(402);
      const rows = await deliveries(app.url);
      expect(rows.map((r) => [r.event, r.state])).toEqual([['budget.exhausted', 'delivered']]);
      expect((await usageReport(app.url)).totals.refused).toBe(2);
      expect(fake.requests).toHaveLength(2);
    });
  });

  describe('outbox concurrency', () => {
    // A slow receiver must not get the same event twice just because another webhook's delivery
    // failed and scheduled a retry pass while the slow POST was still in flight.
    it('sends an event once to a slow webhook while another webhook is being retried', async () => {
      receiver.setResponder((hit, r) => {
        if (hit.path === '/slow') return { status: 200, delayMs: 400 };
        return failFirst(3)(hit, r); // fails fast: its retries (backoff 20, 40, 80 ms) run while /slow is pending
      });
      const app = await start({
        budget: { window: 'month', limit_usd: 0.02, alert_at: [0.5], hard_cap: true },
        webhooks: [{ path: '/slow' }, { path: '/flaky' }],
      });
      await spend(app, 1);
      await vi.waitFor(async () => {
        const rows = await deliveries(app.url);
        expect(rows).toHaveLength(2);
        expect(rows.every((r) => r.state === 'delivered')).toBe(true);
      }, { timeout: 10_000 });
      expect(receiver.hits.filter((h) => h.path === '/flaky').map((h) => h.status)).toEqual([500, 500, 500, 200]);
      // Counted on arrival: the first /slow answer (400 ms) came after all /flaky retries, so any
      // second POST sent while the first was pending has arrived by now.
      expect(receiver.received.filter((h) => h.path === '/slow')).toHaveLength(1);
      expect((await deliveries(app.url)).find((r) => r.url.endsWith('/slow'))?.attempts).toBe(1);
    });
  });
});
