/**
 * How many tokens a request's prompt can be, from its parsed body, with the rule written once in
 * `walkBody`. Two answers cover exactly the same parts: a free bound for the hot path (the body's
 * UTF-8 bytes: a token is never less than a byte, and a key, string or number is never fewer
 * bytes in JSON than as text) and a tokenizer count, run only when the bound does not fit a
 * budget, that may only tighten it. Input the body points at but does not contain (images, files,
 * stored context, hosted tools) adds ceilings to either.
 */
import { walkBody, type BodyShape } from './body-walk.js';
import type { Ceilings } from './ceilings.js';
import { countTokens, CountBudget, encodingFor, safetyFactor } from './tokenizer.js';

type Obj = Record<string, unknown>;

/**
 * Per object or array, what a provider's template may render around the text (OpenAI's chat
 * format: 3 tokens a message; tool schemas rendered as code), plus 3 that prime the reply.
 */
const PER_NODE = 3;
const REPLY_PRIMING = 3;
/** Characters merged by one worst-case count (~0.5 s at worst, off the event loop); the rest by bytes. */
export const BOUND_COUNT_CHARS = 256_000;
/** Characters merged by one ledger estimate (on the event loop: a few ms); the rest extrapolated. */
const ESTIMATE_COUNT_CHARS = 16_000;

/** What the provider adds beyond the body's own text. */
export function unseenTokens(shape: BodyShape, c: Ceilings): number {
  return (
    shape.images * c.imageTokens +
    (shape.files > 0 || shape.storedContext ? c.contextTokens : 0) +
    shape.hostedTools * c.hostedToolTokens +
    shape.toolDefinitions * c.toolDefinitionTokens
  );
}

/**
 * The tokenizer count of every text part `walkBody` names, with the template allowance and the
 * other-vendor safety factor (SPEC §8: worst cases only), never above the byte bound it tightens.
 */
export function countedTextTokens(body: Obj, model: string, bodyBytes: number): number {
  const enc = encodingFor(model);
  const budget = new CountBudget(BOUND_COUNT_CHARS, 'bound');
  let tokens = 0;
  const shape = walkBody(body, (text) => {
    tokens += countTokens(text, enc, budget);
  });
  const counted = Math.ceil((tokens + shape.nodes * PER_NODE + REPLY_PRIMING) * safetyFactor(model));
  return Math.min(counted, bodyBytes);
}

/**
 * A ledger estimate when the provider reports no usage: our best count, never inflated, and
 * bounded in time (a long prompt is extrapolated from its first part). Field names are not
 * billed as such; each object or array gets the 3 tokens OpenAI's chat format adds per message,
 * and 3 prime the reply.
 */
export function estimatePromptTokens(body: Obj, model: string, imageTokens: number): number {
  const enc = encodingFor(model);
  const budget = new CountBudget(ESTIMATE_COUNT_CHARS, 'estimate');
  let tokens = 0;
  const shape = walkBody(body, (text, isKey) => {
    if (!isKey) tokens += countTokens(text, enc, budget);
  });
  return tokens + shape.nodes * PER_NODE + REPLY_PRIMING + shape.images * imageTokens;
}

export function estimateOutputTokens(text: string, model: string): number {
  return countTokens(text, encodingFor(model), new CountBudget(ESTIMATE_COUNT_CHARS, 'estimate'));
}
