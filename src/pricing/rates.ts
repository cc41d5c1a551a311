/** Per-model rates in USD per 1M tokens, every kind resolved (SPEC §8 "Missing rates", §9). */
export interface Rates {
  input: number;
  cachedInput: number;
  cacheWrite: number;
  cacheWrite1h: number;
  output: number;
  /** Audio tokens in and out (OpenAI's audio models bill them apart, at many times the text rate). */
  inputAudio: number;
  outputAudio: number;
}

export interface PartialRates {
  input: number;
  output: number;
  cachedInput?: number | undefined;
  cacheWrite?: number | undefined;
  cacheWrite1h?: number | undefined;
  inputAudio?: number | undefined;
  outputAudio?: number | undefined;
}

/**
 * No cached-input rate → the input rate; no cache-write rate → input × 1.25 (5 min) or × 2 (1 h);
 * no audio rate → the text rate of the same direction.
 */
export function resolveRates(p: PartialRates): Rates {
  return {
    input: p.input,
    output: p.output,
    cachedInput: p.cachedInput ?? p.input,
    cacheWrite: p.cacheWrite ?? p.input * 1.25,
    cacheWrite1h: p.cacheWrite1h ?? p.input * 2,
    inputAudio: p.inputAudio ?? p.input,
    outputAudio: p.outputAudio ?? p.output,
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

/** The rate kinds, in the order they are shown (CLI, audits), with their names in USD per 1M. */
export const RATE_KINDS = ['input', 'cachedInput', 'cacheWrite', 'cacheWrite1h', 'output', 'inputAudio', 'outputAudio'] as const;
export type RateKind = (typeof RATE_KINDS)[number];
