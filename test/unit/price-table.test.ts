// Price truth (SPEC §9, issue 8): the rate for every family, date and token kind. Expected prices
// are the providers' published list prices in USD per 1M tokens (pricing pages and price-change
// announcements, named beside each case), written here, not read from Tollgate's own table.
import { describe, expect, it } from 'vitest';
import type { PriceConfig } from '../../src/config/types.js';
import { priceFamilyOf } from '../../src/pricing/families.js';
import { PriceTable, type PriceQuote } from '../../src/pricing/price-table.js';
import { ratesFor, type Rates } from '../../src/pricing/rates.js';
import type { Dated } from '../../src/pricing/schedule.js';

const JULY_2025 = new Date('2025-07-15T12:00:00Z');
const TODAY = new Date('2026-12-03T12:00:00Z');
const table = new PriceTable({});

function quote(family: string, model: string, at = JULY_2025): PriceQuote {
  const q = table.lookup(family, model, at);
  expect(q, `${family}/${model} at ${at.toISOString()} should be priced`).toBeDefined();
  return q!;
}

/** The rates a published price list names; the kinds it leaves out are not compared. */
function expectRates(r: Rates, published: Partial<Rates>, what: string): void {
  for (const [kind, usd] of Object.entries(published)) expect(r[kind as keyof Rates], `${what}: ${kind}`).toBe(usd);
}

describe('price family (SPEC §9): price_provider, else the base URL host, else the api kind', () => {
  it.each([
    [{ baseUrl: 'https://api.openai.com/v1', api: 'openai' }, 'openai', /api\.openai\.com/],
    [{ baseUrl: 'https://east.openai.azure.com/openai/deployments/x', api: 'openai' }, 'azure', /openai\.azure\.com/],
    [{ baseUrl: 'https://api.deepseek.com', api: 'openai' }, 'deepseek', /base_url/],
    [{ baseUrl: 'https://generativelanguage.googleapis.com/v1beta/openai', api: 'openai' }, 'google', /base_url/],
    [{ baseUrl: 'https://openrouter.ai/api/v1', api: 'openai' }, 'openrouter', /base_url/],
    [{ baseUrl: 'https://api.anthropic.com', api: 'anthropic' }, 'anthropic', /base_url/],
    [{ baseUrl: 'http://127.0.0.1:8000/v1', api: 'openai' }, 'openai', /api: openai/],
    [{ baseUrl: 'http://10.0.0.5/v1', api: 'openai', priceProvider: 'deepseek' }, 'deepseek', /price_provider/],
    [{ baseUrl: 'https://api.openai.com/v1', api: 'openai', priceProvider: 'gemini' }, 'google', /price_provider/],
  ] as const)('%o → %s', (p, family, reason) => {
    const got = priceFamilyOf(p);
    expect(got.family).toBe(family);
    expect(got.reason).toMatch(reason);
  });

  it('a provider named openai-prod or azure-east keeps OpenAI’s prices for embeddings and chatgpt-4o-latest', () => {
    for (const family of [priceFamilyOf({ baseUrl: 'https://api.openai.com/v1', api: 'openai' }).family, priceFamilyOf({ baseUrl: 'https://east.openai.azure.com/openai', api: 'openai' }).family]) {
      expect(quote(family, 'text-embedding-3-small').rates.base.input, family).toBe(0.02);
      expect(quote(family, 'text-embedding-3-large').rates.base.input, family).toBe(0.13);
      expect(quote(family, 'text-embedding-ada-002').rates.base.input, family).toBe(0.1);
    }
    expectRates(quote('openai', 'chatgpt-4o-latest').rates.base, { input: 5, output: 15 }, 'chatgpt-4o-latest');
  });
});

describe('published list prices', () => {
  it.each<[string, string, Partial<Rates>, string]>([
    ['openai', 'gpt-4o', { input: 2.5, cachedInput: 1.25, output: 10 }, 'openai.com/api/pricing'],
    ['openai', 'gpt-4o-2024-08-06', { input: 2.5, cachedInput: 1.25, output: 10 }, 'dated id of gpt-4o'],
    ['openai', 'gpt-4o-2024-05-13', { input: 5, output: 15 }, 'the first gpt-4o snapshot'],
    ['openai', 'gpt-4o-mini', { input: 0.15, cachedInput: 0.075, output: 0.6 }, 'openai.com/api/pricing'],
    ['openai', 'gpt-4.1', { input: 2, cachedInput: 0.5, output: 8 }, 'openai.com/index/gpt-4-1'],
    ['openai', 'gpt-5', { input: 1.25, cachedInput: 0.125, output: 10 }, 'openai.com/api/pricing'],
    ['anthropic', 'claude-sonnet-4-20250514', { input: 3, cachedInput: 0.3, cacheWrite: 3.75, cacheWrite1h: 6, output: 15 }, 'anthropic.com/pricing'],
    ['anthropic', 'claude-3-5-haiku-latest', { input: 0.8, cachedInput: 0.08, cacheWrite: 1, output: 4 }, 'alias of Claude Haiku 3.5'],
    ['anthropic', 'claude-opus-4-1-20250805', { input: 15, cachedInput: 1.5, cacheWrite: 18.75, cacheWrite1h: 30, output: 75 }, 'anthropic.com/pricing'],
    ['mistral', 'mistral-small-latest', { input: 0.1, output: 0.3 }, 'mistral.ai/pricing'],
    ['google', 'gemini-2.5-flash', { input: 0.3, cachedInput: 0.03, output: 2.5, inputAudio: 1 }, 'ai.google.dev/gemini-api/docs/pricing'],
  ])('%s/%s (%s)', (family, model, published, source) => {
    expectRates(quote(family, model).rates.base, published, `${model} per ${source}`);
  });

  it('Gemini 2.5 Pro pays its long-context tier on the whole prompt past 200k tokens', () => {
    const { rates } = quote('google', 'gemini-2.5-pro');
    expect(ratesFor(rates, 200_000)).toMatchObject({ input: 1.25, output: 10 });
    expect(ratesFor(rates, 200_001)).toMatchObject({ input: 2.5, output: 15 });
  });

  it('every quote says where its price came from', () => {
    expect(quote('openai', 'gpt-4o').source).toMatch(/genai-prices .*openai\/gpt-4o/);
    expect(quote('deepseek', 'deepseek-chat').source).toMatch(/tollgate overrides: api-docs\.deepseek\.com/);
    expect(quote('openai', 'ft:gpt-4o-mini-2024-07-18:acme::x1').source).toMatch(/fine-tuned gpt-4o-mini-2024-07-18/);
  });

  it('knows the maximum output of gpt-4o (16,384)', () => {
    expect(quote('openai', 'gpt-4o').maxOutputTokens).toBe(16_384);
  });
});

describe('every token kind at its own rate', () => {
  it('gpt-4o-audio-preview: text $2.50 / $10, audio $40 in / $80 out (openai.com/api/pricing)', () => {
    expectRates(quote('openai', 'gpt-4o-audio-preview').rates.base, { input: 2.5, output: 10, inputAudio: 40, outputAudio: 80 }, 'gpt-4o-audio-preview');
    expectRates(quote('openai', 'gpt-4o-audio-preview-2024-12-17').rates.base, { inputAudio: 40, outputAudio: 80 }, 'dated id');
    expectRates(quote('openai', 'gpt-4o-mini-audio-preview').rates.base, { input: 0.15, output: 0.6, inputAudio: 10, outputAudio: 20 }, 'mini');
  });

  it('gpt-4o-audio-preview before the 2024-12-17 cut: audio $100 / $200', () => {
    expectRates(quote('openai', 'gpt-4o-audio-preview', new Date('2024-11-01T00:00:00Z')).rates.base, { inputAudio: 100, outputAudio: 200 }, 'Nov 2024');
  });

  it('gpt-audio (from the price data): audio $32 / $64', () => {
    expectRates(quote('openai', 'gpt-audio').rates.base, { input: 2.5, output: 10, inputAudio: 32, outputAudio: 64 }, 'gpt-audio');
  });

  it('a model without audio rates bills audio at its text rates', () => {
    const base = quote('openai', 'gpt-4o').rates.base;
    expect([base.inputAudio, base.outputAudio]).toEqual([base.input, base.output]);
  });
});

describe('fine-tuned ids take their base model’s fine-tuned rates (openai.com/api/pricing, fine-tuning)', () => {
  it.each<[string, Partial<Rates>]>([
    ['ft:gpt-4o-mini-2024-07-18:acme::abc123', { input: 0.3, cachedInput: 0.15, output: 1.2 }],
    ['ft:gpt-4o-2024-08-06:acme:support:abc123', { input: 3.75, cachedInput: 1.875, output: 15 }],
    ['ft:gpt-4.1-2025-04-14:acme::abc123', { input: 3, cachedInput: 0.75, output: 12 }],
    ['ft:gpt-4.1-mini-2025-04-14:acme::abc123', { input: 0.8, cachedInput: 0.2, output: 3.2 }],
    ['ft:gpt-4.1-nano-2025-04-14:acme::abc123', { input: 0.2, cachedInput: 0.05, output: 0.8 }],
    ['ft:gpt-3.5-turbo-0125:acme::abc123', { input: 3, output: 6 }],
  ])('%s', (model, published) => {
    expectRates(quote('openai', model).rates.base, published, model);
    expectRates(quote('azure', model).rates.base, published, `${model} on Azure`);
  });

  it('a fine-tune of a base with no known fine-tuned rate is unpriced (refused, with how to price it)', () => {
    expect(table.lookup('openai', 'ft:gpt-9-2030-01-01:acme::x', JULY_2025)).toBeUndefined();
  });
});

describe('dated prices: the rate in force at the request’s time', () => {
  // api-docs.deepseek.com/quick_start/pricing and DeepSeek's price notices.
  it.each<[string, string, string, Partial<Rates>]>([
    ['deepseek-chat', 'May 2025, peak (12:00 UTC)', '2025-05-14T12:00:00Z', { input: 0.27, cachedInput: 0.07, output: 1.1 }],
    ['deepseek-chat', 'May 2025, off-peak (20:00 UTC)', '2025-05-14T20:00:00Z', { input: 0.135, cachedInput: 0.035, output: 0.55 }],
    ['deepseek-chat', 'May 2025, off-peak after midnight (00:15 UTC)', '2025-05-15T00:15:00Z', { input: 0.135, cachedInput: 0.035, output: 0.55 }],
    ['deepseek-chat', 'May 2025, just past the off-peak (00:30 UTC)', '2025-05-15T00:30:00Z', { input: 0.27, cachedInput: 0.07, output: 1.1 }],
    ['deepseek-reasoner', 'May 2025, peak', '2025-05-14T12:00:00Z', { input: 0.55, cachedInput: 0.14, output: 2.19 }],
    ['deepseek-reasoner', 'May 2025, off-peak (75% off)', '2025-05-14T20:00:00Z', { input: 0.135, cachedInput: 0.035, output: 0.55 }],
    ['deepseek-chat', '2025-02-20 at night (before the discount began)', '2025-02-20T20:00:00Z', { input: 0.27, output: 1.1 }],
    ['deepseek-chat', '2025-09-10, V3.1, no discount at night', '2025-09-10T20:00:00Z', { input: 0.56, cachedInput: 0.07, output: 1.68 }],
    ['deepseek-reasoner', '2025-09-10, V3.1 (priced like chat)', '2025-09-10T12:00:00Z', { input: 0.56, cachedInput: 0.07, output: 1.68 }],
    ['deepseek-chat', 'today, V3.2', '2026-12-03T12:00:00Z', { input: 0.28, cachedInput: 0.028, output: 0.42 }],
    ['deepseek-reasoner', 'today, V3.2', '2026-12-03T20:00:00Z', { input: 0.28, cachedInput: 0.028, output: 0.42 }],
  ])('%s, %s', (model, _when, iso, published) => {
    expectRates(quote('deepseek', model, new Date(iso)).rates.base, published, `${model} at ${iso}`);
  });

  it('deepseek-chat behind an OpenAI-format provider at an unknown host is priced from DeepSeek’s list', () => {
    expectRates(quote('openai', 'deepseek-chat', new Date('2025-05-14T20:00:00Z')).rates.base, { input: 0.135, output: 0.55 }, 'maker fallback');
  });

  it('o3: $10 / $2.50 cached / $40 until 2025-06-10, then $2 / $0.50 / $8 (openai.com, o3 price cut)', () => {
    expectRates(quote('openai', 'o3', new Date('2025-05-01T00:00:00Z')).rates.base, { input: 10, cachedInput: 2.5, output: 40 }, 'o3 in May');
    expectRates(quote('openai', 'o3-2025-04-16', new Date('2025-06-09T23:59:00Z')).rates.base, { cachedInput: 2.5 }, 'the day before');
    expectRates(quote('openai', 'o3', new Date('2025-06-10T00:00:00Z')).rates.base, { input: 2, cachedInput: 0.5, output: 8 }, 'o3 from the cut');
  });

  it('Claude Sonnet 4 past 200k prompt tokens: $6 / $22.50 while the 1M-context beta ran, base rates before it', () => {
    const during = quote('anthropic', 'claude-sonnet-4-20250514', new Date('2025-10-01T00:00:00Z')).rates;
    expectRates(ratesFor(during, 200_001), { input: 6, cachedInput: 0.6, cacheWrite: 7.5, cacheWrite1h: 12, output: 22.5 }, 'long context');
    expectRates(ratesFor(during, 200_000), { input: 3, output: 15 }, 'at the threshold');
    expect(quote('anthropic', 'claude-sonnet-4-20250514', new Date('2025-07-01T00:00:00Z')).rates.tiers).toEqual([]);
  });
});

describe('aliases find their model at the time', () => {
  it('mistral-large-latest: Mistral Large 2 ($2 / $6), then Large 3 ($0.50 / $1.50) from 2026-03-02', () => {
    expectRates(quote('mistral', 'mistral-large-latest', new Date('2026-01-15T00:00:00Z')).rates.base, { input: 2, output: 6 }, 'Jan 2026');
    expectRates(quote('mistral', 'mistral-large-latest', new Date('2026-03-02T00:00:00Z')).rates.base, { input: 0.5, output: 1.5 }, 'Mar 2026');
    expect(quote('mistral', 'mistral-large-latest', TODAY).source).toMatch(/mistral-large-latest → mistral-large-2512/);
  });

  it('gemini-flash-latest: Gemini 2.5 Flash ($0.30 / $2.50) in Oct 2025, Gemini 3.5 Flash ($1.50 / $9) today', () => {
    expectRates(quote('google', 'gemini-flash-latest', new Date('2025-10-01T00:00:00Z')).rates.base, { input: 0.3, output: 2.5 }, 'Oct 2025');
    expectRates(quote('google', 'gemini-flash-latest', TODAY).rates.base, { input: 1.5, output: 9 }, 'today');
  });
});

describe('config prices', () => {
  const history = (...entries: Dated<PriceConfig>[]) => entries;
  const custom = new PriceTable({
    'gpt-4o': history({ value: { input: 1, output: 2 } }),
    'my-finetune-*': history({ value: { input: 3, cachedInput: 1.5, output: 12, maxOutputTokens: 4096 } }),
    'my-model': history({ from: '2026-01-01', value: { input: 1, output: 4 } }, { from: '2026-06-01', value: { input: 0.5, output: 2 } }),
  });

  it('override the bundled price, and say so', () => {
    const q = custom.lookup('openai', 'gpt-4o', JULY_2025);
    expect(q?.rates.base).toMatchObject({ input: 1, output: 2 });
    expect(q?.source).toMatch(/config/);
  });

  it('support * globs, and resolve missing rates', () => {
    const q = custom.lookup('openai', 'my-finetune-v2', JULY_2025);
    expect(q?.rates.base).toEqual({ input: 3, cachedInput: 1.5, cacheWrite: 3.75, cacheWrite1h: 6, output: 12, inputAudio: 3, outputAudio: 12 });
    expect(q?.maxOutputTokens).toBe(4096);
    expect(custom.lookup('openai', 'my-finetune', JULY_2025)).toBeUndefined(); // the glob needs the dash
  });

  it('apply each dated entry from its date, and nothing before the first', () => {
    expect(custom.lookup('openai', 'my-model', new Date('2025-12-31T23:59:00Z'))).toBeUndefined();
    expect(custom.lookup('openai', 'my-model', new Date('2026-01-01T00:00:00Z'))?.rates.base).toMatchObject({ input: 1, output: 4 });
    expect(custom.lookup('openai', 'my-model', new Date('2026-05-31T23:59:00Z'))?.rates.base).toMatchObject({ input: 1, output: 4 });
    const june = custom.lookup('openai', 'my-model', new Date('2026-06-01T00:00:00Z'));
    expect(june?.rates.base).toMatchObject({ input: 0.5, output: 2 });
    expect(june?.source).toBe('config prices (from 2026-06-01)');
  });

  it('an id naming an Object.prototype member is not read as a config price', () => {
    for (const model of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) expect(custom.lookup('openai', model, JULY_2025), model).toBeUndefined();
  });
});

describe('unknown models', () => {
  it('are unpriced', () => {
    expect(table.lookup('openai', 'gpt-unknown-9000', JULY_2025)).toBeUndefined();
    expect(table.lookup('openai', 'meta-llama/Llama-3-8B-local-finetune-xyz', JULY_2025)).toBeUndefined();
  });
});
