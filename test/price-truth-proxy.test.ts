// Price truth through the proxy (issue 8): providers named freely keep their family's prices,
// audio tokens are billed at their own rates and kept per kind, fine-tuned ids take their base's
// fine-tuned rates. Costs are published prices (USD per 1M tokens) times the provider's reported
// usage, worked out here in integer nano-dollars.
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { EMBEDDING_USAGE, startFakeProvider, type FakeProvider } from './helpers/fake-provider.js';
import { ADMIN_KEY, PROVIDER_KEY, startApp, TEAM_KEY, type TestApp } from './helpers/app.js';

let fake: FakeProvider;
let tg: TestApp;

afterEach(async () => {
  await tg.close();
  await fake.close();
});

async function start(): Promise<void> {
  fake = await startFakeProvider();
  tg = await startApp(fake, {
    configure: (raw) => {
      // Named freely, at an address that is no known provider's: the family comes from price_provider or api.
      raw.providers = [
        { name: 'openai-prod', api: 'openai', base_url: fake.openaiBaseUrl, api_key: PROVIDER_KEY, models: ['gpt-*', 'chatgpt-*', 'ft:*'] },
        { name: 'azure-east', api: 'openai', price_provider: 'azure', base_url: fake.openaiBaseUrl, api_key: PROVIDER_KEY, models: ['text-embedding-*'] },
      ];
    },
  });
}

async function rows(): Promise<any[]> {
  const res = await fetch(`${tg.url}/usage/requests`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
  return ((await res.json()) as { data: any[] }).data;
}

const client = () => new OpenAI({ apiKey: TEAM_KEY, baseURL: `${tg.url}/v1`, maxRetries: 0 });

describe('price families by name, host or price_provider', () => {
  it('openai-prod prices chatgpt-4o-latest at $5 / $15; azure-east prices text-embedding-3-small at $0.02', async () => {
    await start();
    await client().chat.completions.create({ model: 'chatgpt-4o-latest', messages: [{ role: 'user', content: 'hi' }] });
    await client().embeddings.create({ model: 'text-embedding-3-small', input: 'hello' });
    const [embedding, chat] = await rows();
    // The fake's usage: chat 1,200 prompt (200 cached, no cached rate: input price) and 300 completion; embeddings 64.
    expect(chat).toMatchObject({ provider: 'openai-prod', model: 'chatgpt-4o-latest', cost_usd: (1200 * 5000 + 300 * 15_000) / 1e9 });
    expect(embedding).toMatchObject({ provider: 'azure-east', model: 'text-embedding-3-small', cost_usd: (EMBEDDING_USAGE.prompt_tokens * 20) / 1e9 });
  });
});

describe('audio tokens', () => {
  it('gpt-4o-audio-preview: audio at $40 in / $80 out, text at $2.50 / $10, each kind kept in the ledger and /usage', async () => {
    await start();
    const usage = {
      prompt_tokens: 1000, completion_tokens: 600, total_tokens: 1600,
      prompt_tokens_details: { cached_tokens: 0, audio_tokens: 700 },
      completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 500 },
    };
    fake.enqueue({ kind: 'json', body: { id: 'x', object: 'chat.completion', model: 'gpt-4o-audio-preview', choices: [], usage } });
    await client().chat.completions.create({ model: 'gpt-4o-audio-preview', modalities: ['text', 'audio'], audio: { voice: 'alloy', format: 'wav' }, messages: [{ role: 'user', content: 'hi' }] });
    const expected = (300 * 2500 + 700 * 40_000 + 100 * 10_000 + 500 * 80_000) / 1e9;
    const [row] = await rows();
    expect(row).toMatchObject({
      input_tokens: 1000, output_tokens: 600, audio_input_tokens: 700, audio_output_tokens: 500, cost_usd: expected,
      rates: { input: 2.5, output: 10, input_audio: 40, output_audio: 80 },
    });
    const res = await fetch(`${tg.url}/usage?group_by=model`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    const report = (await res.json()) as any;
    expect(report.totals).toMatchObject({ audio_input_tokens: 700, audio_output_tokens: 500, cost_usd: expected });
  });
});

describe('fine-tuned ids', () => {
  it('ft:gpt-4o-mini-… pays $0.30 input, $0.15 cached, $1.20 output', async () => {
    await start();
    await client().chat.completions.create({ model: 'ft:gpt-4o-mini-2024-07-18:acme::abc123', messages: [{ role: 'user', content: 'hi' }] });
    const [row] = await rows();
    expect(row).toMatchObject({ cost_usd: (1000 * 300 + 200 * 150 + 300 * 1200) / 1e9, rates: { input: 0.3, cached_input: 0.15, output: 1.2 } });
  });

  it('a fine-tune of an unknown base is refused, saying how to price it', async () => {
    await start();
    const err = await client().chat.completions.create({ model: 'ft:gpt-9-2030-01-01:acme::abc', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(400);
    expect((err as InstanceType<typeof OpenAI.APIError>).message).toContain(`prices: { "ft:gpt-9-2030-01-01:acme::abc": { input: <USD per 1M>, output: <USD per 1M> } }`);
    expect(fake.requests).toHaveLength(0);
  });
});
