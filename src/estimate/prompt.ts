/**
 * How many tokens a request's prompt can be, from its parsed body. Two answers: a free upper
 * bound for the hot path, and a tiktoken count with OpenAI's chat overhead for when the bound
 * does not fit a budget. Text is never fewer UTF-8 bytes than tokens; an image or file given by
 * URL or id is a few bytes that can cost thousands of tokens, so each reference adds a ceiling.
 */
import { countTokens, encodingFor, safetyFactor, type EncodingName } from './tokenizer.js';

// OpenAI's chat format: 3 tokens per message, 1 more per name, 3 to prime the reply.
const PER_MESSAGE = 3;
const PER_NAME = 1;
const REPLY_PRIMING = 3;
/**
 * One image, whatever its size or detail: OpenAI's patch-based models bill up to 1,536 patches ×
 * a model multiplier (2.46 for gpt-4.1-nano ≈ 3,780 tokens); Claude ≈ 1,600; tiled gpt-4o ≤ 1,445.
 * gpt-4o-mini bills images at 2,833 + 5,667 per tile: up to ~48,000 tokens.
 */
export const IMAGE_TOKENS = 4_000;
export const IMAGE_TOKENS_GPT_4O_MINI = 50_000;
/** A file or document (a PDF, say), or a hosted tool's results: unseen here, so a ceiling. */
export const FILE_REFERENCE_TOKENS = 32_000;

type Obj = Record<string, unknown>;

const IMAGE_TYPES = new Set(['image_url', 'input_image', 'image']);
const FILE_TYPES = new Set(['file', 'input_file', 'document']);

export function imageTokens(model: string): number {
  return /^gpt-4o-mini/.test(model) ? IMAGE_TOKENS_GPT_4O_MINI : IMAGE_TOKENS;
}

/**
 * The free bound: UTF-8 bytes, plus a ceiling for each image and file part, found in the parsed
 * body (a JSON escape in the raw text cannot hide one).
 */
export function promptBound(body: Obj, rawText: string, model: string): number {
  const parts = { images: 0, files: 0 };
  countParts(body, parts);
  return Buffer.byteLength(rawText, 'utf8') + parts.images * imageTokens(model) + parts.files * FILE_REFERENCE_TOKENS;
}

/** Depth is bounded by the body parser (128 levels). */
function countParts(v: unknown, parts: { images: number; files: number }): void {
  if (Array.isArray(v)) {
    for (const item of v) countParts(item, parts);
  } else if (v !== null && typeof v === 'object') {
    const type = (v as Obj).type;
    if (typeof type === 'string' && IMAGE_TYPES.has(type)) parts.images++;
    else if (typeof type === 'string' && FILE_TYPES.has(type)) parts.files++;
    for (const child of Object.values(v)) countParts(child, parts);
  }
}

/**
 * `forWorstCase` applies the other-vendor safety factor (SPEC §8: worst cases only); a ledger
 * estimate is our best count, never inflated.
 */
export function countPromptTokens(body: Obj, model: string, forWorstCase = false): number {
  const enc = encodingFor(model);
  const image = imageTokens(model);
  const text = (v: unknown): number => countContent(v, enc, image);
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

function countContent(v: unknown, enc: EncodingName, image: number): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'string') return countTokens(v, enc);
  if (typeof v === 'number') return 1; // a token id (completions / embeddings accept them)
  if (Array.isArray(v)) return v.reduce<number>((n, item) => n + countContent(item, enc, image), 0);
  if (typeof v === 'object') {
    const part = v as Obj;
    if (typeof part.text === 'string') return countTokens(part.text, enc);
    if (typeof part.type === 'string' && IMAGE_TYPES.has(part.type)) return image;
    if (typeof part.type === 'string' && FILE_TYPES.has(part.type)) {
      // Inline data is bounded by its own size; a reference by id or URL is not.
      return Math.max(FILE_REFERENCE_TOKENS, countTokens(JSON.stringify(part), enc));
    }
    if (part.content !== undefined) return countContent(part.content, enc, image);
    // Unknown structure: its serialized form over-counts, which is the safe side for a bound.
    return countTokens(JSON.stringify(part), enc);
  }
  return 0;
}
