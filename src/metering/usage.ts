/**
 * Every dialect's usage report folded into one record (SPEC §4). `inputTokens` counts all prompt
 * tokens, cached and cache-written ones included; `outputTokens` includes reasoning.
 */
export interface Usage {
  inputTokens: number;
  cachedInputTokens: number;
  /** All cache writes; `cacheWrite1hTokens` is the part written with a 1-hour TTL. */
  cacheWriteTokens: number;
  cacheWrite1hTokens: number;
  outputTokens: number;
  reasoningTokens: number;
  /** Audio tokens, part of `inputTokens` / `outputTokens`, billed at their own rates. */
  audioInputTokens: number;
  audioOutputTokens: number;
}

export const ZERO_USAGE: Usage = Object.freeze({
  inputTokens: 0,
  cachedInputTokens: 0,
  cacheWriteTokens: 0,
  cacheWrite1hTokens: 0,
  outputTokens: 0,
  reasoningTokens: 0,
  audioInputTokens: 0,
  audioOutputTokens: 0,
});

type Obj = Record<string, unknown>;

function obj(v: unknown): Obj | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined;
}

/** A provider's JSON text as an object, or undefined for anything else (garbled bodies included). */
export function parseJsonObject(text: string): Obj | undefined {
  try {
    return obj(JSON.parse(text));
  } catch {
    return undefined;
  }
}

/** A provider's count, or undefined when absent or not a sane count (never trust a body blindly). */
function count(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined;
}

/**
 * OpenAI chat/completions/embeddings and every OpenAI-compatible server: `prompt_tokens` already
 * include cached tokens; DeepSeek reports its cache hits as `prompt_cache_hit_tokens`.
 */
export function usageFromOpenAI(raw: unknown): Usage | undefined {
  const u = obj(raw);
  const input = count(u?.prompt_tokens);
  if (!u || input === undefined) return undefined;
  const details = obj(u.prompt_tokens_details);
  const outDetails = obj(u.completion_tokens_details);
  const cached = count(details?.cached_tokens) ?? count(u.prompt_cache_hit_tokens) ?? 0;
  const output = count(u.completion_tokens) ?? 0;
  return {
    inputTokens: input,
    cachedInputTokens: Math.min(cached, input),
    cacheWriteTokens: 0,
    cacheWrite1hTokens: 0,
    outputTokens: output,
    reasoningTokens: count(outDetails?.reasoning_tokens) ?? 0,
    audioInputTokens: Math.min(count(details?.audio_tokens) ?? 0, input),
    audioOutputTokens: Math.min(count(outDetails?.audio_tokens) ?? 0, output),
  };
}

/** OpenAI Responses API: `input_tokens` include cached ones, `output_tokens` include reasoning. */
export function usageFromResponses(raw: unknown): Usage | undefined {
  const u = obj(raw);
  const input = count(u?.input_tokens);
  if (!u || input === undefined) return undefined;
  const details = obj(u.input_tokens_details);
  const outDetails = obj(u.output_tokens_details);
  const cached = count(details?.cached_tokens) ?? 0;
  const output = count(u.output_tokens) ?? 0;
  return {
    inputTokens: input,
    cachedInputTokens: Math.min(cached, input),
    cacheWriteTokens: 0,
    cacheWrite1hTokens: 0,
    outputTokens: output,
    reasoningTokens: count(outDetails?.reasoning_tokens) ?? 0,
    audioInputTokens: Math.min(count(details?.audio_tokens) ?? 0, input),
    audioOutputTokens: Math.min(count(outDetails?.audio_tokens) ?? 0, output),
  };
}

/** Anthropic fields as reported, kept apart so stream events can overwrite them one by one. */
export interface AnthropicCounts {
  input_tokens?: number;
  cache_read_input_tokens?: number;
  cache_creation_input_tokens?: number;
  ephemeral_1h_input_tokens?: number;
  output_tokens?: number;
}

/**
 * Overlay the fields present in `raw` on `into`. Anthropic's stream reports cumulative values
 * (message_start, then message_delta): later values replace earlier ones, never add to them.
 */
export function overlayAnthropic(into: AnthropicCounts, raw: unknown): AnthropicCounts {
  const u = obj(raw);
  if (!u) return into;
  const next = { ...into };
  for (const key of ['input_tokens', 'cache_read_input_tokens', 'cache_creation_input_tokens', 'output_tokens'] as const) {
    const n = count(u[key]);
    if (n !== undefined) next[key] = n;
  }
  const oneHour = count(obj(u.cache_creation)?.ephemeral_1h_input_tokens);
  if (oneHour !== undefined) next.ephemeral_1h_input_tokens = oneHour;
  return next;
}

/** Anthropic's `input_tokens` exclude cache reads and writes: add them back for our total. */
export function usageFromAnthropicCounts(c: AnthropicCounts): Usage | undefined {
  if (c.input_tokens === undefined && c.output_tokens === undefined) return undefined;
  const reads = c.cache_read_input_tokens ?? 0;
  const writes = c.cache_creation_input_tokens ?? 0;
  return {
    inputTokens: (c.input_tokens ?? 0) + reads + writes,
    cachedInputTokens: reads,
    cacheWriteTokens: writes,
    cacheWrite1hTokens: Math.min(c.ephemeral_1h_input_tokens ?? 0, writes),
    outputTokens: c.output_tokens ?? 0,
    reasoningTokens: 0,
    audioInputTokens: 0,
    audioOutputTokens: 0,
  };
}

export function usageFromAnthropic(raw: unknown): Usage | undefined {
  return usageFromAnthropicCounts(overlayAnthropic({}, raw));
}
