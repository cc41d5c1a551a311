// The official OpenAI SDK pointed at Tollgate: every metered endpoint, streamed and not, lands in
// the ledger to the exact token and is priced to the exact nano-dollar at the bundled rates.
import OpenAI from 'openai';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  EMBEDDING_USAGE,
  OPENAI_USAGE,
  RESPONSES_USAGE,
  STREAM_TEXT_PARTS,
  startFakeProvider,
  type FakeProvider,
} from './helpers/fake-provider.js';
import { ADMIN_KEY, PROVIDER_KEY, TEAM_KEY, startApp, type TestApp } from './helpers/app.js';
import { LEDGERS } from './helpers/postgres.js';

let fake: FakeProvider;
let tg: TestApp;
let client: OpenAI;

describe.each(LEDGERS)('on the %s ledger', (ledger) => {
  beforeEach(async () => {
    fake = await startFakeProvider();
    tg = await startApp(fake, { ledger });
    client = new OpenAI({ apiKey: TEAM_KEY, baseURL: `${tg.url}/v1`, maxRetries: 0 });
  });

  afterEach(async () => {
    await vi.waitFor(() => expect(tg.deps.budgets.openReservations()).toBe(0));
    await tg.close();
    await fake.close();
  });

  async function requests() {
    const res = await fetch(`${tg.url}/usage/requests`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    expect(res.status).toBe(200);
    return ((await res.json()) as { data: Record<string, any>[] }).data;
  }

  /** USD cost by hand from per-1M rates: the test's own arithmetic, not the code's. */
  function usd(parts: [tokens: number, perMillion: number][]): number {
    const nano = parts.reduce((sum, [t, rate]) => sum + t * rate * 1000, 0);
    return Math.round(nano) / 1e9;
  }

  const GPT4O = { input: 2.5, cached: 1.25, output: 10 };
  const chatCost = usd([
    [OPENAI_USAGE.prompt_tokens - OPENAI_USAGE.prompt_tokens_details.cached_tokens, GPT4O.input],
    [OPENAI_USAGE.prompt_tokens_details.cached_tokens, GPT4O.cached],
    [OPENAI_USAGE.completion_tokens, GPT4O.output],
  ]);

  describe('OpenAI SDK through Tollgate', () => {
    it('meters a chat completion exactly, with cached input at its own rate', async () => {
      const res = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
      expect(res.choices[0]?.message.content).toBe(STREAM_TEXT_PARTS.join(''));
      const [row] = await requests();
      expect(row).toMatchObject({
        team: 'search',
        provider: 'openai',
        model: 'gpt-4o',
        endpoint: '/v1/chat/completions',
        status: 200,
        stream: false,
        input_tokens: OPENAI_USAGE.prompt_tokens,
        cached_input_tokens: OPENAI_USAGE.prompt_tokens_details.cached_tokens,
        output_tokens: OPENAI_USAGE.completion_tokens,
        reasoning_tokens: OPENAI_USAGE.completion_tokens_details.reasoning_tokens,
        cost_usd: chatCost,
        estimated: false,
        upstream_request_id: 'req_1',
      });
      expect(row?.rates).toMatchObject({ input: 2.5, cached_input: 1.25, output: 10 });
      // The provider got the provider key, never the client's.
      const sent = fake.requests[0]!;
      expect(sent.headers.authorization).toBe(`Bearer ${PROVIDER_KEY}`);
      expect(JSON.stringify(sent.headers)).not.toContain(TEAM_KEY);
    });

    it('logs one access line a request, under the id the client sees, with what the ledger recorded', async () => {
      const json = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
      const stream = await client.chat.completions.create({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'hi' }] }).withResponse();
      for await (const _ of stream.data) { /* drain */ }
      const rows = await requests();
      for (const { response } of [json, stream]) {
        const id = response.headers.get('x-tollgate-request-id');
        const row = rows.find((r) => r.id === id);
        expect(row).toBeDefined();
        await vi.waitFor(() => expect(tg.logs.some((l) => l.includes(`"reqId":"${id}"`) && l.includes('"msg":"request"'))).toBe(true));
        const lines = tg.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.reqId === id);
        const access = lines.filter((l) => l.msg === 'request');
        expect(access).toHaveLength(1);
        expect(access[0]).toMatchObject({
          level: 30, method: 'POST', path: '/v1/chat/completions', status: 200, team: 'search', model: 'gpt-4o', provider: 'openai',
          input_tokens: row!.input_tokens, output_tokens: row!.output_tokens, cost_usd: row!.cost_usd,
        });
        // Fastify's own two lines a request are gone; ours is the only one at info.
        expect(lines.filter((l) => l.msg === 'incoming request' || l.msg === 'request completed')).toEqual([]);
      }
    });

    it('streams a chat completion without a usage chunk the client did not ask for', async () => {
      const stream = await client.chat.completions.create({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'hi' }] });
      const chunks: any[] = [];
      for await (const c of stream) chunks.push(c);
      expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe(STREAM_TEXT_PARTS.join(''));
      expect(chunks.every((c) => !('usage' in c))).toBe(true);
      expect(chunks.every((c) => c.choices.length > 0)).toBe(true);
      // Tollgate asked the provider for usage on the client's behalf.
      expect(fake.requests[0]!.body.stream_options).toEqual({ include_usage: true });
      const [row] = await requests();
      expect(row).toMatchObject({ stream: true, input_tokens: 1200, output_tokens: 300, cost_usd: chatCost, estimated: false });
    });

    it('passes the usage chunk through when the client asked for it', async () => {
      const stream = await client.chat.completions.create({
        model: 'gpt-4o',
        stream: true,
        stream_options: { include_usage: true },
        messages: [{ role: 'user', content: 'hi' }],
      });
      const chunks: any[] = [];
      for await (const c of stream) chunks.push(c);
      const last = chunks[chunks.length - 1];
      expect(last.choices).toEqual([]);
      expect(last.usage).toEqual(OPENAI_USAGE);
      const [row] = await requests();
      expect(row).toMatchObject({ stream: true, cost_usd: chatCost });
    });

    it('meters legacy completions, streamed and not', async () => {
      await client.completions.create({ model: 'gpt-4o-mini', prompt: 'say hi' });
      const stream = await client.completions.create({ model: 'gpt-4o-mini', prompt: 'say hi', stream: true });
      let text = '';
      for await (const c of stream) {
        expect(c).not.toHaveProperty('usage');
        text += c.choices[0]?.text ?? '';
      }
      expect(text).toBe(STREAM_TEXT_PARTS.join(''));
      const rows = await requests();
      const mini = usd([[1000, 0.15], [200, 0.075], [300, 0.6]]);
      expect(rows.map((r) => [r.endpoint, r.stream, r.cost_usd])).toEqual([
        ['/v1/completions', true, mini],
        ['/v1/completions', false, mini],
      ]);
    });

    it('meters embeddings', async () => {
      const res = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['a', 'b'] });
      expect(res.data).toHaveLength(2);
      const [row] = await requests();
      expect(row).toMatchObject({
        endpoint: '/v1/embeddings',
        input_tokens: EMBEDDING_USAGE.prompt_tokens,
        output_tokens: 0,
        cost_usd: usd([[EMBEDDING_USAGE.prompt_tokens, 0.02]]),
      });
    });

    it('meters the Responses API, streamed and not', async () => {
      const res = await client.responses.create({ model: 'gpt-4o', input: 'hi' });
      expect(res.output_text).toBe(STREAM_TEXT_PARTS.join(''));
      const stream = await client.responses.create({ model: 'gpt-4o', input: 'hi', stream: true });
      const types: string[] = [];
      for await (const ev of stream) types.push(ev.type);
      expect(types[types.length - 1]).toBe('response.completed');
      const cost = usd([
        [RESPONSES_USAGE.input_tokens - RESPONSES_USAGE.input_tokens_details.cached_tokens, GPT4O.input],
        [RESPONSES_USAGE.input_tokens_details.cached_tokens, GPT4O.cached],
        [RESPONSES_USAGE.output_tokens, GPT4O.output],
      ]);
      const rows = await requests();
      expect(rows).toHaveLength(2);
      for (const row of rows) {
        expect(row).toMatchObject({
          endpoint: '/v1/responses',
          input_tokens: 800,
          cached_input_tokens: 100,
          output_tokens: 200,
          reasoning_tokens: 30,
          cost_usd: cost,
          estimated: false,
        });
      }
    });

    it('lists only concrete models the team may use', async () => {
      const list = await client.models.list();
      const ids = list.data.map((m) => m.id);
      expect(ids).toContain('gpt-4o');
      expect(ids).toContain('claude-sonnet-4-0');
      expect(ids).toContain('deepseek-chat');
      expect(ids).toContain('my-finetune');
      // Never a glob, a price-data prefix (gpt-4o-mini-2024-07-18.ft-) or a non-API id (gpt-4o:extended).
      expect(ids.filter((id) => /[*?:]|[-.]$/.test(id))).toEqual([]);
      expect(list.data.find((m) => m.id === 'claude-sonnet-4-0')?.owned_by).toBe('anthropic');
      expect(fake.requests).toHaveLength(0);
    });
  });
});
