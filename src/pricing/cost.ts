/**
 * Cost of one request, exactly: uncached input × input + cache reads × cached input + cache
 * writes × their rate + output × output. The sum is taken in BigInt over integer nano-dollars
 * per 1M tokens and rounded once, so no float error accumulates.
 */
import type { Usage } from '../metering/usage.js';
import type { Rates } from './rates.js';

const PER_MTOK = 1_000_000n;

function nanoPerMtok(usdPerMtok: number): bigint {
  return BigInt(Math.round(usdPerMtok * 1e9));
}

export function costNano(usage: Usage, rates: Rates): number {
  const writes1h = Math.min(usage.cacheWrite1hTokens, usage.cacheWriteTokens);
  const writes5m = usage.cacheWriteTokens - writes1h;
  const uncached = Math.max(0, usage.inputTokens - usage.cachedInputTokens - usage.cacheWriteTokens);
  const total =
    BigInt(uncached) * nanoPerMtok(rates.input) +
    BigInt(usage.cachedInputTokens) * nanoPerMtok(rates.cachedInput) +
    BigInt(writes5m) * nanoPerMtok(rates.cacheWrite) +
    BigInt(writes1h) * nanoPerMtok(rates.cacheWrite1h) +
    BigInt(usage.outputTokens) * nanoPerMtok(rates.output);
  // Round half up to whole nano-dollars.
  return Number((total + PER_MTOK / 2n) / PER_MTOK);
}

/**
 * Worst case: every prompt token at the dearest input-side rate the body can incur (a cache
 * write costs more than plain input, a 1-hour one most), every allowed output token.
 */
export function worstCaseNano(promptTokens: number, outputTokens: number, rates: Rates, cacheWrite: 'none' | '5m' | '1h'): number {
  const writeRate = cacheWrite === '1h' ? Math.max(rates.cacheWrite, rates.cacheWrite1h) : cacheWrite === '5m' ? rates.cacheWrite : 0;
  const inputRate = Math.max(rates.input, writeRate);
  const total = BigInt(promptTokens) * nanoPerMtok(inputRate) + BigInt(outputTokens) * nanoPerMtok(rates.output);
  return Number((total + PER_MTOK - 1n) / PER_MTOK); // round up: a reservation must never fall short
}
