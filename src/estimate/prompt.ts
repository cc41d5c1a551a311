/**
 * How many tokens a request's prompt can be, from its parsed body. Two answers: a free upper
 * bound (UTF-8 bytes are never fewer than tokens) for the hot path, and a tiktoken count with
 * OpenAI's chat overhead for when the bound does not fit a budget.
 */
import { countTokens, encodingFor, safetyFactor, type EncodingName } from './tokenizer.js';

// OpenAI's chat format: 3 tokens per message, 1 more per name, 3 to prime the reply.
const PER_MESSAGE = 3;
const PER_NAME = 1;
const REPLY_PRIMING = 3;
/** An image or file part we cannot see into: a generous ceiling for one high-detail image. */
const OPAQUE_PART_TOKENS = 2_000;

type Obj = Record<string, unknown>;

export function promptByteBound(rawBodyBytes: number): number {
  return rawBodyBytes;
}

/**
 * `forWorstCase` applies the other-vendor safety factor (SPEC §8: worst cases only); a ledger
 * estimate is our best count, never inflated.
 */
export function countPromptTokens(body: Obj, model: string, forWorstCase = false): number {
  const enc = encodingFor(model);
  const text = (v: unknown): number => countContent(v, enc);
  let tokens = 0;
  if (Array.isArray(body.messages)) {
    for (const m of body.messages) {
      tokens += PER_MESSAGE;
      if (m && typeof m === 'object') {
        const msg = m as Obj;
        tokens += text(msg.content) + text(msg.role);
        if (typeof msg.name === 'string') tokens += PER_NAME + text(msg.name);
        if (msg.tool_calls !== undefined) tokens += text(JSON.stringify(msg.tool_calls));
      }
    }
    tokens += REPLY_PRIMING;
  }
  tokens += text(body.system) + text(body.instructions) + text(body.prompt) + text(body.input);
  if (body.tools !== undefined) tokens += text(JSON.stringify(body.tools));
  if (body.functions !== undefined) tokens += text(JSON.stringify(body.functions));
  if (body.response_format !== undefined) tokens += text(JSON.stringify(body.response_format));
  return forWorstCase ? Math.ceil(tokens * safetyFactor(model)) : tokens;
}

export function countOutputTokens(text: string, model: string): number {
  return countTokens(text, encodingFor(model));
}

function countContent(v: unknown, enc: EncodingName): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'string') return countTokens(v, enc);
  if (typeof v === 'number') return 1; // a token id (completions / embeddings accept them)
  if (Array.isArray(v)) return v.reduce<number>((n, item) => n + countContent(item, enc), 0);
  if (typeof v === 'object') {
    const part = v as Obj;
    if (typeof part.text === 'string') return countTokens(part.text, enc);
    if (part.type === 'image_url' || part.type === 'image' || part.type === 'input_image') return OPAQUE_PART_TOKENS;
    if (part.content !== undefined) return countContent(part.content, enc);
    // Unknown structure: its serialized form over-counts, which is the safe side for a bound.
    return countTokens(JSON.stringify(part), enc);
  }
  return 0;
}
