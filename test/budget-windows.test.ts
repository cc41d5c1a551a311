// Budget windows are calendar windows in UTC (SPEC §5, §8), driven here by an injected clock:
// spend made in one window stops counting at the exact millisecond the window rolls over (hour,
// day, week from Monday, month incl. 29 February and December → January), `total` never resets,
// and a request refused for the window is admitted again once it resets.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { OPENAI_USAGE, createGate, openaiChatStreamEvents, startFakeProvider, type FakeProvider } from './helpers/fake-provider.js';
import { ADMIN_KEY, TEAM_KEY, startApp, type TestApp } from './helpers/app.js';

// my-finetune (baseConfig): $3 input, $1.50 cached input, $12 output per 1M tokens.
// The fake's default chat usage: 1200 prompt (200 cached), 300 output →
// 1000 × 3000 + 200 × 1500 + 300 × 12000 nano = 6,900,000 nano = $0.0069 per request.
const COST_NANO =
  (OPENAI_USAGE.prompt_tokens - OPENAI_USAGE.prompt_tokens_details.cached_tokens) * 3000 +
  OPENAI_USAGE.prompt_tokens_details.cached_tokens * 1500 +
  OPENAI_USAGE.completion_tokens * 12000;
const COST = COST_NANO / 1e9;
const MAX_TOKENS = 1000;
// Worst case of one request ≥ 1000 × $12/1M = $0.012: one fits in $0.015, a second after one spend does not.
const LIMIT = 0.015;
const LIMIT_NANO = 15_000_000;
const usd = (nano: number) => Number((nano / 1e9).toFixed(9));

let fake: FakeProvider;
let tg: TestApp | undefined;
let now = 0;

beforeEach(async () => {
  fake = await startFakeProvider();
});

afterEach(async () => {
  if (tg) {
    await vi.waitFor(() => expect(tg!.deps.budgets.openReservations()).toBe(0));
    await tg.close();
    tg = undefined;
  }
  await fake.close();
});

async function start(budgets: object[]): Promise<TestApp> {
  tg = await startApp(fake, {
    clock: () => now,
    configure(raw) {
      raw.teams[0].budgets = budgets;
    },
  });
  return tg;
}

const BODY = JSON.stringify({ model: 'my-finetune', max_tokens: MAX_TOKENS, messages: [{ role: 'user', content: 'hi' }] });

async function chat(app: TestApp, body = BODY) {
  const res = await fetch(`${app.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TEAM_KEY}`, 'content-type': 'application/json' },
    body,
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
}

async function budgets(app: TestApp): Promise<Record<string, any>[]> {
  const res = await fetch(`${app.url}/usage`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { budgets: Record<string, any>[] }).budgets;
}

async function budget(app: TestApp, window: string): Promise<Record<string, any>> {
  const found = (await budgets(app)).find((b) => b.window === window);
  expect(found).toBeDefined();
  return found as Record<string, any>;
}

const at = (iso: string) => Date.parse(iso);

interface WindowCase {
  name: string;
  kind: 'hour' | 'day' | 'week' | 'month';
  spendAt: string;
  windowStart: string;
  resetsAt: string;
  /** The reset after that: the next window's resets_at. */
  nextResetsAt: string;
}

const CASES: WindowCase[] = [
  {
    name: 'hour',
    kind: 'hour',
    spendAt: '2028-03-15T10:20:00.000Z',
    windowStart: '2028-03-15T10:00:00.000Z',
    resetsAt: '2028-03-15T11:00:00.000Z',
    nextResetsAt: '2028-03-15T12:00:00.000Z',
  },
  {
    name: 'day (29 February 2028, from its first millisecond)',
    kind: 'day',
    spendAt: '2028-02-29T00:00:00.000Z',
    windowStart: '2028-02-29T00:00:00.000Z',
    resetsAt: '2028-03-01T00:00:00.000Z',
    nextResetsAt: '2028-03-02T00:00:00.000Z',
  },
  {
    // 2028-03-19 is a Sunday: it belongs to the week begun Monday 13 March, not to a Sunday-start week.
    name: 'week (starts Monday; a Sunday is the last day of its week)',
    kind: 'week',
    spendAt: '2028-03-19T23:59:59.000Z',
    windowStart: '2028-03-13T00:00:00.000Z',
    resetsAt: '2028-03-20T00:00:00.000Z',
    nextResetsAt: '2028-03-27T00:00:00.000Z',
  },
  {
    name: 'month (leap February: 29 Feb 2028 → 1 March)',
    kind: 'month',
    spendAt: '2028-02-29T12:00:00.000Z',
    windowStart: '2028-02-01T00:00:00.000Z',
    resetsAt: '2028-03-01T00:00:00.000Z',
    nextResetsAt: '2028-04-01T00:00:00.000Z',
  },
  {
    name: 'month (December → January of the next year)',
    kind: 'month',
    spendAt: '2028-12-31T23:59:00.000Z',
    windowStart: '2028-12-01T00:00:00.000Z',
    resetsAt: '2029-01-01T00:00:00.000Z',
    nextResetsAt: '2029-02-01T00:00:00.000Z',
  },
];

describe('calendar windows roll over at the exact UTC boundary', () => {
  it('the calendar facts the cases rely on', () => {
    expect(new Date('2028-03-13T00:00:00Z').getUTCDay()).toBe(1); // Monday
    expect(new Date('2028-03-19T00:00:00Z').getUTCDay()).toBe(0); // Sunday
    expect(new Date('2028-02-29T00:00:00Z').getUTCDate()).toBe(29); // 2028 is a leap year
  });

  it.each(CASES)('$name', async (c) => {
    now = at(c.spendAt);
    const app = await start([{ window: c.kind, limit_usd: LIMIT, hard_cap: true }]);

    expect((await chat(app)).status).toBe(200);
    expect(await budget(app, c.kind)).toEqual({
      team: 'search',
      window: c.kind,
      limit_usd: LIMIT,
      spent_usd: COST,
      reserved_usd: 0,
      remaining_usd: usd(LIMIT_NANO - COST_NANO),
      window_start: c.windowStart,
      resets_at: c.resetsAt,
      hard_cap: true,
      alerts_fired: [],
    });

    // A second worst case no longer fits this window: refused, with the window's reset time.
    const refused = await chat(app);
    expect(refused.status).toBe(402);
    expect(refused.headers.get('x-tollgate-budget-reset')).toBe(c.resetsAt);
    expect(refused.body.error.message).toContain(c.resetsAt);

    // The last millisecond of the window still counts the spend and still refuses.
    now = at(c.resetsAt) - 1;
    expect(await budget(app, c.kind)).toMatchObject({ spent_usd: COST, window_start: c.windowStart, resets_at: c.resetsAt });
    expect((await chat(app)).status).toBe(402);

    // The first millisecond of the next window: nothing spent in it, and the refused call goes through.
    now = at(c.resetsAt);
    expect(await budget(app, c.kind)).toMatchObject({
      spent_usd: 0,
      reserved_usd: 0,
      remaining_usd: LIMIT,
      window_start: c.resetsAt,
      resets_at: c.nextResetsAt,
    });
    expect((await chat(app)).status).toBe(200);
    expect(await budget(app, c.kind)).toMatchObject({ spent_usd: COST, window_start: c.resetsAt });
    expect(fake.requests).toHaveLength(2); // the refusals were never forwarded

    // The ledger keeps both windows' rows: the spend left the window, not the ledger.
    const all = await fetch(`${app.url}/usage?from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00Z`, {
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
    });
    const totals = ((await all.json()) as { totals: Record<string, number> }).totals;
    expect(totals).toMatchObject({ requests: 2, cost_usd: usd(2 * COST_NANO), refused: 2 });
  });
});

describe('total and several budgets', () => {
  it('total never resets: resets_at null, no reset header, spend counted years later', async () => {
    now = at('2028-01-01T00:00:00.000Z');
    const app = await start([{ window: 'total', limit_usd: LIMIT, hard_cap: true }]);
    expect((await chat(app)).status).toBe(200);

    now = at('2031-06-15T08:00:00.000Z');
    expect(await budget(app, 'total')).toEqual({
      team: 'search',
      window: 'total',
      limit_usd: LIMIT,
      spent_usd: COST,
      reserved_usd: 0,
      remaining_usd: usd(LIMIT_NANO - COST_NANO),
      window_start: '1970-01-01T00:00:00.000Z',
      resets_at: null,
      hard_cap: true,
      alerts_fired: [],
    });
    const refused = await chat(app);
    expect(refused.status).toBe(402);
    expect(refused.headers.get('x-should-retry')).toBe('false');
    expect(refused.headers.get('x-tollgate-budget-reset')).toBeNull();
    expect(refused.body.error.message).toContain('total');
  });

  it('a day budget resets while the month budget of the same team keeps counting and refuses', async () => {
    now = at('2028-03-15T10:00:00.000Z');
    const app = await start([
      { window: 'day', limit_usd: LIMIT, hard_cap: true },
      { window: 'month', limit_usd: 0.02, hard_cap: true },
    ]);
    expect((await chat(app)).status).toBe(200); // day $0.0069, month $0.0069

    now = at('2028-03-16T09:00:00.000Z');
    expect(await budget(app, 'day')).toMatchObject({ spent_usd: 0, window_start: '2028-03-16T00:00:00.000Z' });
    expect(await budget(app, 'month')).toMatchObject({ spent_usd: COST, window_start: '2028-03-01T00:00:00.000Z' });
    expect((await chat(app)).status).toBe(200); // month: 0.0069 + ~0.0122 ≤ 0.02

    now = at('2028-03-17T09:00:00.000Z');
    expect(await budget(app, 'day')).toMatchObject({ spent_usd: 0 });
    expect(await budget(app, 'month')).toMatchObject({ spent_usd: usd(2 * COST_NANO) });
    // The day has room; the month does not: the refusal names the month and its reset.
    const refused = await chat(app);
    expect(refused.status).toBe(402);
    expect(refused.headers.get('x-tollgate-budget-reset')).toBe('2028-04-01T00:00:00.000Z');
    expect(refused.body.error.message).toContain('month');
  });

  it('remaining = limit − spent − reserved while a request is in flight, and never below 0', async () => {
    now = at('2028-05-10T12:00:00.000Z');
    const app = await start([
      { window: 'month', limit_usd: 1, hard_cap: true },
      { window: 'day', limit_usd: 0.005, hard_cap: false }, // soft: overspent by the first request
    ]);
    expect((await chat(app)).status).toBe(200);

    const gate = createGate();
    fake.enqueue((req) => ({
      kind: 'sse',
      gate,
      events: openaiChatStreamEvents({ model: req.body.model, includeUsage: req.body.stream_options?.include_usage === true }),
    }));
    const streamBody = JSON.stringify({
      model: 'my-finetune',
      max_tokens: MAX_TOKENS,
      stream: true,
      messages: [{ role: 'user', content: 'hold this one open' }],
    });
    const pending = fetch(`${app.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEAM_KEY}`, 'content-type': 'application/json' },
      body: streamBody,
    });
    await vi.waitFor(() => expect(fake.requests).toHaveLength(2));

    // Held: the worst case by the byte bound (the budget has room, so no tokenizer count is needed).
    const heldNano = Buffer.byteLength(streamBody, 'utf8') * 3000 + MAX_TOKENS * 12000;
    expect(await budget(app, 'month')).toMatchObject({
      spent_usd: COST,
      reserved_usd: usd(heldNano),
      remaining_usd: usd(1e9 - COST_NANO - heldNano),
    });
    expect(await budget(app, 'day')).toMatchObject({ limit_usd: 0.005, spent_usd: COST, remaining_usd: 0, hard_cap: false });

    gate.releaseAll();
    await (await pending).text();
    await vi.waitFor(async () => expect(await budget(app, 'month')).toMatchObject({
      spent_usd: usd(2 * COST_NANO),
      reserved_usd: 0,
      remaining_usd: usd(1e9 - 2 * COST_NANO),
    }));
  });
});
