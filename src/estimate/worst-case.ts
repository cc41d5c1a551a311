/**
 * A request's worst-case cost, for the reservation made before forwarding (SPEC §5): every prompt
 * token at the dearest input rate the body can incur, plus the most output it allows × the
 * output rate. An upper bound for every request a provider accepts.
 */
import { worstCaseNano } from '../pricing/cost.js';
import type { PriceQuote } from '../pricing/price-table.js';
import { ratesFor } from '../pricing/rates.js';
import type { BodyShape } from './body-walk.js';
import type { Ceilings } from './ceilings.js';
import { unseenTokens } from './prompt.js';

export interface WorstCase {
  inputTokens: number;
  outputTokens: number;
  costNano: number;
  /** True when the prompt's text was counted with a tokenizer rather than bounded by its bytes. */
  counted: boolean;
}

/** Endpoints that produce no output tokens. */
const NO_OUTPUT = new Set(['/v1/embeddings', '/v1/messages/count_tokens']);

/**
 * The output the request may produce: the largest limit it carries, else the model's maximum,
 * else the config's default; times the choices it asks for. A limit above the model's maximum
 * is taken as given: a beta header may lift the maximum.
 */
export function outputBound(shape: BodyShape, endpoint: string, quote: PriceQuote | undefined, fallback: number): number {
  if (NO_OUTPUT.has(endpoint)) return 0;
  return (shape.outputLimit ?? quote?.maxOutputTokens ?? fallback) * shape.choices;
}

export interface PromptText {
  /** Tokens of the body's own text: its byte bound, or a tokenizer count that tightens it. */
  tokens: number;
  counted: boolean;
}

export function worstCase(
  shape: BodyShape,
  text: PromptText,
  endpoint: string,
  quote: PriceQuote | undefined,
  ceilings: Ceilings,
  defaultMaxOutput: number,
): WorstCase {
  const outputTokens = outputBound(shape, endpoint, quote, defaultMaxOutput);
  const inputTokens = text.tokens + unseenTokens(shape, ceilings);
  if (!quote) return { inputTokens, outputTokens, costNano: 0, counted: text.counted };
  return {
    inputTokens,
    outputTokens,
    // A long-context tier applies only past its threshold, and inputTokens bounds the real prompt.
    costNano: worstCaseNano(inputTokens, outputTokens, ratesFor(quote.rates, inputTokens), shape),
    counted: text.counted,
  };
}
