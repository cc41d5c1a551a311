/**
 * Cost of one request, exactly: each token kind at its own rate (SPEC §4, §9). Uncached text
 * input × input + cache reads × cached input + cache writes × their rate (5-minute or 1-hour) +
 * audio input × audio input + text output (reasoning included) × output + audio output × audio
 * output. The sum is taken in BigInt over integer nano-dollars per 1M tokens and rounded once,
 * so no float error accumulates.
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
  // Audio tokens are part of the prompt and completion counts; they are billed at their own rate.
  const audioIn = Math.min(usage.audioInputTokens, usage.inputTokens);
  const audioOut = Math.min(usage.audioOutputTokens, usage.outputTokens);
  const uncached = Math.max(0, usage.inputTokens - usage.cachedInputTokens - usage.cacheWriteTokens - audioIn);
  const total =
    BigInt(uncached) * nanoPerMtok(rates.input) +
    BigInt(usage.cachedInputTokens) * nanoPerMtok(rates.cachedInput) +
    BigInt(writes5m) * nanoPerMtok(rates.cacheWrite) +
    BigInt(writes1h) * nanoPerMtok(rates.cacheWrite1h) +
    BigInt(audioIn) * nanoPerMtok(rates.inputAudio) +
    BigInt(usage.outputTokens - audioOut) * nanoPerMtok(rates.output) +
    BigInt(audioOut) * nanoPerMtok(rates.outputAudio);
  // Round half up to whole nano-dollars.
  return Number((total + PER_MTOK / 2n) / PER_MTOK);
}

/** What a worst case may assume the body asks for: cache writes, audio in, audio out. */
export interface DearestKinds {
  cacheWrite: 'none' | '5m' | '1h';
  audioInput: boolean;
  audioOutput: boolean;
}

/**
 * Worst case: every prompt token at the dearest input-side rate the body can incur (a cache write
 * costs more than plain input, a 1-hour one most; audio more still), every allowed output token at
 * the dearest output rate.
 */
export function worstCaseNano(promptTokens: number, outputTokens: number, rates: Rates, kinds: DearestKinds): number {
  const writeRate = kinds.cacheWrite === '1h' ? Math.max(rates.cacheWrite, rates.cacheWrite1h) : kinds.cacheWrite === '5m' ? rates.cacheWrite : 0;
  const inputRate = Math.max(rates.input, writeRate, kinds.audioInput ? rates.inputAudio : 0);
  const outputRate = Math.max(rates.output, kinds.audioOutput ? rates.outputAudio : 0);
  const total = BigInt(promptTokens) * nanoPerMtok(inputRate) + BigInt(outputTokens) * nanoPerMtok(outputRate);
  return Number((total + PER_MTOK - 1n) / PER_MTOK); // round up: a reservation must never fall short
}
