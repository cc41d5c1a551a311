// Token estimates for worst-case reservations (SPEC §5, §8). Expected counts come from
// js-tiktoken called here directly, plus OpenAI's chat overhead written out by hand.
import { Tiktoken } from 'js-tiktoken/lite';
import cl100k from 'js-tiktoken/ranks/cl100k_base';
import o200k from 'js-tiktoken/ranks/o200k_base';
import { describe, expect, it } from 'vitest';
import { countOutputTokens, countPromptTokens, FILE_REFERENCE_TOKENS, IMAGE_TOKENS, IMAGE_TOKENS_GPT_4O_MINI, promptBound } from '../../src/estimate/prompt.js';
import { countTokens, encodingFor, safetyFactor } from '../../src/estimate/tokenizer.js';
import { outputLimit, worstCase } from '../../src/estimate/worst-case.js';
import type { PriceQuote } from '../../src/pricing/price-table.js';
import type { Rates } from '../../src/pricing/rates.js';

const O200K = new Tiktoken(o200k);
const CL100K = new Tiktoken(cl100k);
/** Tokens of `s` as the provider bills user text: special-token text is ordinary text. */
const o200 = (s: string) => O200K.encode(s, [], []).length;
const cl100 = (s: string) => CL100K.encode(s, [], []).length;
const utf8Bytes = (s: string) => new TextEncoder().encode(s).length;

const GPT_4O_RATES: Rates = { input: 2.5, cachedInput: 1.25, cacheWrite: 3.125, cacheWrite1h: 5, output: 10 };
const GPT_4O_QUOTE: PriceQuote = { source: 'test', rates: { base: GPT_4O_RATES, tiers: [] }, maxOutputTokens: 16_384 };

const CORPUS = [
  'Hello, world!',
  'The quick brown fox jumps over the lazy dog. 1234567890 — “quotes” and ‘apostrophes’.',
  '東京は日本の首都です。人工知能は世界を変えています。',
  '한국어 텍스트와 Ελληνικά και русский язык',
  '🎉🚀👨‍👩‍👧‍👦🏳️‍🌈 emoji 🤖✨',
  'function add(a: number, b: number): number {\n  return a + b; // sum\n}\n\tconst xs = [1, 2, 3].map((x) => x ** 2);',
  '{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"max_tokens":16}',
  '    \n\n\t\t   lots   of    whitespace     ',
  'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
  'x'.repeat(1) + '\u0000\u0001\u007f',
];

describe('tokenizer', () => {
  it('counts fixed strings like o200k_base (exactly without 32+ character runs, never fewer with them)', () => {
    for (const s of CORPUS) {
      if (/\S{32}/.test(s)) expect(countTokens(s, 'o200k_base'), s).toBeGreaterThanOrEqual(o200(s));
      else expect(countTokens(s, 'o200k_base'), s).toBe(o200(s));
    }
    expect(countTokens('', 'o200k_base')).toBe(0);
  });

  it('counts with cl100k_base when asked', () => {
    const s = '東京は日本の首都です。人工知能は世界を変えています。';
    expect(cl100(s)).not.toBe(o200(s)); // fixture check: the two encodings differ here
    expect(countTokens(s, 'cl100k_base')).toBe(cl100(s));
  });

  it('uses o200k for current OpenAI models and cl100k for gpt-4 / gpt-3.5', () => {
    for (const m of ['gpt-4o', 'gpt-4o-mini', 'gpt-4.1', 'gpt-5', 'o1', 'o3-mini', 'o4-mini']) expect(encodingFor(m), m).toBe('o200k_base');
    for (const m of ['gpt-4', 'gpt-4-turbo', 'gpt-3.5-turbo']) expect(encodingFor(m), m).toBe('cl100k_base');
    for (const m of ['claude-sonnet-4', 'deepseek-chat', 'gemini-2.5-pro']) expect(encodingFor(m), m).toBe('o200k_base');
  });

  it('applies ×1.5 to Claude, ×1.3 to other non-OpenAI models, none to OpenAI’s own', () => {
    expect(safetyFactor('claude-sonnet-4-20250514')).toBe(1.5);
    expect(safetyFactor('gpt-4o')).toBe(1);
    expect(safetyFactor('o3-mini')).toBe(1);
    expect(safetyFactor('deepseek-chat')).toBe(1.3);
    expect(safetyFactor('gemini-2.5-pro')).toBe(1.3);
  });

  it('does not throw on special-token text', () => {
    for (const s of ['<|endoftext|>', 'a <|im_start|>system<|im_end|> b', '<|fim_prefix|><|endofprompt|>']) {
      expect(() => countTokens(s, 'o200k_base')).not.toThrow();
      expect(() => countTokens(s, 'cl100k_base')).not.toThrow();
    }
    expect(() => countPromptTokens({ messages: [{ role: 'user', content: '<|endoftext|>' }] }, 'gpt-4o')).not.toThrow();
  });

  // Providers encode special-token text in a prompt as ordinary text and bill it so: counting it as
  // one special token lets a prompt of "<|endoftext|>" × N reserve ~7× too few input tokens.
  it('counts special-token text as the ordinary text a provider bills, never fewer tokens', () => {
    const s = '<|endoftext|>'.repeat(100);
    expect(o200(s)).toBeGreaterThan(100); // fixture check: as text it is many tokens
    // One long run without spaces: counted in slices, never fewer than the whole.
    expect(countTokens(s, 'o200k_base')).toBeGreaterThanOrEqual(o200(s));
    expect(countTokens(s, 'cl100k_base')).toBeGreaterThanOrEqual(cl100(s));
    expect(countTokens('a <|endoftext|> b', 'o200k_base')).toBe(o200('a <|endoftext|> b'));
  });

  it('countOutputTokens counts reply text with the model encoding', () => {
    const s = 'Sure! Here is the answer: 42.';
    expect(countOutputTokens(s, 'gpt-4o')).toBe(o200(s));
    expect(countOutputTokens(s, 'gpt-3.5-turbo')).toBe(cl100(s));
  });
});

describe('countPromptTokens', () => {
  const messages = [
    { role: 'system', content: 'You are terse.' },
    { role: 'user', name: 'alice', content: 'What is the capital of France?' },
    { role: 'assistant', content: 'Paris.' },
  ];
  // OpenAI cookbook: 3 per message + each value's tokens, +1 per name, +3 to prime the reply.
  const chatTokens = (enc: (s: string) => number) =>
    3 + enc('system') + enc('You are terse.') +
    3 + enc('user') + enc('What is the capital of France?') + 1 + enc('alice') +
    3 + enc('assistant') + enc('Paris.') +
    3;

  it('adds OpenAI chat overhead: 3 per message, +1 per name, +3 priming', () => {
    expect(countPromptTokens({ model: 'gpt-4o', messages }, 'gpt-4o')).toBe(chatTokens(o200));
  });

  it('uses cl100k for gpt-4', () => {
    expect(countPromptTokens({ model: 'gpt-4', messages }, 'gpt-4')).toBe(chatTokens(cl100));
  });

  it('counts text parts of array content', () => {
    const body = { messages: [{ role: 'user', content: [{ type: 'text', text: 'Describe' }, { type: 'text', text: ' this photo' }] }] };
    expect(countPromptTokens(body, 'gpt-4o')).toBe(3 + o200('user') + o200('Describe') + o200(' this photo') + 3);
  });

  it('multiplies a Claude count by 1.5, rounding up, for worst cases only', () => {
    const body = {
      model: 'claude-sonnet-4-20250514',
      system: 'Answer in French.',
      messages: [{ role: 'user', content: 'Good morning, how are you today?' }],
      max_tokens: 100,
    };
    const raw = 3 + o200('user') + o200('Good morning, how are you today?') + 3 + o200('Answer in French.');
    expect(countPromptTokens(body, 'claude-sonnet-4-20250514', true)).toBe(Math.ceil(raw * 1.5));
    // A ledger estimate is the plain count (SPEC §8: the factor is for worst cases only).
    expect(countPromptTokens(body, 'claude-sonnet-4-20250514')).toBe(raw);
  });

  it('counts completions prompts, embeddings inputs and Responses instructions without chat overhead', () => {
    expect(countPromptTokens({ prompt: 'Once upon a time' }, 'gpt-3.5-turbo-instruct')).toBe(cl100('Once upon a time'));
    expect(countPromptTokens({ input: ['first text', 'second text'] }, 'text-embedding-3-small')).toBe(cl100('first text') + cl100('second text'));
    expect(countPromptTokens({ instructions: 'Be brief.', input: 'Hi there' }, 'gpt-4o')).toBe(o200('Be brief.') + o200('Hi there'));
  });
});

describe('outputLimit', () => {
  const chat = '/v1/chat/completions';

  it('takes max_completion_tokens, then max_tokens, then max_output_tokens', () => {
    expect(outputLimit({ max_completion_tokens: 100, max_tokens: 500, max_output_tokens: 700 }, chat, GPT_4O_QUOTE, 4096)).toBe(100);
    expect(outputLimit({ max_tokens: 500, max_output_tokens: 700 }, chat, GPT_4O_QUOTE, 4096)).toBe(500);
    expect(outputLimit({ max_output_tokens: 700 }, '/v1/responses', GPT_4O_QUOTE, 4096)).toBe(700);
  });

  it('falls back to the model maximum, then to the config default', () => {
    expect(outputLimit({}, chat, GPT_4O_QUOTE, 4096)).toBe(16_384);
    expect(outputLimit({}, chat, undefined, 4096)).toBe(4096);
    expect(outputLimit({}, chat, { ...GPT_4O_QUOTE, maxOutputTokens: undefined }, 2048)).toBe(2048);
  });

  it('ignores limits that are not positive integers', () => {
    for (const bad of [0, -5, 1.5, '100', null, Number.NaN]) {
      expect(outputLimit({ max_tokens: bad }, chat, GPT_4O_QUOTE, 4096), String(bad)).toBe(16_384);
    }
  });

  it('multiplies by the number of choices asked for', () => {
    expect(outputLimit({ max_tokens: 100, n: 3 }, chat, GPT_4O_QUOTE, 4096)).toBe(300);
    expect(outputLimit({ n: 2 }, chat, GPT_4O_QUOTE, 4096)).toBe(2 * 16_384);
    expect(outputLimit({ max_tokens: 10, best_of: 5, n: 2 }, '/v1/completions', GPT_4O_QUOTE, 4096)).toBe(50);
  });

  it('is 0 for embeddings and token counting', () => {
    expect(outputLimit({ max_tokens: 100 }, '/v1/embeddings', GPT_4O_QUOTE, 4096)).toBe(0);
    expect(outputLimit({}, '/v1/messages/count_tokens', GPT_4O_QUOTE, 4096)).toBe(0);
  });
});

describe('worstCase', () => {
  const body = { model: 'gpt-4o', messages: [{ role: 'user', content: 'Résumé: 東京 🎉 — naïve café' }], max_tokens: 50 };
  const rawText = JSON.stringify(body);

  it('without counting, bounds the prompt by the UTF-8 byte length of the raw body', () => {
    const bytes = utf8Bytes(rawText);
    expect(bytes).toBeGreaterThan(rawText.length); // fixture check: multi-byte text
    const w = worstCase(body, rawText, 'gpt-4o', '/v1/chat/completions', GPT_4O_QUOTE, 4096, false);
    expect(w).toEqual({ inputTokens: bytes, outputTokens: 50, costNano: bytes * 2500 + 50 * 10_000, counted: false });
    expect(promptBound(body, rawText, 'gpt-4o')).toBe(bytes);
  });

  it('adds a ceiling for each image and each file given by URL or id, which bytes cannot bound', () => {
    const refs = {
      model: 'gpt-4o',
      messages: [{ role: 'user', content: [
        { type: 'text', text: 'what is in these?' },
        { type: 'image_url', image_url: { url: 'https://example.com/a.png' } },
        { type: 'image_url', image_url: { url: 'https://example.com/b.png' } },
        { type: 'file', file: { file_id: 'file-abc' } },
      ] }],
    };
    const withRefs = JSON.stringify(refs);
    expect(promptBound(refs, withRefs, 'gpt-4o')).toBe(utf8Bytes(withRefs) + 2 * IMAGE_TOKENS + FILE_REFERENCE_TOKENS);
    // gpt-4o-mini bills images at many more tokens.
    expect(promptBound(refs, withRefs, 'gpt-4o-mini')).toBe(utf8Bytes(withRefs) + 2 * IMAGE_TOKENS_GPT_4O_MINI + FILE_REFERENCE_TOKENS);
    // Anthropic's image block; a JSON escape in the raw text cannot hide it (the parsed body is walked).
    const claude = { messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64', data: 'AAAA' } }] }] };
    const escaped = JSON.stringify(claude).replace('"type":"image"', '"typ\\u0065":"image"');
    expect(escaped).toContain('typ\\u0065');
    expect(promptBound(claude, escaped, 'claude-sonnet-4-0')).toBe(utf8Bytes(escaped) + IMAGE_TOKENS);
  });

  it('reserves the model’s context window for stored context, and a ceiling per hosted tool', () => {
    const body = { model: 'gpt-4o', input: 'and then?', previous_response_id: 'resp_123', tools: [{ type: 'web_search' }, { type: 'function', name: 'f' }] };
    const raw = JSON.stringify(body);
    const quote = { ...GPT_4O_QUOTE, contextWindow: 128_000 };
    const w = worstCase(body, raw, 'gpt-4o', '/v1/responses', quote, 4096, false);
    expect(w.inputTokens).toBe(utf8Bytes(raw) + 128_000 + FILE_REFERENCE_TOKENS);
  });

  it('with counting, uses the tokenizer count', () => {
    const tokens = 3 + o200('user') + o200('Résumé: 東京 🎉 — naïve café') + 3;
    const w = worstCase(body, rawText, 'gpt-4o', '/v1/chat/completions', GPT_4O_QUOTE, 4096, true);
    expect(w).toEqual({ inputTokens: tokens, outputTokens: 50, costNano: tokens * 2500 + 50 * 10_000, counted: true });
  });

  it('prices the prompt at the dearest cache-write rate when the request sets cache_control', () => {
    const cached = { ...body, messages: [{ role: 'user', content: [{ type: 'text', text: 'Long document', cache_control: { type: 'ephemeral', ttl: '1h' } }] }] };
    const text = JSON.stringify(cached);
    const w = worstCase(cached, text, 'gpt-4o', '/v1/chat/completions', GPT_4O_QUOTE, 4096, false);
    expect(w.costNano).toBe(utf8Bytes(text) * 5000 + 50 * 10_000);
  });

  it('prices at a long-context tier only when the prompt bound passes its threshold', () => {
    const tiered: PriceQuote = {
      source: 'test',
      rates: { base: GPT_4O_RATES, tiers: [{ aboveInputTokens: 200_000, rates: { ...GPT_4O_RATES, input: 5, output: 15 } }] },
      maxOutputTokens: 1000,
    };
    // 4 bytes can never be more than 200k tokens: base rates are the worst case.
    expect(worstCase({}, 'abcd', 'gemini-2.5-pro', '/v1/chat/completions', tiered, 4096, false).costNano).toBe(4 * 2500 + 1000 * 10_000);
    const long = 'x'.repeat(200_001);
    expect(worstCase({}, long, 'gemini-2.5-pro', '/v1/chat/completions', tiered, 4096, false).costNano).toBe(200_001 * 5000 + 1000 * 15_000);
  });

  it('costs 0 when the model has no price', () => {
    const w = worstCase(body, rawText, 'gpt-4o', '/v1/chat/completions', undefined, 4096, false);
    expect(w.costNano).toBe(0);
    expect(w.outputTokens).toBe(50);
  });

  it('the UTF-8 byte bound is never below the o200k count (ASCII, CJK, emoji, code)', () => {
    for (const s of CORPUS) {
      expect(utf8Bytes(s), s).toBeGreaterThanOrEqual(o200(s));
      expect(utf8Bytes(s), s).toBeGreaterThanOrEqual(countTokens(s, 'o200k_base'));
      const chatBody = { model: 'gpt-4o', messages: [{ role: 'user', content: s }] };
      const text = JSON.stringify(chatBody);
      const bound = worstCase(chatBody, text, 'gpt-4o', '/v1/chat/completions', GPT_4O_QUOTE, 4096, false).inputTokens;
      const counted = worstCase(chatBody, text, 'gpt-4o', '/v1/chat/completions', GPT_4O_QUOTE, 4096, true).inputTokens;
      expect(bound, s).toBeGreaterThanOrEqual(counted);
    }
  });
});

describe('countTokens on runs without spaces', () => {
  it('never counts fewer tokens than the tokenizer would for the whole run (cuts only add)', () => {
    let seed = 7;
    const letters = Array.from({ length: 3000 }, () => String.fromCharCode(97 + ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % 26))).join('');
    for (const text of [letters, 'a'.repeat(3000), `${'x'.repeat(100)} and ${'y'.repeat(70)} words`]) {
      expect(countTokens(text, 'o200k_base')).toBeGreaterThanOrEqual(o200(text));
    }
  });

  it('bounds what it does not count by UTF-8 bytes, so a huge run is still an upper bound', () => {
    const huge = 'é'.repeat(200_000); // 400,000 bytes of one run
    const n = countTokens(huge, 'o200k_base');
    expect(n).toBeGreaterThan(200_000 - 20_000); // all but the counted slices at 2 bytes each
    expect(n).toBeLessThanOrEqual(Buffer.byteLength(huge, 'utf8'));
  });
});
