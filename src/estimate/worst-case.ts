/**
 * A request's worst-case cost, for the reservation made before forwarding (SPEC §5): every prompt
 * token at the dearest input rate, plus the most output the request allows × the output rate.
 */
import { worstCaseNano } from '../pricing/cost.js';
import type { PriceQuote } from '../pricing/price-table.js';
import { ratesFor } from '../pricing/rates.js';
import { countPromptTokens, FILE_REFERENCE_TOKENS, promptBound } from './prompt.js';

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
  // The request's own limit as given: a beta header may lift the model's usual maximum.
  const limit = own ?? quote?.maxOutputTokens ?? fallback;
  const choices = Math.max(positiveInt(body.n) ?? 1, positiveInt(body.best_of) ?? 1);
  return limit * Math.min(choices, 128);
}

/** Context a body points at rather than contains, unless the model's window is unknown. */
const DEFAULT_CONTEXT_WINDOW = 200_000;
const HOSTED_TOOL = /^(web_search|file_search|code_interpreter|computer_use|mcp|image_generation)/;

/**
 * Input the provider adds on its side: an earlier conversation (`previous_response_id`,
 * `conversation`, a stored `prompt`) can fill the model's whole context window, and each hosted
 * tool (web or file search…) feeds its results back in as input.
 */
function unseenInput(body: Body, quote: PriceQuote | undefined): number {
  const prompt = body.prompt;
  const storedContext =
    typeof body.previous_response_id === 'string' ||
    (body.conversation !== undefined && body.conversation !== null) ||
    (prompt !== null && typeof prompt === 'object' && !Array.isArray(prompt) && 'id' in prompt);
  const hostedTools = Array.isArray(body.tools)
    ? body.tools.filter((t) => t !== null && typeof t === 'object' && HOSTED_TOOL.test(String((t as Body).type))).length
    : 0;
  return (storedContext ? (quote?.contextWindow ?? DEFAULT_CONTEXT_WINDOW) : 0) + hostedTools * FILE_REFERENCE_TOKENS;
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
  const inputTokens = (count ? countPromptTokens(body, model, true) : promptBound(body, rawText, model)) + unseenInput(body, quote);
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
