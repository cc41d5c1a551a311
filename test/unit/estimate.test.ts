// Token estimates for worst-case reservations (SPEC §5, §8). Expected counts come from
// js-tiktoken called here directly on whole strings, never from the code under test.
import { Tiktoken } from 'js-tiktoken/lite';
import cl100k from 'js-tiktoken/ranks/cl100k_base';
import o200k from 'js-tiktoken/ranks/o200k_base';
import { describe, expect, it } from 'vitest';
import { walkBody, type BodyShape } from '../../src/estimate/body-walk.js';
import { ceilingsFor, DEFAULT_CONTEXT_TOKENS, DEFAULT_IMAGE_TOKENS, DEFAULT_TOOL_DEFINITION_TOKENS, type Ceilings } from '../../src/estimate/ceilings.js';
import { countedTextTokens, estimateOutputTokens, estimatePromptTokens, unseenTokens } from '../../src/estimate/prompt.js';
import { countTokens, CountBudget, encodingFor, safetyFactor } from '../../src/estimate/tokenizer.js';
import { outputBound, worstCase } from '../../src/estimate/worst-case.js';
import type { PriceQuote } from '../../src/pricing/price-table.js';
import type { Rates } from '../../src/pricing/rates.js';

const O200K = new Tiktoken(o200k);
const CL100K = new Tiktoken(cl100k);
/** Tokens of `s` as the provider bills user text: special-token text is ordinary text. */
const o200 = (s: string) => O200K.encode(s, [], []).length;
const cl100 = (s: string) => CL100K.encode(s, [], []).length;
const utf8Bytes = (s: string) => new TextEncoder().encode(s).length;

const GPT_4O_RATES: Rates = { input: 2.5, cachedInput: 1.25, cacheWrite: 3.125, cacheWrite1h: 5, output: 10, inputAudio: 40, outputAudio: 80 };
const GPT_4O_QUOTE: PriceQuote = { source: 'test', rates: { base: GPT_4O_RATES, tiers: [] }, maxOutputTokens: 16_384, contextWindow: 128_000 };
const NO_CEILINGS: Ceilings = { imageTokens: 0, contextTokens: 0, hostedToolTokens: 0, toolDefinitionTokens: 0 };
const CHAT = '/v1/chat/completions';

const CORPUS = [
  'Hello, world!',
  'The quick brown fox jumps over the lazy dog. 1234567890 — “quotes” and ‘apostrophes’.',
  '東京は日本の首都です。人工知能は世界を変えています。',
  '한국어 텍스트와 Ελληνικά και русский язык',
  '🎉🚀👨‍👩‍👧‍👦🏳️‍🌈 emoji 🤖✨',
  'function add(a: number, b: number): number {\n  return a + b; // sum\n}\n\tconst xs = [1, 2, 3].map((x) => x ** 2);',
  '{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"max_tokens":16}',
  '    \n\n\t\t   lots   of    whitespace     ',
  "it's they're WE'LL I'd",
  'x\u0000\u0001\u007f',
  'a <|endoftext|> b <|im_start|>system<|im_end|>',
];

/** Deterministic random strings over an alphabet that hits every branch of the o200k pattern. */
function randomStrings(count: number, maxLen: number, seed = 1): string[] {
  const alphabet = ['a', 'B', 'Zq', ' ', '  ', '\n', '\t', '\r\n', '1', '22', '333', '!', '?!', 'é', '漢', '字', '😀', "'s", "'LL", '.', '-', '\u0301', 'ﬁ', 'the', ' the', '<|', '|>'];
  let s = seed;
  const rnd = () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  return Array.from({ length: count }, () => {
    const n = Math.floor(rnd() * maxLen);
    let out = '';
    for (let j = 0; j < n; j++) out += alphabet[Math.floor(rnd() * alphabet.length)];
    return out;
  });
}

describe('countTokens', () => {
  it('counts exactly like o200k_base encoding the whole string, wherever no piece is longer than 32 characters', () => {
    for (const s of [...CORPUS, ...randomStrings(2000, 50)]) expect(countTokens(s, 'o200k_base'), JSON.stringify(s)).toBe(o200(s));
    expect(countTokens('', 'o200k_base')).toBe(0);
  });

  it('counts with cl100k_base when asked', () => {
    const s = '東京は日本の首都です。人工知能は世界を変えています。';
    expect(cl100(s)).not.toBe(o200(s)); // fixture check: the two encodings differ here
    expect(countTokens(s, 'cl100k_base')).toBe(cl100(s));
    for (const t of randomStrings(300, 40, 9)) expect(countTokens(t, 'cl100k_base'), JSON.stringify(t)).toBe(cl100(t));
  });

  it('bounds a long piece (a run of spaces, letters, CJK, emoji or punctuation) by its UTF-8 bytes, never below the real count', () => {
    // (Kept short: js-tiktoken itself, which computes the expected counts, is quadratic on these.)
    for (const s of [' '.repeat(1200), 'a'.repeat(1200), '漢字'.repeat(400), '😀'.repeat(400), '!'.repeat(1200), '\n'.repeat(900), `${'x'.repeat(100)} and ${'y'.repeat(70)} words`]) {
      const n = countTokens(s, 'o200k_base');
      expect(n, s.slice(0, 10)).toBeGreaterThanOrEqual(o200(s));
      expect(n, s.slice(0, 10)).toBeLessThanOrEqual(utf8Bytes(s));
    }
  });

  it('past its budget, a bound counts the rest by bytes and an estimate extrapolates it', () => {
    const prose = 'The quick brown fox jumps over the lazy dog. '.repeat(100);
    expect(countTokens(prose, 'o200k_base', new CountBudget(45, 'bound'))).toBe(o200(prose.slice(0, 44)) + utf8Bytes(prose.slice(44)));
    const estimate = countTokens(prose, 'o200k_base', new CountBudget(450, 'estimate'));
    expect(Math.abs(estimate - o200(prose)) / o200(prose)).toBeLessThan(0.05);
  });

  it('counts special-token text as the ordinary text a provider bills', () => {
    const s = '<|endoftext|>'.repeat(100);
    expect(o200(s)).toBeGreaterThan(100); // fixture check: as text it is many tokens
    expect(countTokens(s, 'o200k_base')).toBe(o200(s));
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
});

describe('walkBody: the one rule for what a body can bill', () => {
  const texts = (body: Record<string, unknown>): string[] => {
    const seen: string[] = [];
    walkBody(body, (t) => seen.push(t));
    return seen;
  };

  it('hands every key, string and number to the text count, in known and unknown fields alike', () => {
    const body = {
      model: 'gpt-4o',
      messages: [{ role: 'assistant', content: null, function_call: { name: 'lookup', arguments: '{"city":"Paris, France"}' } }],
      text: { format: { type: 'json_schema', schema: { properties: { very_long_property_name: { type: 'string', maxLength: 4096 } } } } },
      brand_new_field: { deep: ['hidden text', 42] },
    };
    const seen = texts(body);
    for (const t of ['{"city":"Paris, France"}', 'lookup', 'very_long_property_name', 'hidden text', 'brand_new_field', '4096', '42', 'null']) {
      expect(seen, t).toContain(t);
    }
  });

  it('leaves an image’s payload to its ceiling, but not the rest of its part', () => {
    const body = {
      messages: [{ role: 'user', content: [
        { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA', detail: 'high' }, note: 'count me' },
        { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'BBBB' } },
        { type: 'input_image', image_url: 'https://x/y.png', file_id: 'file-1' },
      ] }],
    };
    const seen = texts(body);
    for (const payload of ['data:image/png;base64,AAAA', 'BBBB', 'https://x/y.png', 'file-1']) expect(seen).not.toContain(payload);
    for (const t of ['count me', 'high', 'image/png']) expect(seen).toContain(t);
    expect(walkBody(body).images).toBe(3);
  });

  it('takes the largest output limit the body carries, whatever its JSON type, thinking budgets included', () => {
    expect(walkBody({ max_completion_tokens: 1, max_tokens: 20_000 }).outputLimit).toBe(20_000);
    expect(walkBody({ max_tokens: 1, max_output_tokens: '5000' }).outputLimit).toBe(5000);
    expect(walkBody({ max_tokens: 1024, thinking: { type: 'enabled', budget_tokens: 30_000 } }).outputLimit).toBe(30_000);
    expect(walkBody({ max_tokens: 10, extra_body: { google: { thinking_config: { thinking_budget: 24_576 } } } }).outputLimit).toBe(24_576);
    expect(walkBody({ max_tokens: 99.2 }).outputLimit).toBe(100);
    expect(walkBody({ max_tokens: ' 300 ' }).outputLimit).toBe(300);
    expect(walkBody({ max_tokens: 1e300 }).outputLimit).toBe(100_000_000); // clamped: sums stay exact
    for (const none of [0, -5, 'abc', null, true, [], {}]) expect(walkBody({ max_tokens: none }).outputLimit, String(none)).toBeUndefined();
  });

  it('multiplies choices however they are written: n, best_of, as numbers or strings', () => {
    expect(walkBody({ n: '4' }).choices).toBe(4);
    expect(walkBody({ n: 2, best_of: 5 }).choices).toBe(5);
    expect(walkBody({ n: 3.0 }).choices).toBe(3);
    expect(walkBody({ n: 'x' }).choices).toBe(1);
    expect(walkBody({ n: 10_000 }).choices).toBe(128);
  });

  it('finds cache writes and their TTL in the parsed body, escapes and all', () => {
    const escaped = JSON.parse('{"messages":[{"role":"user","content":[{"type":"text","text":"doc","cache\\u005fcontrol":{"type":"ephemeral","ttl":"1\\u0068"}}]}]}');
    expect(walkBody(escaped).cacheWrite).toBe('1h');
    expect(walkBody({ system: [{ type: 'text', text: 'x', cache_control: { type: 'ephemeral' } }] }).cacheWrite).toBe('5m');
    expect(walkBody({ system: [{ type: 'text', text: 'x', cache_control: { type: 'ephemeral', ttl: '5m' } }], tools: [{ name: 't', cache_control: { ttl: '1h' } }] }).cacheWrite).toBe('1h');
    expect(walkBody({ messages: [{ role: 'user', content: 'the words "cache_control" in text' }] }).cacheWrite).toBe('none');
  });

  it('finds stored context: previous responses, conversations, stored prompts, containers, item references', () => {
    for (const body of [
      { previous_response_id: 'resp_1' },
      { conversation: 'conv_1' },
      { prompt: { id: 'pmpt_1', version: '2' } },
      { container: 'container_1' },
      { input: [{ type: 'item_reference', id: 'msg_1' }] },
      { input: [{ id: 'msg_1' }] },
      { input: [{ role: 'user', content: 'hi' }, { type: 'reasoning', id: 'rs_1', summary: [] }] },
    ]) {
      expect(walkBody(body).storedContext, JSON.stringify(body)).toBe(true);
    }
    expect(walkBody({ input: [{ role: 'user', content: 'hi', id: 'msg_2' }] }).storedContext).toBe(false);
  });

  it('counts hosted tools (web fetch, code execution, MCP servers, unknown kinds) apart from client tools', () => {
    const shape = walkBody({
      tools: [
        { type: 'web_fetch_20250910', name: 'web_fetch' },
        { type: 'code_execution_20250825', name: 'code_execution' },
        { type: 'some_future_tool' },
        { type: 'function', function: { name: 'f' } },
        { name: 'custom_without_type', input_schema: {} },
        { type: 'bash_20250124', name: 'bash' },
      ],
      mcp_servers: [{ type: 'url', url: 'https://mcp.example', name: 'm' }],
    });
    expect(shape.hostedTools).toBe(4);
    expect(shape.toolDefinitions).toBe(6);
    expect(walkBody({ web_search_options: {} }).hostedTools).toBe(1);
  });

  it('finds audio in the prompt and audio asked of the reply (dearer rates)', () => {
    expect(walkBody({ messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'UklG', format: 'wav' } }] }] })).toMatchObject({ audioInput: true, audioOutput: false });
    expect(walkBody({ modalities: ['text', 'audio'], messages: [] })).toMatchObject({ audioInput: false, audioOutput: true });
    expect(walkBody({ audio: { voice: 'alloy', format: 'wav' } }).audioOutput).toBe(true);
    expect(walkBody({ messages: [{ role: 'user', content: 'audio please' }], modalities: ['text'] })).toMatchObject({ audioInput: false, audioOutput: false });
  });

  it('counts files and documents, by reference or inline', () => {
    expect(walkBody({ input: [{ role: 'user', content: [{ type: 'input_file', file_id: 'file-1' }, { type: 'input_file', file_url: 'https://x/a.pdf' }] }] }).files).toBe(2);
    expect(walkBody({ messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'base64', data: 'JVBER' } }] }] }).files).toBe(1);
  });
});

describe('outputBound', () => {
  const shape = (o: Record<string, unknown>): BodyShape => walkBody(o);

  it('is the largest limit times the choices, else the model maximum, else the config default', () => {
    expect(outputBound(shape({ max_completion_tokens: 1, max_tokens: 20_000 }), CHAT, GPT_4O_QUOTE, 4096)).toBe(20_000);
    expect(outputBound(shape({ max_tokens: 100, n: '3' }), CHAT, GPT_4O_QUOTE, 4096)).toBe(300);
    expect(outputBound(shape({ n: 2 }), CHAT, GPT_4O_QUOTE, 4096)).toBe(2 * 16_384);
    expect(outputBound(shape({}), CHAT, undefined, 4096)).toBe(4096);
    expect(outputBound(shape({ max_tokens: 10, best_of: 5, n: 2 }), '/v1/completions', GPT_4O_QUOTE, 4096)).toBe(50);
  });

  it('is 0 for embeddings and token counting', () => {
    expect(outputBound(shape({ max_tokens: 100 }), '/v1/embeddings', GPT_4O_QUOTE, 4096)).toBe(0);
    expect(outputBound(shape({}), '/v1/messages/count_tokens', GPT_4O_QUOTE, 4096)).toBe(0);
  });
});

describe('ceilings for unseen input', () => {
  it('default to the model’s context window, and may be set in config', () => {
    expect(ceilingsFor('gpt-4o', GPT_4O_QUOTE, {})).toEqual({
      imageTokens: DEFAULT_IMAGE_TOKENS, contextTokens: 128_000, hostedToolTokens: 128_000, toolDefinitionTokens: DEFAULT_TOOL_DEFINITION_TOKENS,
    });
    expect(ceilingsFor('my-model', undefined, {}).contextTokens).toBe(DEFAULT_CONTEXT_TOKENS);
    expect(ceilingsFor('gpt-4o-mini', GPT_4O_QUOTE, {}).imageTokens).toBe(50_000);
    expect(ceilingsFor('gpt-4o', GPT_4O_QUOTE, { imageTokens: 7, contextTokens: 9, hostedToolTokens: 11, toolDefinitionTokens: 13 })).toEqual({
      imageTokens: 7, contextTokens: 9, hostedToolTokens: 11, toolDefinitionTokens: 13,
    });
  });

  it('add up: images each, files and stored context once, hosted tools and definitions each', () => {
    const c: Ceilings = { imageTokens: 10, contextTokens: 1000, hostedToolTokens: 100, toolDefinitionTokens: 1 };
    const shape = walkBody({
      previous_response_id: 'r',
      input: [{ role: 'user', content: [{ type: 'input_image', image_url: 'u' }, { type: 'input_image', image_url: 'v' }, { type: 'input_file', file_id: 'f' }] }],
      tools: [{ type: 'web_search' }, { type: 'function', name: 'g' }],
    });
    expect(unseenTokens(shape, c)).toBe(2 * 10 + 1000 + 100 + 2 * 1);
  });
});

describe('worstCase', () => {
  const body = { model: 'gpt-4o', messages: [{ role: 'user', content: 'Résumé: 東京 🎉 — naïve café' }], max_tokens: 50 };
  const rawText = JSON.stringify(body);
  const bytes = utf8Bytes(rawText);

  it('without counting, bounds the text by the UTF-8 byte length of the raw body', () => {
    expect(bytes).toBeGreaterThan(rawText.length); // fixture check: multi-byte text
    const w = worstCase(walkBody(body), { tokens: bytes, counted: false }, CHAT, GPT_4O_QUOTE, NO_CEILINGS, 4096);
    expect(w).toEqual({ inputTokens: bytes, outputTokens: 50, costNano: bytes * 2500 + 50 * 10_000, counted: false });
  });

  it('a count covers every string and never rises above the byte bound it tightens', () => {
    // The shapes the bound must hold for, including fields an earlier recount skipped.
    const bodies = [
      body,
      { model: 'gpt-4o', input: 'x', text: { format: { type: 'json_schema', name: 's', schema: { properties: { [`${'field '.repeat(300)}`]: { type: 'string' } } } } } },
      { model: 'gpt-4o', messages: [{ role: 'assistant', function_call: { name: 'f', arguments: 'argument text '.repeat(400) } }] },
      ...CORPUS.map((s) => ({ model: 'gpt-4o', messages: [{ role: 'user', content: s }], unknown: { s } })),
    ];
    for (const b of bodies) {
      const text = JSON.stringify(b);
      const counted = countedTextTokens(b, 'gpt-4o', utf8Bytes(text));
      let strings = 0;
      walkBody(b, (t) => { strings += o200(t); });
      expect(counted, text.slice(0, 60)).toBeGreaterThanOrEqual(strings);
      expect(counted, text.slice(0, 60)).toBeLessThanOrEqual(utf8Bytes(text));
    }
  });

  it('applies the safety factor to a Claude count', () => {
    const claude = { model: 'claude-sonnet-4-20250514', max_tokens: 100, messages: [{ role: 'user', content: 'Good morning, how are you today? '.repeat(50) }] };
    const text = JSON.stringify(claude);
    let strings = 0;
    walkBody(claude, (t) => { strings += o200(t); });
    expect(countedTextTokens(claude, 'claude-sonnet-4-20250514', utf8Bytes(text))).toBeGreaterThanOrEqual(Math.ceil(strings * 1.5));
  });

  it('prices the prompt at the dearest cache-write rate the body asks for', () => {
    const oneHour = { ...body, messages: [{ role: 'user', content: [{ type: 'text', text: 'Long document', cache_control: { type: 'ephemeral', ttl: '1h' } }] }] };
    const fiveMin = { ...body, messages: [{ role: 'user', content: [{ type: 'text', text: 'Long document', cache_control: { type: 'ephemeral' } }] }] };
    const w = (b: Record<string, unknown>) => worstCase(walkBody(b), { tokens: 1000, counted: false }, CHAT, GPT_4O_QUOTE, NO_CEILINGS, 4096).costNano;
    expect(w(oneHour)).toBe(1000 * 5000 + 50 * 10_000);
    expect(w(fiveMin)).toBe(1000 * 3125 + 50 * 10_000);
    expect(w(body)).toBe(1000 * 2500 + 50 * 10_000);
  });

  it('prices at a long-context tier only when the prompt bound passes its threshold', () => {
    const tiered: PriceQuote = {
      source: 'test',
      rates: { base: GPT_4O_RATES, tiers: [{ aboveInputTokens: 200_000, rates: { ...GPT_4O_RATES, input: 5, output: 15 } }] },
      maxOutputTokens: 1000,
    };
    const shape = walkBody({});
    expect(worstCase(shape, { tokens: 4, counted: false }, CHAT, tiered, NO_CEILINGS, 4096).costNano).toBe(4 * 2500 + 1000 * 10_000);
    expect(worstCase(shape, { tokens: 200_001, counted: false }, CHAT, tiered, NO_CEILINGS, 4096).costNano).toBe(200_001 * 5000 + 1000 * 15_000);
  });

  it('adds unseen input at its ceilings', () => {
    const stored = { model: 'gpt-4o', input: 'and then?', previous_response_id: 'resp_123', tools: [{ type: 'web_search' }, { type: 'function', name: 'f' }] };
    const c = ceilingsFor('gpt-4o', GPT_4O_QUOTE, {});
    const w = worstCase(walkBody(stored), { tokens: 100, counted: false }, '/v1/responses', GPT_4O_QUOTE, c, 4096);
    expect(w.inputTokens).toBe(100 + 128_000 + 128_000 + 2 * DEFAULT_TOOL_DEFINITION_TOKENS);
  });

  it('costs 0 when the model has no price', () => {
    const w = worstCase(walkBody(body), { tokens: bytes, counted: false }, CHAT, undefined, NO_CEILINGS, 4096);
    expect(w.costNano).toBe(0);
    expect(w.outputTokens).toBe(50);
  });
});

describe('ledger estimates', () => {
  it('count every value plainly (no safety factor, no keys), 3 per object or array and 3 priming, images at their ceiling', () => {
    const claude = { model: 'claude-sonnet-4-20250514', max_tokens: 10, messages: [{ role: 'user', content: [{ type: 'text', text: 'Describe this photo' }, { type: 'image', source: { type: 'url', url: 'https://x' } }] }] };
    const values = ['claude-sonnet-4-20250514', '10', 'user', 'text', 'Describe this photo', 'image', 'url'];
    const nodes = 7; // body, messages, the message, content, two parts, source
    expect(estimatePromptTokens(claude, 'claude-sonnet-4-20250514', 1600)).toBe(values.reduce((n, v) => n + o200(v), 0) + 3 * nodes + 3 + 1600);
  });

  it('count reply text with the model encoding', () => {
    const s = 'Sure! Here is the answer: 42.';
    expect(estimateOutputTokens(s, 'gpt-4o')).toBe(o200(s));
    expect(estimateOutputTokens(s, 'gpt-3.5-turbo')).toBe(cl100(s));
  });
});
