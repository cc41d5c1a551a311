// Stream meters watch a provider's SSE on the side: they read usage in each dialect, keep the
// relayed text for estimates, and (OpenAI, strip mode) hide the usage the client did not ask for.
import { describe, expect, it } from 'vitest';
import { usage } from '../helpers/usage.js';
import { SseSplitter, type SseEvent } from '../../src/metering/sse.js';
import { AnthropicStreamMeter, OpenAIStreamMeter, ResponsesStreamMeter, type StreamMeter } from '../../src/metering/stream-meters.js';


function events(text: string): SseEvent[] {
  const splitter = new SseSplitter();
  const out = splitter.push(Buffer.from(text, 'utf8'));
  const last = splitter.end();
  if (last) out.push(last);
  return out;
}

function relay(meter: StreamMeter, text: string): Buffer {
  return Buffer.concat(events(text).map((e) => meter.observe(e)));
}

/** The JSON payloads of the data events of a relayed stream, [DONE] kept as a string. */
function payloads(bytes: Buffer): unknown[] {
  return events(bytes.toString('utf8')).map((e) => (e.data === '[DONE]' ? e.data : JSON.parse(e.data ?? 'null')));
}

const base = { id: 'chatcmpl-AbC', object: 'chat.completion.chunk', created: 1718000000, model: 'gpt-4o-mini-2024-07-18', system_fingerprint: 'fp_1' };
const OPENAI_CHUNKS: Record<string, unknown>[] = [
  { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }], usage: null },
  { ...base, choices: [{ index: 0, delta: { content: 'Hello' }, logprobs: null, finish_reason: null }], usage: null },
  { ...base, choices: [{ index: 0, delta: { content: ', wörld 🌍' }, logprobs: null, finish_reason: null }], usage: null },
  { ...base, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }], usage: null },
  {
    ...base,
    choices: [],
    usage: {
      prompt_tokens: 1200,
      completion_tokens: 9,
      total_tokens: 1209,
      prompt_tokens_details: { cached_tokens: 1024 },
      completion_tokens_details: { reasoning_tokens: 0 },
    },
  },
];
const OPENAI_STREAM = OPENAI_CHUNKS.map((c) => `data: ${JSON.stringify(c)}\n\n`).join('') + 'data: [DONE]\n\n';
const OPENAI_USAGE = usage({ inputTokens: 1200, cachedInputTokens: 1024, outputTokens: 9 });

describe('OpenAIStreamMeter', () => {
  it('strip mode drops the usage-only chunk and the usage key elsewhere, and reports usage', () => {
    const meter = new OpenAIStreamMeter(true);
    expect(meter.rewrites).toBe(true);
    const out = relay(meter, OPENAI_STREAM);
    const withoutUsage = OPENAI_CHUNKS.slice(0, 4).map(({ usage: _u, ...rest }) => rest);
    expect(payloads(out)).toEqual([...withoutUsage, '[DONE]']);
    expect(out.toString()).not.toContain('"usage"');
    expect(out.toString()).not.toContain('prompt_tokens');
    expect(meter.usage()).toEqual(OPENAI_USAGE);
  });

  it('strip mode relays chunks without a usage key byte for byte', () => {
    const meter = new OpenAIStreamMeter(true);
    // Odd spacing proves the chunk is not re-serialised.
    const chunk = 'data: {"id":"x", "choices": [ {"index":0,"delta":{"content":"hi"}} ] }\n\n';
    const ev = events(chunk)[0]!;
    expect(meter.observe(ev).equals(Buffer.from(chunk))).toBe(true);
  });

  it('pass-through mode returns every event’s raw bytes unchanged, and reports usage', () => {
    const meter = new OpenAIStreamMeter(false);
    expect(meter.rewrites).toBe(false);
    for (const ev of events(OPENAI_STREAM)) expect(meter.observe(ev)).toBe(ev.raw);
    expect(meter.usage()).toEqual(OPENAI_USAGE);
    expect(relay(new OpenAIStreamMeter(false), OPENAI_STREAM).equals(Buffer.from(OPENAI_STREAM))).toBe(true);
  });

  it('collects the relayed text: content, reasoning, legacy completions text and tool arguments', () => {
    const meter = new OpenAIStreamMeter(false);
    relay(meter, OPENAI_STREAM);
    expect(meter.relayedText()).toBe('Hello, wörld 🌍');

    const other = new OpenAIStreamMeter(false);
    relay(
      other,
      [
        { choices: [{ index: 0, delta: { reasoning_content: 'Think. ' } }] },
        { choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { name: 'f', arguments: '{"a":' } }] } }] },
        { choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '1}' } }] } }] },
        { object: 'text_completion', choices: [{ index: 0, text: ' done' }] },
      ]
        .map((c) => `data: ${JSON.stringify(c)}\n\n`)
        .join(''),
    );
    expect(other.relayedText()).toBe('Think. {"a":1} done');
  });

  it('has no usage when the stream ends without a usage chunk', () => {
    const meter = new OpenAIStreamMeter(true);
    relay(meter, OPENAI_CHUNKS.slice(0, 2).map((c) => `data: ${JSON.stringify(c)}\n\n`).join(''));
    expect(meter.usage()).toBeUndefined();
    expect(meter.relayedText()).toBe('Hello');
  });

  it('relays a garbled event as is and does not meter it', () => {
    const meter = new OpenAIStreamMeter(true);
    const bad = 'data: {"choices": [ not json\n\n';
    expect(meter.observe(events(bad)[0]!).equals(Buffer.from(bad))).toBe(true);
    expect(meter.usage()).toBeUndefined();
  });
});

describe('ResponsesStreamMeter', () => {
  const ev = (type: string, body: Record<string, unknown>) => `event: ${type}\ndata: ${JSON.stringify({ type, ...body })}\n\n`;
  const head =
    ev('response.created', { response: { id: 'resp_1', status: 'in_progress', usage: null } }) +
    ev('response.output_text.delta', { item_id: 'msg_1', output_index: 0, content_index: 0, delta: 'Hi' }) +
    ev('response.output_text.delta', { item_id: 'msg_1', output_index: 0, content_index: 0, delta: ' there' });

  it('reads usage from response.completed and relays bytes unchanged', () => {
    const meter = new ResponsesStreamMeter();
    const stream =
      head +
      ev('response.completed', {
        response: {
          id: 'resp_1',
          status: 'completed',
          usage: { input_tokens: 37, input_tokens_details: { cached_tokens: 0 }, output_tokens: 11, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 48 },
        },
      });
    expect(relay(meter, stream).equals(Buffer.from(stream))).toBe(true);
    expect(meter.usage()).toEqual(usage({ inputTokens: 37, outputTokens: 11 }));
    expect(meter.relayedText()).toBe('Hi there');
  });

  it('reads usage from response.incomplete', () => {
    const meter = new ResponsesStreamMeter();
    relay(
      meter,
      head +
        ev('response.incomplete', {
          response: {
            id: 'resp_1',
            status: 'incomplete',
            incomplete_details: { reason: 'max_output_tokens' },
            usage: { input_tokens: 50, input_tokens_details: { cached_tokens: 32 }, output_tokens: 100, output_tokens_details: { reasoning_tokens: 64 }, total_tokens: 150 },
          },
        }),
    );
    expect(meter.usage()).toEqual(usage({ inputTokens: 50, cachedInputTokens: 32, outputTokens: 100, reasoningTokens: 64 }));
  });

  it('has no usage before the terminal event', () => {
    const meter = new ResponsesStreamMeter();
    relay(meter, head);
    expect(meter.usage()).toBeUndefined();
  });
});

describe('AnthropicStreamMeter', () => {
  const ev = (type: string, body: Record<string, unknown>) => `event: ${type}\ndata: ${JSON.stringify({ type, ...body })}\n\n`;
  const delta = (d: Record<string, unknown>) => ev('content_block_delta', { index: 0, delta: d });
  const STREAM =
    ev('message_start', {
      message: {
        id: 'msg_01',
        type: 'message',
        role: 'assistant',
        model: 'claude-sonnet-4-20250514',
        content: [],
        usage: { input_tokens: 25, cache_creation_input_tokens: 100, cache_read_input_tokens: 2000, cache_creation: { ephemeral_5m_input_tokens: 60, ephemeral_1h_input_tokens: 40 }, output_tokens: 1 },
      },
    }) +
    ev('content_block_start', { index: 0, content_block: { type: 'thinking', thinking: '' } }) +
    delta({ type: 'thinking_delta', thinking: 'Hmm. ' }) +
    ev('ping', {}) +
    delta({ type: 'text_delta', text: 'Hello' }) +
    delta({ type: 'text_delta', text: ', world' }) +
    delta({ type: 'input_json_delta', partial_json: '{"q":1}' }) +
    ev('content_block_stop', { index: 0 }) +
    ev('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 12 } }) +
    ev('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 15 } }) +
    ev('message_stop', {});

  it('overwrites message_start usage with the cumulative message_delta values', () => {
    const meter = new AnthropicStreamMeter();
    expect(relay(meter, STREAM).equals(Buffer.from(STREAM))).toBe(true);
    expect(meter.usage()).toEqual(
      usage({ inputTokens: 25 + 2000 + 100, cachedInputTokens: 2000, cacheWriteTokens: 100, cacheWrite1hTokens: 40, outputTokens: 15 }),
    );
  });

  it('collects text, thinking and tool-input deltas', () => {
    const meter = new AnthropicStreamMeter();
    relay(meter, STREAM);
    expect(meter.relayedText()).toBe('Hmm. Hello, world{"q":1}');
  });

  it('has no usage before message_start', () => {
    expect(new AnthropicStreamMeter().usage()).toBeUndefined();
  });
});

describe('OpenAIStreamMeter strip mode keeps the provider bytes', () => {
  it('cuts only `"usage":null` out of a chunk: escapes, spacing and number forms stay as sent', () => {
    // As a provider might send it: an escaped é, an escaped slash, an exponent, and usage last.
    const chunk = 'data: {"id":"c1","choices":[{"index":0,"delta":{"content":"caf\\u00e9 \\/ 1e3"}}],"n":1.0e3,"usage":null}\n\n';
    const out = relay(new OpenAIStreamMeter(true), chunk).toString('utf8');
    expect(out).toBe('data: {"id":"c1","choices":[{"index":0,"delta":{"content":"caf\\u00e9 \\/ 1e3"}}],"n":1.0e3}\n\n');
  });

  it('leaves a "usage":null written inside a string value alone', () => {
    const chunk = 'data: {"usage":null,"choices":[{"index":0,"delta":{"content":"say \\"usage\\":null"}}]}\n\n';
    const out = relay(new OpenAIStreamMeter(true), chunk).toString('utf8');
    expect(out).toBe('data: {"choices":[{"index":0,"delta":{"content":"say \\"usage\\":null"}}]}\n\n');
  });
});
