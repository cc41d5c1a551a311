/**
 * A request's worst-case cost, for the reservation made before forwarding (SPEC §5): every prompt
 * token at the dearest input rate, plus the most output the request allows × the output rate.
 */
import { worstCaseNano } from '../pricing/cost.js';
import type { PriceQuote } from '../pricing/price-table.js';
import { ratesFor } from '../pricing/rates.js';
import { countPromptTokens, promptBound } from './prompt.js';

export interface WorstCase {
  inputTokens: number;
  outputTokens: number;
  costNano: number;
  /** True when the prompt was counted with a tokenizer rather than bounded by its bytes. */
  counted: boolean;
}

type Body = Record<string, unknown>;

function positiveInt(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isSafeInteger(v) && v > 0 ? v : undefined;
}

/**
 * The output the request may produce: its own limit, else the model's maximum, else the config's
 * default; times the number of choices it asks for (`n`, `best_of`).
 */
export function outputLimit(body: Body, endpoint: string, quote: PriceQuote | undefined, fallback: number): number {
  if (endpoint === '/v1/embeddings' || endpoint === '/v1/messages/count_tokens') return 0;
  const own = positiveInt(body.max_completion_tokens) ?? positiveInt(body.max_tokens) ?? positiveInt(body.max_output_tokens);
  const modelMax = quote?.maxOutputTokens;
  const limit = own !== undefined ? (modelMax !== undefined && modelMax > 0 ? Math.min(own, modelMax) : own) : (modelMax ?? fallback);
  const choices = Math.max(positiveInt(body.n) ?? 1, positiveInt(body.best_of) ?? 1);
  return limit * Math.min(choices, 128);
}

export function worstCase(
  body: Body,
  rawText: string,
  model: string,
  endpoint: string,
  quote: PriceQuote | undefined,
  defaultMaxOutput: number,
  count: boolean,
): WorstCase {
  const outputTokens = outputLimit(body, endpoint, quote, defaultMaxOutput);
  // The bound is free; counting is only worth it when the bound does not fit a budget.
  const inputTokens = count ? countPromptTokens(body, model, true) : promptBound(rawText);
  if (!quote) return { inputTokens, outputTokens, costNano: 0, counted: count };
  // Anthropic cache writes cost more than plain input, up to 2× for a 1-hour TTL.
  const mayWriteCache = rawText.includes('"cache_control"');
  return {
    inputTokens,
    outputTokens,
    // A long-context tier applies only past its threshold, and inputTokens bounds the real prompt.
    costNano: worstCaseNano(inputTokens, outputTokens, ratesFor(quote.rates, inputTokens), mayWriteCache),
    counted: count,
  };
}
