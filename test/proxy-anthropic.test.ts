// The official Anthropic SDK pointed at Tollgate: Messages (streamed and not) metered with cache
// reads and 5-minute / 1-hour cache writes at their own rates; count_tokens recorded free.
import Anthropic from '@anthropic-ai/sdk';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ANTHROPIC_USAGE, STREAM_TEXT_PARTS, startFakeProvider, type FakeProvider } from './helpers/fake-provider.js';
import { ADMIN_KEY, ANTHROPIC_PROVIDER_KEY, TEAM_KEY, startApp, type TestApp } from './helpers/app.js';
import { LEDGERS } from './helpers/postgres.js';

let fake: FakeProvider;
let tg: TestApp;

describe.each(LEDGERS)('on the %s ledger', (ledger) => {
  beforeEach(async () => {
    fake = await startFakeProvider();
    tg = await startApp(fake, { ledger });
  });

  afterEach(async () => {
    await vi.waitFor(() => expect(tg.deps.budgets.openReservations()).toBe(0));
    await tg.close();
    await fake.close();
  });

  async function requests() {
    const res = await fetch(`${tg.url}/usage/requests`, { headers: { 'x-api-key': ADMIN_KEY } });
    return ((await res.json()) as { data: Record<string, any>[] }).data;
  }

  // Claude Sonnet 4: $3 input, $0.30 cache read, $3.75 5-minute write, $6 1-hour write, $15 output per 1M.
  const u = ANTHROPIC_USAGE;
  const expectedNano =
    u.input_tokens * 3000 +
    u.cache_read_input_tokens * 300 +
    u.cache_creation.ephemeral_5m_input_tokens * 3750 +
    u.cache_creation.ephemeral_1h_input_tokens * 6000 +
    u.output_tokens * 15000;
  const expectedRow = {
    provider: 'anthropic',
    model: 'claude-sonnet-4-20250514',
    endpoint: '/v1/messages',
    // Anthropic's input_tokens exclude cache reads and writes; the ledger's include them.
    input_tokens: u.input_tokens + u.cache_read_input_tokens + u.cache_creation_input_tokens,
    cached_input_tokens: u.cache_read_input_tokens,
    cache_write_tokens: u.cache_creation_input_tokens,
    cache_write_1h_tokens: u.cache_creation.ephemeral_1h_input_tokens,
    output_tokens: u.output_tokens,
    cost_usd: expectedNano / 1e9,
    estimated: false,
  };

  describe('Anthropic SDK through Tollgate', () => {
    for (const header of ['x-api-key', 'bearer'] as const) {
      it(`meters a message, key sent as ${header}`, async () => {
        const client =
          header === 'x-api-key'
            ? new Anthropic({ apiKey: null, baseURL: tg.url, maxRetries: 0, defaultHeaders: { 'x-api-key': TEAM_KEY } })
            : new Anthropic({ apiKey: TEAM_KEY, baseURL: tg.url, maxRetries: 0 });
        const msg = await client.messages.create({
          model: 'claude-sonnet-4-20250514',
          max_tokens: 1024,
          messages: [{ role: 'user', content: 'hi' }],
        });
        expect(msg.content[0]).toMatchObject({ type: 'text', text: STREAM_TEXT_PARTS.join('') });
        const [row] = await requests();
        expect(row).toMatchObject({ ...expectedRow, stream: false, upstream_request_id: 'req_1' });
        const sent = fake.requests[0]!;
        expect(sent.headers['x-api-key']).toBe(ANTHROPIC_PROVIDER_KEY);
        expect(sent.headers.authorization).toBeUndefined();
        expect(sent.headers['anthropic-version']).toBeTruthy();
      });
    }

    it('meters a stream from message_start and the cumulative message_delta', async () => {
      const client = new Anthropic({ apiKey: TEAM_KEY, baseURL: tg.url, maxRetries: 0 });
      const stream = client.messages.stream({
        model: 'claude-sonnet-4-20250514',
        max_tokens: 1024,
        messages: [{ role: 'user', content: 'hi' }],
      });
      const final = await stream.finalMessage();
      expect(final.usage.output_tokens).toBe(u.output_tokens);
      await vi.waitFor(async () => expect((await requests())[0]).toMatchObject({ ...expectedRow, stream: true }));
    });

    it('forwards count_tokens and records it at no cost', async () => {
      const client = new Anthropic({ apiKey: TEAM_KEY, baseURL: tg.url, maxRetries: 0 });
      const res = await client.messages.countTokens({ model: 'claude-sonnet-4-20250514', messages: [{ role: 'user', content: 'hi' }] });
      expect(res.input_tokens).toBe(42);
      const [row] = await requests();
      expect(row).toMatchObject({ endpoint: '/v1/messages/count_tokens', cost_usd: 0, input_tokens: 0 });
    });

    it('answers errors in the Anthropic envelope', async () => {
      const res = await fetch(`${tg.url}/v1/messages`, {
        method: 'POST',
        headers: { 'x-api-key': TEAM_KEY, 'content-type': 'application/json' },
        body: '{"model": ',
      });
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ type: 'error', error: { type: 'invalid_request_error', message: expect.any(String) } });
      const unauth = await fetch(`${tg.url}/v1/messages`, { method: 'POST', body: '{}' });
      expect(unauth.status).toBe(401);
      expect(((await unauth.json()) as any).error.type).toBe('authentication_error');
    });
  });
});
