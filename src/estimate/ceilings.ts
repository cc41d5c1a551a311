/**
 * Ceilings for input a body points at but does not contain (SPEC §5): the provider bills it, the
 * proxy cannot see it, so the worst case reserves the most it could be. Each may be set under
 * `worst_case:` in the config; README lists the defaults.
 */
import type { WorstCaseConfig } from '../config/types.js';
import type { PriceQuote } from '../pricing/price-table.js';

export interface Ceilings {
  /** Per image: OpenAI's patch models bill up to ~3,800 (gpt-4.1-nano), Claude ~1,600, Gemini ~260 per 768 px tile. */
  imageTokens: number;
  /** Files, documents, stored conversations, item references: together they fill at most one context window. */
  contextTokens: number;
  /** Per hosted tool or MCP server: its results come back as input, possibly over several turns. */
  hostedToolTokens: number;
  /** Per tool definition: a hidden tool-use system prompt and provider-defined schemas (Anthropic: up to ~1,200). */
  toolDefinitionTokens: number;
}

export const DEFAULT_IMAGE_TOKENS = 10_000;
/** gpt-4o-mini bills an image at 2,833 + 5,667 per 512 px tile: up to ~48,000 tokens. */
const GPT_4O_MINI_IMAGE_TOKENS = 50_000;
/** When the price data does not know the model's context window. */
export const DEFAULT_CONTEXT_TOKENS = 200_000;
export const DEFAULT_TOOL_DEFINITION_TOKENS = 1_200;

export function ceilingsFor(model: string, quote: PriceQuote | undefined, config: WorstCaseConfig): Ceilings {
  const context = config.contextTokens ?? quote?.contextWindow ?? DEFAULT_CONTEXT_TOKENS;
  return {
    imageTokens: config.imageTokens ?? (/^gpt-4o-mini/.test(model) ? GPT_4O_MINI_IMAGE_TOKENS : DEFAULT_IMAGE_TOKENS),
    contextTokens: context,
    hostedToolTokens: config.hostedToolTokens ?? context,
    toolDefinitionTokens: config.toolDefinitionTokens ?? DEFAULT_TOOL_DEFINITION_TOKENS,
  };
}
