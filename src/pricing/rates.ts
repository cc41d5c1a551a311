/** Per-model rates in USD per 1M tokens, every kind resolved (SPEC §8 "Missing rates"). */
export interface Rates {
  input: number;
  cachedInput: number;
  cacheWrite: number;
  cacheWrite1h: number;
  output: number;
}

export interface PartialRates {
  input: number;
  output: number;
  cachedInput?: number | undefined;
  cacheWrite?: number | undefined;
  cacheWrite1h?: number | undefined;
}

/** No cached-input rate → the input rate; no cache-write rate → input × 1.25 (5 min) or × 2 (1 h). */
export function resolveRates(p: PartialRates): Rates {
  return {
    input: p.input,
    output: p.output,
    cachedInput: p.cachedInput ?? p.input,
    cacheWrite: p.cacheWrite ?? p.input * 1.25,
    cacheWrite1h: p.cacheWrite1h ?? p.input * 2,
  };
}

/** A price that may step up past a prompt size (long-context tiers). */
export interface TieredRates {
  base: Rates;
  /** Sorted by ascending threshold: a prompt of more than `aboveInputTokens` pays `rates` on all tokens. */
  tiers: { aboveInputTokens: number; rates: Rates }[];
}

export function ratesFor(t: TieredRates, inputTokens: number): Rates {
  let rates = t.base;
  for (const tier of t.tiers) if (inputTokens > tier.aboveInputTokens) rates = tier.rates;
  return rates;
}

