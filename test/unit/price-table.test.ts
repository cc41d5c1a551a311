// The price table: config prices over Tollgate's overrides over the pinned genai-prices data.
// Expected prices are the providers' published list prices (USD per 1M tokens), SPEC §4.
import { describe, expect, it } from 'vitest';
import type { PriceConfig } from '../../src/config/types.js';
import { PriceTable, type PriceQuote } from '../../src/pricing/price-table.js';
import { ratesFor } from '../../src/pricing/rates.js';

const JULY_2025 = new Date('2025-07-15T12:00:00Z');
const table = new PriceTable({});

function quote(provider: string, model: string, at = JULY_2025): PriceQuote {
  const q = table.lookup(provider, model, at);
  expect(q, `${provider}/${model} should be priced`).toBeDefined();
  return q!;
}

describe('bundled reference prices', () => {
  it('GPT-4o: $2.50 input, $1.25 cached, $10.00 output', () => {
    const { base } = quote('openai', 'gpt-4o').rates;
    expect(base.input).toBe(2.5);
    expect(base.cachedInput).toBe(1.25);
    expect(base.output).toBe(10);
  });

  it('GPT-4o-mini: $0.15 input, $0.075 cached, $0.60 output', () => {
    const { base } = quote('openai', 'gpt-4o-mini').rates;
    expect(base.input).toBe(0.15);
    expect(base.cachedInput).toBe(0.075);
    expect(base.output).toBe(0.6);
  });

  it('Claude Sonnet 4: $3 input, $0.30 cache read, $3.75 cache write, $6 1h write, $15 output', () => {
    expect(quote('anthropic', 'claude-sonnet-4-20250514').rates.base).toEqual({
      input: 3,
      cachedInput: 0.3,
      cacheWrite: 3.75,
      cacheWrite1h: 6,
      output: 15,
    });
  });

  it.each([
    ['03:00 UTC (inside the old off-peak window)', '2025-07-15T03:00:00Z'],
    ['20:00 UTC (inside the old off-peak window)', '2025-07-15T20:00:00Z'],
    ['12:00 UTC', '2025-07-15T12:00:00Z'],
    ['16:45 UTC', '2025-11-02T16:45:00Z'],
  ])('deepseek-chat is $0.27 / $1.10 at %s', (_label, iso) => {
    const { base } = quote('deepseek', 'deepseek-chat', new Date(iso)).rates;
    expect(base.input).toBe(0.27);
    expect(base.output).toBe(1.1);
  });

  it('deepseek-chat behind a provider with another name keeps the standard price at night', () => {
    const { base } = quote('my-deepseek', 'deepseek-chat', new Date('2025-07-15T23:00:00Z')).rates;
    expect(base.input).toBe(0.27);
    expect(base.output).toBe(1.1);
  });
});

describe('dated model ids', () => {
  it('gpt-4o-2024-08-06 is priced as GPT-4o', () => {
    const { base } = quote('openai', 'gpt-4o-2024-08-06').rates;
    expect([base.input, base.cachedInput, base.output]).toEqual([2.5, 1.25, 10]);
  });

  it('claude-sonnet-4-20250514 is priced as Claude Sonnet 4', () => {
    const { base } = quote('anthropic', 'claude-sonnet-4-20250514').rates;
    expect([base.input, base.output]).toEqual([3, 15]);
  });

  it('gpt-4o-2024-05-13 keeps its own older $5 / $15', () => {
    const { base } = quote('openai', 'gpt-4o-2024-05-13').rates;
    expect([base.input, base.output]).toEqual([5, 15]);
  });
});

describe('config prices', () => {
  const configPrices: Record<string, PriceConfig> = {
    'gpt-4o': { input: 1, output: 2 },
    'my-finetune-*': { input: 3, cachedInput: 1.5, output: 12, maxOutputTokens: 4096 },
  };
  const custom = new PriceTable(configPrices);

  it('override the bundled price', () => {
    const q = custom.lookup('openai', 'gpt-4o', JULY_2025);
    expect(q?.rates.base.input).toBe(1);
    expect(q?.rates.base.output).toBe(2);
    expect(q?.source).toMatch(/config/);
  });

  it('support * globs, and resolve missing rates', () => {
    const q = custom.lookup('vllm', 'my-finetune-v2', JULY_2025);
    expect(q?.rates.base).toEqual({ input: 3, cachedInput: 1.5, cacheWrite: 3.75, cacheWrite1h: 6, output: 12 });
    expect(q?.maxOutputTokens).toBe(4096);
    expect(custom.lookup('vllm', 'my-finetune', JULY_2025)).toBeUndefined(); // the glob needs the dash
  });

  it('leave other models to the bundled table', () => {
    expect(custom.lookup('openai', 'gpt-4o-mini', JULY_2025)?.rates.base.input).toBe(0.15);
  });
});

describe('unknown models', () => {
  it('are unpriced', () => {
    expect(table.lookup('openai', 'gpt-unknown-9000', JULY_2025)).toBeUndefined();
    expect(table.lookup('vllm', 'meta-llama/Llama-3-8B-local-finetune-xyz', JULY_2025)).toBeUndefined();
  });

  // Model ids come from clients; a catch-all provider glob ("*") lets any id reach the table.
  it('an id naming an Object.prototype member is not read as a config price', () => {
    const custom = new PriceTable({ 'my-model': { input: 1, output: 1 } });
    for (const model of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      expect(custom.lookup('vllm', model, JULY_2025), model).toBeUndefined();
    }
  });
});

describe('tiers, sources and output limits', () => {
  it('Gemini 2.5 Pro pays a long-context tier above 200k prompt tokens', () => {
    for (const provider of ['google', 'gemini']) {
      const { rates } = quote(provider, 'gemini-2.5-pro');
      expect(rates.base.input).toBe(1.25);
      expect(rates.base.output).toBe(10);
      expect(rates.tiers.map((t) => t.aboveInputTokens)).toContain(200_000);
      expect(ratesFor(rates, 200_000).input).toBe(1.25);
      expect(ratesFor(rates, 200_001).input).toBe(2.5);
      expect(ratesFor(rates, 200_001).output).toBe(15);
      expect(ratesFor(rates, Number.MAX_SAFE_INTEGER).input).toBe(2.5);
    }
  });

  it('every quote says where its price came from', () => {
    const sources = [
      quote('openai', 'gpt-4o').source,
      quote('anthropic', 'claude-sonnet-4-20250514').source,
      quote('deepseek', 'deepseek-chat').source,
      new PriceTable({ x: { input: 1, output: 1 } }).lookup('vllm', 'x', JULY_2025)?.source,
    ];
    for (const s of sources) expect(typeof s === 'string' && s.trim().length > 0, String(s)).toBe(true);
    expect(sources[0]).toMatch(/genai-prices/);
    expect(sources[0]).toMatch(/gpt-4o/);
    expect(sources[1]).toMatch(/claude-sonnet-4/);
    expect(sources[2]).toMatch(/deepseek/);
    expect(sources[3]).toMatch(/config/);
  });

  it('knows the maximum output of gpt-4o (16,384)', () => {
    expect(quote('openai', 'gpt-4o').maxOutputTokens).toBe(16_384);
    expect(quote('openai', 'gpt-4o-2024-08-06').maxOutputTokens).toBe(16_384);
  });
});
