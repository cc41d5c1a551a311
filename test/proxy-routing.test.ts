// Routing and pricing end to end: provider prefixes, allow-lists, unknown and unpriced models,
// DeepSeek's own usage dialect, config prices, a provider without a key, the per-provider
// switch for stream usage, and the 400s for bodies that are not what the API takes.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { openaiChatStreamEvents, startFakeProvider, type FakeProvider } from './helpers/fake-provider.js';
import { ADMIN_KEY, OTHER_TEAM_KEY, TEAM_KEY, startApp, type StartOptions, type TestApp } from './helpers/app.js';

let fake: FakeProvider;
let tg: TestApp;

async function start(opts: StartOptions = {}): Promise<void> {
  fake = await startFakeProvider();
  tg = await startApp(fake, opts);
}

afterEach(async () => {
  await vi.waitFor(() => expect(tg.deps.budgets.openReservations()).toBe(0));
  await tg.close();
  await fake.close();
});

async function post(path: string, body: unknown, key = TEAM_KEY): Promise<{ status: number; json: any }> {
  const res = await fetch(`${tg.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

const chat = (model: string, extra: Record<string, unknown> = {}) => ({ model, messages: [{ role: 'user', content: 'hi' }], ...extra });

async function rows(): Promise<any[]> {
  const res = await fetch(`${tg.url}/usage/requests`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
  return ((await res.json()) as any).data;
}

describe('routing', () => {
  it('a provider/ prefix picks the provider and is stripped before forwarding and the allow-list', async () => {
    await start();
    const res = await post('/v1/chat/completions', chat('openai/gpt-4o-mini'), OTHER_TEAM_KEY);
    expect(res.status).toBe(200);
    expect(fake.requests[0]!.body.model).toBe('gpt-4o-mini');
    expect((await rows())[0]).toMatchObject({ provider: 'openai', model: 'gpt-4o-mini', team: 'ads' });
  });

  it('a model outside the team allow-list → 403 model_not_allowed, nothing forwarded', async () => {
    await start();
    const res = await post('/v1/chat/completions', chat('gpt-4o'), OTHER_TEAM_KEY);
    expect(res.status).toBe(403);
    expect(res.json.error).toMatchObject({ code: 'model_not_allowed', param: null });
    expect(fake.requests).toHaveLength(0);
    expect(await rows()).toHaveLength(0);
  });

  it('no provider for the model → 404 model_not_found', async () => {
    await start();
    const res = await post('/v1/chat/completions', chat('llama-3-70b'));
    expect(res.status).toBe(404);
    expect(res.json.error.code).toBe('model_not_found');
  });

  it('a provider whose key is unset answers 503 naming what to set', async () => {
    await start({ configure: (raw) => { raw.providers[2].api_key = '${DEEPSEEK_TEST_KEY_UNSET}'; } });
    const res = await post('/v1/chat/completions', chat('deepseek-chat'));
    expect(res.status).toBe(503);
    expect(res.json.error.code).toBe('provider_not_configured');
    expect(res.json.error.message).toContain('DEEPSEEK_TEST_KEY_UNSET');
    expect(fake.requests).toHaveLength(0);
  });
});

describe('/v1/models', () => {
  it('lists a team only its allow-list, leaves out providers without a key, and shows an admin everything', async () => {
    await start({ configure: (raw) => { raw.providers[2].api_key = '${DEEPSEEK_TEST_KEY_UNSET}'; } });
    const list = async (key: string): Promise<string[]> =>
      ((await (await fetch(`${tg.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } })).json()) as any).data.map((m: any) => m.id);
    expect(await list(OTHER_TEAM_KEY)).toEqual(['gpt-4o-mini']);
    const all = await list(ADMIN_KEY);
    expect(all).toContain('gpt-4o');
    expect(all).toContain('claude-haiku-4-5');
    expect(all.some((id) => id.startsWith('deepseek'))).toBe(false);
  });
});

describe('pricing', () => {
  // DeepSeek's price at the request's own time (api-docs.deepseek.com/quick_start/pricing): in May
  // 2025 $0.27 / $0.07 cached / $1.10 by day and half that by night (UTC 16:30–00:30); V3.2 today.
  it.each([
    ['May 2025, 12:00 UTC', '2025-05-14T12:00:00Z', { input: 0.27, cached_input: 0.07, output: 1.1 }],
    ['May 2025, 20:00 UTC (off-peak)', '2025-05-14T20:00:00Z', { input: 0.135, cached_input: 0.035, output: 0.55 }],
    ['2026-12-03 (V3.2)', '2026-12-03T12:00:00Z', { input: 0.28, cached_input: 0.028, output: 0.42 }],
  ])('DeepSeek usage (prompt_cache_hit_tokens) priced at the rate in force: %s', async (_when, iso, rates) => {
    await start({ clock: () => Date.parse(iso) });
    const usage = { prompt_tokens: 5000, completion_tokens: 700, total_tokens: 5700, prompt_cache_hit_tokens: 3000, prompt_cache_miss_tokens: 2000 };
    fake.enqueue({ kind: 'json', body: { id: 'x', object: 'chat.completion', model: 'deepseek-chat', choices: [], usage } });
    expect((await post('/v1/chat/completions', chat('deepseek-chat'))).status).toBe(200);
    const nano = (usd: number) => Math.round(usd * 1000);
    expect((await rows())[0]).toMatchObject({
      provider: 'deepseek',
      input_tokens: 5000,
      cached_input_tokens: 3000,
      output_tokens: 700,
      cost_usd: (2000 * nano(rates.input) + 3000 * nano(rates.cached_input) + 700 * nano(rates.output)) / 1e9,
      rates,
    });
  });

  it('config prices: my-finetune at $3 / $1.50 cached / $12', async () => {
    await start();
    expect((await post('/v1/chat/completions', chat('my-finetune'))).status).toBe(200);
    // The fake's default usage: 1200 prompt (200 cached), 300 completion.
    expect((await rows())[0]).toMatchObject({ cost_usd: (1000 * 3000 + 200 * 1500 + 300 * 12000) / 1e9, price_source: 'config prices' });
  });

  it('an unpriced model is refused with 400 model_not_priced, or metered at 0 and flagged when allowed', async () => {
    await start();
    const refused = await post('/v1/chat/completions', chat('my-unpriced-model'));
    expect(refused.status).toBe(400);
    expect(refused.json.error.code).toBe('model_not_priced');
    expect(fake.requests).toHaveLength(0);
    await tg.close();
    await fake.close();

    await start({ configure: (raw) => { raw.unpriced_models = 'allow'; } });
    expect((await post('/v1/chat/completions', chat('my-unpriced-model'))).status).toBe(200);
    expect((await rows())[0]).toMatchObject({ model: 'my-unpriced-model', unpriced: true, cost_usd: 0, input_tokens: 1200, rates: null });
  });
});

describe('stream usage switch', () => {
  it('with stream_include_usage off, no stream_options is sent and a stream without usage is estimated', async () => {
    await start({ configure: (raw) => { raw.providers[0].stream_include_usage = false; } });
    fake.enqueue({ kind: 'sse', events: openaiChatStreamEvents({ model: 'gpt-4o', includeUsage: false }) });
    const res = await fetch(`${tg.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEAM_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify(chat('gpt-4o', { stream: true })),
    });
    const text = await res.text();
    expect(text).toContain('data: [DONE]');
    expect(fake.requests[0]!.body.stream_options).toBeUndefined();
    const [row] = await rows();
    expect(row).toMatchObject({ estimated: true, stream: true });
    expect(row.output_tokens).toBeGreaterThan(0);
    expect(row.input_tokens).toBeGreaterThan(0);
  });
});

describe('bodies the API does not take (OpenAI envelope)', () => {
  for (const [name, body, code] of [
    ['not JSON', '{"model": "gpt-4o",', 'invalid_json'],
    ['not an object', '[1, 2]', 'invalid_body'],
    ['no model', '{"messages": []}', 'missing_model'],
    ['a model that is not a string', '{"model": 42}', 'invalid_body'],
  ] as const) {
    it(`${name} → 400 ${code}`, async () => {
      await start();
      const res = await post('/v1/chat/completions', body);
      expect(res.status).toBe(400);
      expect(res.json).toEqual({ error: { message: expect.any(String), type: 'invalid_request_error', param: null, code } });
      expect(fake.requests).toHaveLength(0);
    });
  }
});
