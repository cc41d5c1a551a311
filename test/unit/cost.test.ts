// Exact money: costs in integer nano-dollars (1e-9 USD), rates resolved per SPEC §8 "Missing
// rates", long-context tiers applied to the whole prompt. Expectations are integer arithmetic on
// nano-dollars per token written out in the test (e.g. $2.50/1M = 2,500 nano per token).
import { describe, expect, it } from 'vitest';
import { usage } from '../helpers/usage.js';
import { costNano, worstCaseNano } from '../../src/pricing/cost.js';
import { ratesFor, resolveRates, type Rates, type TieredRates } from '../../src/pricing/rates.js';

const NONE = { cacheWrite: 'none', audioInput: false, audioOutput: false } as const;
const FIVE_MIN = { ...NONE, cacheWrite: '5m' } as const;
const ONE_HOUR = { ...NONE, cacheWrite: '1h' } as const;


// USD per 1M tokens.
const GPT_4O: Rates = { input: 2.5, cachedInput: 1.25, cacheWrite: 3.125, cacheWrite1h: 5, output: 10, inputAudio: 2.5, outputAudio: 10 };
const SONNET_4: Rates = { input: 3, cachedInput: 0.3, cacheWrite: 3.75, cacheWrite1h: 6, output: 15, inputAudio: 3, outputAudio: 15 };
const flat = (usdPerMtok: number): Rates => ({
  input: usdPerMtok,
  cachedInput: usdPerMtok,
  cacheWrite: usdPerMtok,
  cacheWrite1h: usdPerMtok,
  output: usdPerMtok,
  inputAudio: usdPerMtok,
  outputAudio: usdPerMtok,
});

describe('costNano', () => {
  it('prices OpenAI usage: uncached input, cached input and output each at their own rate', () => {
    // 1200 prompt tokens of which 1024 cached; 300 output. Nano per token: 2500 / 1250 / 10000.
    const u = usage({ inputTokens: 1200, cachedInputTokens: 1024, outputTokens: 300, reasoningTokens: 100 });
    expect(costNano(u, GPT_4O)).toBe(176 * 2500 + 1024 * 1250 + 300 * 10_000);
  });

  it('prices Anthropic usage: 5m and 1h cache writes at their own rates', () => {
    // 20 uncached + 3000 reads + 1500 writes (1000 of them 1h); 250 output.
    const u = usage({ inputTokens: 4520, cachedInputTokens: 3000, cacheWriteTokens: 1500, cacheWrite1hTokens: 1000, outputTokens: 250 });
    expect(costNano(u, SONNET_4)).toBe(20 * 3000 + 3000 * 300 + 500 * 3750 + 1000 * 6000 + 250 * 15_000);
  });

  it('costs nothing for no tokens', () => {
    expect(costNano(usage({}), SONNET_4)).toBe(0);
  });

  it('summing 1,000,000 one-token costs at $0.15/1M equals the cost of 1,000,000 tokens, exactly $0.15', () => {
    const rates = flat(0.15);
    let sum = 0;
    for (let i = 0; i < 1_000_000; i++) sum += costNano(usage({ inputTokens: 1 }), rates);
    expect(sum).toBe(150_000_000);
    expect(costNano(usage({ inputTokens: 1_000_000 }), rates)).toBe(150_000_000);
  });

  it('keeps float-unfriendly rates exact ($0.1 + $0.2 style)', () => {
    // 0.1 + 0.2 !== 0.3 in floats; 100 + 200 nano per token is exactly 300.
    const rates: Rates = { input: 0.1, cachedInput: 0.1, cacheWrite: 0.1, cacheWrite1h: 0.1, output: 0.2, inputAudio: 0.1, outputAudio: 0.2 };
    expect(costNano(usage({ inputTokens: 1_000_000, outputTokens: 1_000_000 }), rates)).toBe(300_000_000);
    expect(costNano(usage({ inputTokens: 3, outputTokens: 7 }), { ...rates, input: 1.1, output: 2.2 })).toBe(3 * 1100 + 7 * 2200);
  });

  it('keeps 1e9 tokens at $75/1M an exact integer ($75,000)', () => {
    const n = costNano(usage({ outputTokens: 1_000_000_000 }), flat(75));
    expect(Number.isSafeInteger(n)).toBe(true);
    expect(n).toBe(75_000 * 1_000_000_000);
    const mixed = costNano(usage({ inputTokens: 1_000_000_000, cachedInputTokens: 1, outputTokens: 999_999_999 }), { ...flat(75), cachedInput: 37.5, output: 150 });
    // (1e9 - 1) × 75000 + 1 × 37500 + 999,999,999 × 150000 nano
    expect(mixed).toBe(74_999_999_925_000 + 37_500 + 149_999_999_850_000);
  });

  it('rounds half up to whole nano-dollars', () => {
    // $0.0375/1M = 37.5 nano per token.
    expect(costNano(usage({ inputTokens: 1 }), flat(0.0375))).toBe(38);
    expect(costNano(usage({ inputTokens: 3 }), flat(0.0375))).toBe(113); // 112.5
    // $0.0001234/1M = 0.1234 nano per token.
    expect(costNano(usage({ inputTokens: 1 }), flat(0.0001234))).toBe(0);
    expect(costNano(usage({ inputTokens: 4 }), flat(0.0001234))).toBe(0); // 0.4936
    expect(costNano(usage({ inputTokens: 5 }), flat(0.0001234))).toBe(1); // 0.617
  });

  it('rounds once per request, not once per kind of token', () => {
    // 0.4 + 0.4 nano from two kinds: 0.8 → 1, where rounding each part would give 0.
    const rates: Rates = { input: 0.0004, cachedInput: 0.0004, cacheWrite: 0, cacheWrite1h: 0, output: 0.0004, inputAudio: 0, outputAudio: 0 };
    expect(costNano(usage({ inputTokens: 1, outputTokens: 1 }), rates)).toBe(1);
  });
});

describe('audio tokens', () => {
  const AUDIO: Rates = { ...GPT_4O, inputAudio: 40, outputAudio: 80 };

  it('bills audio in and out at their own rates, the rest of the prompt and completion as text', () => {
    // 300 text in × 2,500 + 700 audio in × 40,000 + 100 text out × 10,000 + 500 audio out × 80,000 nano.
    const u = usage({ inputTokens: 1000, outputTokens: 600, audioInputTokens: 700, audioOutputTokens: 500 });
    expect(costNano(u, AUDIO)).toBe(300 * 2500 + 700 * 40_000 + 100 * 10_000 + 500 * 80_000);
  });

  it('a worst case takes the audio rates only when the body carries or asks for audio', () => {
    expect(worstCaseNano(1000, 100, AUDIO, NONE)).toBe(1000 * 2500 + 100 * 10_000);
    expect(worstCaseNano(1000, 100, AUDIO, { ...NONE, audioInput: true })).toBe(1000 * 40_000 + 100 * 10_000);
    expect(worstCaseNano(1000, 100, AUDIO, { ...NONE, audioOutput: true })).toBe(1000 * 2500 + 100 * 80_000);
  });
});

describe('worstCaseNano', () => {
  it('prices every prompt token at the input rate and every allowed output token', () => {
    expect(worstCaseNano(1000, 500, GPT_4O, NONE)).toBe(1000 * 2500 + 500 * 10_000);
  });

  it('prices prompt tokens at the dearest input-side rate when the request may write a cache (1 hour dearest)', () => {
    expect(worstCaseNano(1000, 500, GPT_4O, ONE_HOUR)).toBe(1000 * 5000 + 500 * 10_000);
    expect(worstCaseNano(1000, 500, GPT_4O, FIVE_MIN)).toBe(1000 * 3125 + 500 * 10_000);
    // A model whose 5m write rate is the dearest.
    expect(worstCaseNano(10, 0, { ...SONNET_4, cacheWrite1h: 3.5 }, ONE_HOUR)).toBe(10 * 3750);
  });

  it('rounds up: a reservation never falls short', () => {
    expect(worstCaseNano(1, 0, flat(0.0001234), NONE)).toBe(1); // 0.1234 nano
    expect(worstCaseNano(0, 3, flat(0.0375), NONE)).toBe(113); // 112.5
    expect(worstCaseNano(5, 0, flat(0.0001234), NONE)).toBe(1); // 0.617
    expect(worstCaseNano(9, 0, flat(0.0001234), NONE)).toBe(2); // 1.1106
  });

  it('does not round up an exact amount', () => {
    expect(worstCaseNano(1, 0, flat(0.15), NONE)).toBe(150);
    expect(worstCaseNano(1_000_000, 1_000_000, GPT_4O, NONE)).toBe(12_500_000_000);
  });

  it('is never below the real cost of a usage that stays within it', () => {
    const u = usage({ inputTokens: 777, cachedInputTokens: 100, cacheWriteTokens: 300, cacheWrite1hTokens: 50, outputTokens: 333 });
    expect(worstCaseNano(777, 333, SONNET_4, ONE_HOUR)).toBeGreaterThanOrEqual(costNano(u, SONNET_4));
  });
});

describe('resolveRates: missing rates (SPEC §8)', () => {
  it('prices cached input at the input rate when no cached rate is given', () => {
    expect(resolveRates({ input: 2, output: 8 }).cachedInput).toBe(2);
  });

  it('prices cache writes at input × 1.25 (5 minutes) and × 2 (1 hour) when not given', () => {
    const r = resolveRates({ input: 2, output: 8 });
    expect(r.cacheWrite).toBe(2.5);
    expect(r.cacheWrite1h).toBe(4);
    const mini = resolveRates({ input: 0.15, output: 0.6 });
    expect(mini.cacheWrite).toBeCloseTo(0.1875, 12);
    expect(mini.cacheWrite1h).toBeCloseTo(0.3, 12);
  });

  it('keeps the rates it is given, a zero rate included', () => {
    expect(resolveRates({ input: 3, output: 15, cachedInput: 0.3, cacheWrite: 3.75, cacheWrite1h: 6 })).toEqual(SONNET_4);
    const free = resolveRates({ input: 1, output: 2, cachedInput: 0, cacheWrite: 0, cacheWrite1h: 0 });
    expect(free).toEqual({ input: 1, output: 2, cachedInput: 0, cacheWrite: 0, cacheWrite1h: 0, inputAudio: 1, outputAudio: 2 });
  });

  it('gives an exact cost with derived rates', () => {
    // input $0.15 → 5m write $0.1875 = 187.5 nano per token; 2 tokens = 375 nano.
    const r = resolveRates({ input: 0.15, output: 0.6 });
    expect(costNano(usage({ inputTokens: 2, cacheWriteTokens: 2 }), r)).toBe(375);
  });
});

describe('tiers', () => {
  const base = flat(1.25);
  const mid = flat(2.5);
  const top = flat(5);
  const tiered: TieredRates = {
    base,
    tiers: [
      { aboveInputTokens: 128_000, rates: mid },
      { aboveInputTokens: 200_000, rates: top },
    ],
  };

  it('pays the base rate up to and including a threshold', () => {
    expect(ratesFor(tiered, 0)).toBe(base);
    expect(ratesFor(tiered, 128_000)).toBe(base);
  });

  it('pays a tier rate on all tokens once the prompt is more than its threshold', () => {
    expect(ratesFor(tiered, 128_001)).toBe(mid);
    expect(ratesFor(tiered, 200_000)).toBe(mid);
    expect(ratesFor(tiered, 200_001)).toBe(top);
    const n = 200_001;
    expect(costNano(usage({ inputTokens: n }), ratesFor(tiered, n))).toBe(n * 5000);
  });

});
