// Every provider dialect's usage report folded into one record: input counts all prompt tokens
// (cached and cache-written ones included), output includes reasoning (SPEC §4).
import { describe, expect, it } from 'vitest';
import { usage } from '../helpers/usage.js';
import {
  overlayAnthropic,
  usageFromAnthropic,
  usageFromAnthropicCounts,
  usageFromOpenAI,
  usageFromResponses,
} from '../../src/metering/usage.js';


describe('OpenAI chat / completions usage', () => {
  it('keeps prompt_tokens as the input total, cached tokens included, and reads reasoning tokens', () => {
    expect(
      usageFromOpenAI({
        prompt_tokens: 1200,
        completion_tokens: 300,
        total_tokens: 1500,
        prompt_tokens_details: { cached_tokens: 1024, audio_tokens: 0 },
        completion_tokens_details: { reasoning_tokens: 128, audio_tokens: 0 },
      }),
    ).toEqual(usage({ inputTokens: 1200, cachedInputTokens: 1024, outputTokens: 300, reasoningTokens: 128 }));
  });

  it('reads DeepSeek prompt_cache_hit_tokens as cached input', () => {
    expect(
      usageFromOpenAI({
        prompt_tokens: 500,
        completion_tokens: 50,
        total_tokens: 550,
        prompt_cache_hit_tokens: 384,
        prompt_cache_miss_tokens: 116,
      }),
    ).toEqual(usage({ inputTokens: 500, cachedInputTokens: 384, outputTokens: 50 }));
  });

  it('reads an embeddings usage (no completion tokens) as input only', () => {
    expect(usageFromOpenAI({ prompt_tokens: 64, total_tokens: 64 })).toEqual(usage({ inputTokens: 64 }));
  });

  it('reads audio tokens in and out (part of the prompt and completion counts), never more than those', () => {
    expect(
      usageFromOpenAI({
        prompt_tokens: 1000, completion_tokens: 600,
        prompt_tokens_details: { cached_tokens: 0, audio_tokens: 700 },
        completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 500 },
      }),
    ).toEqual(usage({ inputTokens: 1000, outputTokens: 600, audioInputTokens: 700, audioOutputTokens: 500 }));
    expect(usageFromOpenAI({ prompt_tokens: 10, completion_tokens: 1, prompt_tokens_details: { audio_tokens: 99 }, completion_tokens_details: { audio_tokens: 9 } }))
      .toMatchObject({ audioInputTokens: 10, audioOutputTokens: 1 });
    expect(usageFromResponses({ input_tokens: 50, output_tokens: 20, input_tokens_details: { audio_tokens: 30 }, output_tokens_details: { audio_tokens: 5 } }))
      .toMatchObject({ audioInputTokens: 30, audioOutputTokens: 5 });
  });

  it('never reports more cached tokens than prompt tokens', () => {
    expect(usageFromOpenAI({ prompt_tokens: 100, completion_tokens: 1, prompt_tokens_details: { cached_tokens: 2000 } })?.cachedInputTokens).toBe(100);
  });
});

describe('OpenAI Responses API usage', () => {
  it('reads input_tokens (cached included), output_tokens (reasoning included) and their details', () => {
    expect(
      usageFromResponses({
        input_tokens: 900,
        input_tokens_details: { cached_tokens: 512 },
        output_tokens: 400,
        output_tokens_details: { reasoning_tokens: 256 },
        total_tokens: 1300,
      }),
    ).toEqual(usage({ inputTokens: 900, cachedInputTokens: 512, outputTokens: 400, reasoningTokens: 256 }));
  });

  it('is not fooled by a chat-shaped usage', () => {
    expect(usageFromResponses({ prompt_tokens: 10, completion_tokens: 5 })).toBeUndefined();
  });
});

describe('Anthropic usage', () => {
  it('adds cache reads and writes back to input_tokens, which exclude them', () => {
    const u = usageFromAnthropic({
      input_tokens: 20,
      cache_read_input_tokens: 3000,
      cache_creation_input_tokens: 1500,
      output_tokens: 250,
    });
    expect(u).toEqual(usage({ inputTokens: 20 + 3000 + 1500, cachedInputTokens: 3000, cacheWriteTokens: 1500, outputTokens: 250 }));
  });

  it('splits cache writes into 1h and 5m from cache_creation.ephemeral_1h_input_tokens', () => {
    const u = usageFromAnthropic({
      input_tokens: 10,
      cache_read_input_tokens: 0,
      cache_creation_input_tokens: 1500,
      cache_creation: { ephemeral_5m_input_tokens: 500, ephemeral_1h_input_tokens: 1000 },
      output_tokens: 7,
    });
    expect(u).toEqual(usage({ inputTokens: 1510, cacheWriteTokens: 1500, cacheWrite1hTokens: 1000, outputTokens: 7 }));
  });

  it('never reports more 1h writes than writes', () => {
    const u = usageFromAnthropic({ input_tokens: 1, cache_creation_input_tokens: 100, cache_creation: { ephemeral_1h_input_tokens: 900 } });
    expect(u?.cacheWrite1hTokens).toBe(100);
  });

  it('overlayAnthropic overwrites, never adds: message_start then two cumulative message_delta', () => {
    let counts = overlayAnthropic({}, {
      input_tokens: 472,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 2048,
      output_tokens: 1,
    });
    counts = overlayAnthropic(counts, { output_tokens: 40 });
    // Newer message_delta events repeat the cumulative input fields too.
    counts = overlayAnthropic(counts, { input_tokens: 472, cache_read_input_tokens: 2048, output_tokens: 89 });
    expect(usageFromAnthropicCounts(counts)).toEqual(usage({ inputTokens: 472 + 2048, cachedInputTokens: 2048, outputTokens: 89 }));
  });

  it('overlayAnthropic leaves the earlier value when a later event omits a field', () => {
    const counts = overlayAnthropic(overlayAnthropic({}, { input_tokens: 30, output_tokens: 1 }), { output_tokens: 12 });
    expect(counts.input_tokens).toBe(30);
    expect(counts.output_tokens).toBe(12);
  });

  it('overlayAnthropic does not mutate its input', () => {
    const before = { input_tokens: 5, output_tokens: 1 };
    overlayAnthropic(before, { output_tokens: 99 });
    expect(before).toEqual({ input_tokens: 5, output_tokens: 1 });
  });
});

describe('garbage and missing usage', () => {
  const garbage: unknown[] = [-5, '100', 10.5, null, Number.NaN, Number.POSITIVE_INFINITY, true, {}, [3], 2 ** 60];

  it.each(garbage.map((g) => [String(g), g]))('ignores a %s prompt_tokens / input_tokens', (_name, g) => {
    expect(usageFromOpenAI({ prompt_tokens: g, completion_tokens: 5 })).toBeUndefined();
    expect(usageFromResponses({ input_tokens: g, output_tokens: 5 })).toBeUndefined();
  });

  it.each(garbage.map((g) => [String(g), g]))('ignores a %s in optional counts', (_name, g) => {
    expect(
      usageFromOpenAI({
        prompt_tokens: 10,
        completion_tokens: g,
        prompt_tokens_details: { cached_tokens: g },
        completion_tokens_details: { reasoning_tokens: g },
      }),
    ).toEqual(usage({ inputTokens: 10 }));
    expect(
      usageFromAnthropic({
        input_tokens: 10,
        cache_read_input_tokens: g,
        cache_creation_input_tokens: g,
        cache_creation: { ephemeral_1h_input_tokens: g },
        output_tokens: 3,
      }),
    ).toEqual(usage({ inputTokens: 10, outputTokens: 3 }));
  });

  it.each(garbage.map((g) => [String(g), g]))('overlayAnthropic keeps the earlier value over a later %s', (_name, g) => {
    const counts = overlayAnthropic({ input_tokens: 30, output_tokens: 12 }, { input_tokens: g, output_tokens: g });
    expect(counts).toEqual({ input_tokens: 30, output_tokens: 12 });
  });

  it.each([[undefined], [null], [{}], [[]], ['usage'], [42]])('gives undefined for a missing usage (%s)', (raw: unknown) => {
    expect(usageFromOpenAI(raw)).toBeUndefined();
    expect(usageFromResponses(raw)).toBeUndefined();
    expect(usageFromAnthropic(raw)).toBeUndefined();
  });
});
