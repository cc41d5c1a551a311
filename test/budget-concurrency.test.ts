// A hard cap holds under concurrency (SPEC §5): 200 requests from the official OpenAI SDK arrive
// together against a cap that fits about 10 worst cases. Admission and reservation are one step,
// so at most floor(cap / worst case) get through, spend stays under the cap, refused calls never
// reach the provider, and the SDK (retries ON) makes exactly one attempt per refusal because
// Tollgate says `x-should-retry: false`.
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createGate, openaiChatStreamEvents, startFakeProvider, type FakeProvider } from './helpers/fake-provider.js';
import { ADMIN_KEY, TEAM_KEY, startApp, type RawConfig, type TestApp } from './helpers/app.js';
import { LEDGERS } from './helpers/postgres.js';

// my-finetune's price in baseConfig: $3 input, $12 output per 1M tokens (nano-dollars per token: 3000 / 12000).
const INPUT_NANO = 3_000;
const OUTPUT_NANO = 12_000;
const MAX_TOKENS = 10_000; // 10k × $12/1M = $0.12: the worst case is dominated by max_tokens
const CAP_USD = 1.25; // ≈ 10.4 worst cases
const CONCURRENT = 200;
// The provider honours max_tokens and reports fewer prompt tokens than any bound Tollgate can use.
const USAGE = { prompt_tokens: 5, completion_tokens: MAX_TOKENS, total_tokens: 5 + MAX_TOKENS };
const COST_NANO = USAGE.prompt_tokens * INPUT_NANO + USAGE.completion_tokens * OUTPUT_NANO;

let fake: FakeProvider;
let tg: TestApp | undefined;

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

function withCap(limitUsd: number, extra: (raw: RawConfig) => void = () => {}) {
  return (raw: RawConfig) => {
    raw.teams[0].budgets = [{ window: 'month', limit_usd: limitUsd, hard_cap: true }];
    extra(raw);
  };
}

/** A fetch that records every HTTP attempt an SDK makes (body sent, status received). */
function countingFetch() {
  const attempts: { body: string; status?: number }[] = [];
  const counted = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const attempt: { body: string; status?: number } = { body: typeof init?.body === 'string' ? init.body : '' };
    attempts.push(attempt);
    const res = await fetch(input, init);
    attempt.status = res.status;
    return res;
  };
  return { attempts, fetch: counted };
}

async function usage(app: TestApp) {
  const res = await fetch(`${app.url}/usage`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as { totals: Record<string, number>; budgets: Record<string, any>[] };
}

function nextMonthStartIso(): string {
  const d = new Date();
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1)).toISOString();
}

describe.each(LEDGERS)('hard cap under 200 concurrent SDK requests (%s ledger)', (ledger) => {
  it('admits at most what fits, never passes the cap, and refuses the rest once each, unforwarded', async () => {
    tg = await startApp(fake, { ledger, configure: withCap(CAP_USD) });
    // Every admitted stream is held open at its first event until all 200 have been decided,
    // so every admitted reservation is outstanding at once.
    const gate = createGate();
    fake.setHandler((req) => ({
      kind: 'sse',
      gate,
      events: openaiChatStreamEvents({
        model: req.body.model,
        includeUsage: req.body.stream_options?.include_usage === true,
        usage: USAGE,
      }),
    }));
    const counter = countingFetch();
    const client = new OpenAI({ apiKey: TEAM_KEY, baseURL: `${tg.url}/v1`, maxRetries: 2, fetch: counter.fetch });

    const refused: unknown[] = [];
    const texts: string[] = [];
    const calls = Array.from({ length: CONCURRENT }, async (_, i) => {
      try {
        const stream = await client.chat.completions.create({
          model: 'my-finetune',
          max_tokens: MAX_TOKENS,
          stream: true,
          messages: [{ role: 'user', content: `question number ${i}` }],
        });
        let text = '';
        for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
        texts.push(text);
      } catch (err) {
        refused.push(err);
      }
    });

    // Every call is decided (refused back at the client, or forwarded to the provider) before any ends.
    await vi.waitFor(() => expect(refused.length + fake.requests.length).toBe(CONCURRENT), { timeout: 20_000 });
    const admitted = fake.requests.length;
    gate.releaseAll();
    await Promise.all(calls);

    // The worst case by the free bound Tollgate may use: the body's UTF-8 bytes as prompt tokens.
    const maxBodyBytes = Math.max(...counter.attempts.map((a) => Buffer.byteLength(a.body, 'utf8')));
    expect(maxBodyBytes).toBeGreaterThan(50);
    const worstNano = maxBodyBytes * INPUT_NANO + MAX_TOKENS * OUTPUT_NANO;
    const capNano = CAP_USD * 1e9;
    expect(Math.floor(capNano / worstNano)).toBe(10); // the scenario really is "about 10 worst cases"

    expect(admitted).toBeGreaterThanOrEqual(Math.floor(capNano / worstNano) - 1);
    // No prompt is cheaper than zero tokens, so no worst case is below max_tokens × output rate.
    expect(admitted).toBeLessThanOrEqual(Math.floor(capNano / (MAX_TOKENS * OUTPUT_NANO)));
    expect(texts).toHaveLength(admitted);
    expect(texts.every((t) => t === 'Hello world!')).toBe(true);
    expect(refused).toHaveLength(CONCURRENT - admitted);

    // Exactly one HTTP attempt per call: no refused call was retried by the SDK.
    expect(counter.attempts).toHaveLength(CONCURRENT);
    expect(counter.attempts.filter((a) => a.status === 402)).toHaveLength(CONCURRENT - admitted);
    expect(counter.attempts.filter((a) => a.status === 200)).toHaveLength(admitted);

    const reset = nextMonthStartIso();
    for (const err of refused) {
      expect(err).toBeInstanceOf(OpenAI.APIError);
      const e = err as InstanceType<typeof OpenAI.APIError>;
      expect(e.status).toBe(402);
      expect(e.headers?.get('x-should-retry')).toBe('false');
      expect(e.headers?.get('x-tollgate-budget-reset')).toBe(reset);
      expect(e.error).toEqual({
        message: expect.any(String),
        type: 'insufficient_quota',
        param: null,
        code: 'budget_exceeded',
      });
      const message = (e.error as { message: string }).message;
      expect(message).toContain('search'); // team
      expect(message).toContain('month'); // window
      expect(message).toContain('$1.25'); // limit
      expect(message).toMatch(/spent \$\d/); // spend
      expect(message).toContain(reset); // reset time
    }

    // The ledger: only admitted requests, each at its real cost; spend under the cap, nothing held.
    const u = await usage(tg);
    expect(u.totals.requests).toBe(admitted);
    expect(u.totals.refused).toBe(CONCURRENT - admitted);
    expect(u.totals.cost_usd).toBe((admitted * COST_NANO) / 1e9);
    expect(u.totals.cost_usd).toBeLessThanOrEqual(CAP_USD);
    expect(u.budgets).toEqual([
      expect.objectContaining({
        team: 'search',
        window: 'month',
        limit_usd: CAP_USD,
        spent_usd: (admitted * COST_NANO) / 1e9,
        reserved_usd: 0,
        remaining_usd: Number(((capNano - admitted * COST_NANO) / 1e9).toFixed(9)),
        hard_cap: true,
      }),
    ]);
  });

  it('refuses the same way to a non-streaming call, and its spend check counts what is in flight', async () => {
    // One worst case fits ($0.13 cap); with one held in flight, a second identical call does not.
    tg = await startApp(fake, { ledger, configure: withCap(0.13) });
    const gate = createGate();
    fake.setHandler((req) => ({
      kind: 'sse',
      gate,
      events: openaiChatStreamEvents({ model: req.body.model, includeUsage: true, usage: USAGE }),
    }));
    const counter = countingFetch();
    const client = new OpenAI({ apiKey: TEAM_KEY, baseURL: `${tg.url}/v1`, maxRetries: 2, fetch: counter.fetch });
    const first = client.chat.completions.create({
      model: 'my-finetune', max_tokens: MAX_TOKENS, stream: true, messages: [{ role: 'user', content: 'first' }],
    });
    await vi.waitFor(() => expect(fake.requests).toHaveLength(1));
    const second = await client.chat.completions
      .create({ model: 'my-finetune', max_tokens: MAX_TOKENS, messages: [{ role: 'user', content: 'second' }] })
      .then(() => undefined, (err: unknown) => err);
    expect(second).toBeInstanceOf(OpenAI.APIError);
    expect((second as InstanceType<typeof OpenAI.APIError>).status).toBe(402);
    const message = ((second as InstanceType<typeof OpenAI.APIError>).error as { message: string }).message;
    expect(message).toMatch(/spent \$0(\.0+)?\b/); // nothing settled yet: it is the reservation that refuses
    expect(fake.requests).toHaveLength(1);
    gate.releaseAll();
    for await (const _ of await first) { /* drain */ }
    expect(counter.attempts).toHaveLength(2);
  });
});

describe.each(LEDGERS)('refusal envelopes and budget_refusal_status (%s ledger)', (ledger) => {
  // A cap below any worst case: every call is refused before forwarding.
  const TINY = 0.001;

  it('429 on OpenAI routes: same body, x-should-retry false, and the SDK does not retry a 429', async () => {
    tg = await startApp(fake, { ledger, configure: withCap(TINY, (raw) => { raw.budget_refusal_status = 429; }) });
    const counter = countingFetch();
    const client = new OpenAI({ apiKey: TEAM_KEY, baseURL: `${tg.url}/v1`, maxRetries: 2, fetch: counter.fetch });
    const errors = await Promise.all(
      Array.from({ length: 5 }, () =>
        client.chat.completions
          .create({ model: 'my-finetune', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] })
          .then(() => undefined, (err: unknown) => err),
      ),
    );
    // Without x-should-retry: false the SDK would retry every 429 twice: 15 attempts, not 5.
    expect(counter.attempts).toHaveLength(5);
    for (const err of errors) {
      expect(err).toBeInstanceOf(OpenAI.RateLimitError);
      const e = err as InstanceType<typeof OpenAI.RateLimitError>;
      expect(e.status).toBe(429);
      expect(e.headers?.get('x-should-retry')).toBe('false');
      expect(e.headers?.get('x-tollgate-budget-reset')).toBe(nextMonthStartIso());
      expect(e.error).toMatchObject({ type: 'insufficient_quota', code: 'budget_exceeded', param: null });
    }
    expect(fake.requests).toHaveLength(0);
    expect((await usage(tg)).totals.refused).toBe(5);
  });

  it('429 on Anthropic routes: rate_limit_error, x-should-retry false, one attempt by the Anthropic SDK', async () => {
    tg = await startApp(fake, { ledger, configure: withCap(TINY, (raw) => { raw.budget_refusal_status = 429; }) });
    const counter = countingFetch();
    const client = new Anthropic({ apiKey: TEAM_KEY, baseURL: tg.url, maxRetries: 2, fetch: counter.fetch });
    const err = await client.messages
      .create({ model: 'claude-sonnet-4-20250514', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] })
      .then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    const e = err as InstanceType<typeof Anthropic.APIError>;
    expect(e.status).toBe(429);
    expect(e.headers?.get('x-should-retry')).toBe('false');
    expect(e.headers?.get('x-tollgate-budget-reset')).toBe(nextMonthStartIso());
    expect(e.error).toEqual({ type: 'error', error: { type: 'rate_limit_error', message: expect.stringContaining('search') } });
    expect(counter.attempts).toHaveLength(1);
    expect(fake.requests).toHaveLength(0);
  });

  it('402 on Anthropic routes: billing_error naming team, window, limit, spend and reset', async () => {
    tg = await startApp(fake, { ledger, configure: withCap(TINY) });
    const res = await fetch(`${tg.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': TEAM_KEY, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude-sonnet-4-20250514', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.status).toBe(402);
    expect(res.headers.get('x-should-retry')).toBe('false');
    const reset = nextMonthStartIso();
    expect(res.headers.get('x-tollgate-budget-reset')).toBe(reset);
    const body = (await res.json()) as { type: string; error: { type: string; message: string } };
    expect(body).toEqual({ type: 'error', error: { type: 'billing_error', message: expect.any(String) } });
    for (const part of ['search', 'month', '$0.001', 'spent $0', reset]) expect(body.error.message).toContain(part);
    expect(fake.requests).toHaveLength(0);
  });
});
