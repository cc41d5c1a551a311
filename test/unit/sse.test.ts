// The SSE splitter: bytes in, whole events out, each keeping its exact original bytes. Every
// stream is fed whole, byte by byte and at random split points; the events must not depend on
// where the chunks were cut, and their raw bytes must add back up to the input.
import { describe, expect, it } from 'vitest';
import { SseSplitter, type SseEvent } from '../../src/metering/sse.js';

interface Expected {
  raw: string;
  event: string | undefined;
  data: string | undefined;
}

/** Deterministic PRNG (mulberry32) so a failing split pattern can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Feed `input` cut at `cuts` (sorted byte offsets); the events from every push plus end(). */
function feed(input: Buffer, cuts: number[], splitter = new SseSplitter()): SseEvent[] {
  const events: SseEvent[] = [];
  let from = 0;
  for (const cut of [...cuts, input.length]) {
    if (cut > from) events.push(...splitter.push(input.subarray(from, cut)));
    from = Math.max(from, cut);
  }
  const last = splitter.end();
  if (last) events.push(last);
  return events;
}

function view(events: SseEvent[]): Expected[] {
  return events.map((e) => ({ raw: e.raw.toString('utf8'), event: e.event, data: e.data }));
}

function byteByByte(input: Buffer): number[] {
  return Array.from({ length: input.length - 1 }, (_, i) => i + 1);
}

function randomCuts(input: Buffer, rand: () => number): number[] {
  const n = 1 + Math.floor(rand() * 24);
  const cuts = new Set<number>();
  for (let i = 0; i < n; i++) cuts.add(1 + Math.floor(rand() * (input.length - 1)));
  return [...cuts].sort((a, b) => a - b);
}

/** Whole, byte by byte and 200 random splittings: always the expected events, raw bytes intact. */
function expectSplitInvariant(expected: Expected[], seed: number): void {
  const input = Buffer.from(expected.map((e) => e.raw).join(''), 'utf8');
  const rand = prng(seed);
  const patterns: [string, number[]][] = [
    ['whole', []],
    ['byte by byte', byteByByte(input)],
  ];
  for (let i = 0; i < 200; i++) patterns.push([`random #${i}`, randomCuts(input, rand)]);
  for (const [name, cuts] of patterns) {
    const events = feed(input, cuts);
    expect(view(events), `${name}: cuts ${cuts.join(',')}`).toEqual(expected);
    expect(Buffer.concat(events.map((e) => e.raw)).equals(input), `${name}: raw bytes`).toBe(true);
  }
}

const chunk = (content: string, extra = '') =>
  `{"id":"chatcmpl-9x","object":"chat.completion.chunk","created":1718000000,"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"delta":{"content":${JSON.stringify(content)}},"finish_reason":null}]${extra}}`;

const OPENAI_DATA = [
  '{"id":"chatcmpl-9x","object":"chat.completion.chunk","created":1718000000,"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}],"usage":null}',
  chunk('Hel', ',"usage":null'),
  chunk('lo, wörld — ', ',"usage":null'),
  chunk('日本語 🎉', ',"usage":null'),
  '{"id":"chatcmpl-9x","object":"chat.completion.chunk","created":1718000000,"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null}',
  '{"id":"chatcmpl-9x","object":"chat.completion.chunk","created":1718000000,"model":"gpt-4o-mini-2024-07-18","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":9,"total_tokens":21,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}}',
  '[DONE]',
];
const OPENAI_STREAM: Expected[] = OPENAI_DATA.map((d) => ({ raw: `data: ${d}\n\n`, event: undefined, data: d }));

const ANTHROPIC_EVENTS: [string, string][] = [
  ['message_start', '{"type":"message_start","message":{"id":"msg_01","type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-20250514","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":25,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1}}}'],
  ['content_block_start', '{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}'],
  ['ping', '{"type": "ping"}'],
  ['content_block_delta', '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Bonjour, ça va ? "}}'],
  ['content_block_delta', '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Ελληνικά 👋🏽"}}'],
  ['content_block_stop', '{"type":"content_block_stop","index":0}'],
  ['message_delta', '{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":15}}'],
  ['message_stop', '{"type":"message_stop"}'],
];
const ANTHROPIC_STREAM: Expected[] = ANTHROPIC_EVENTS.map(([event, data]) => ({
  raw: `event: ${event}\ndata: ${data}\n\n`,
  event,
  data,
}));

describe('SseSplitter on realistic streams', () => {
  it('splits an OpenAI chat stream identically however the bytes arrive', () => {
    expectSplitInvariant(OPENAI_STREAM, 0x5eed);
  });

  it('splits an Anthropic stream with named events identically however the bytes arrive', () => {
    expectSplitInvariant(ANTHROPIC_STREAM, 0xa17);
  });

  it('leaves nothing pending after a stream whose last event is terminated', () => {
    const splitter = new SseSplitter();
    const events = splitter.push(Buffer.from(OPENAI_STREAM.map((e) => e.raw).join('')));
    expect(events).toHaveLength(OPENAI_STREAM.length);
    expect(splitter.end()).toBeUndefined();
  });
});

describe('line endings', () => {
  it('treats CRLF like LF, keeping the CR bytes in raw', () => {
    expectSplitInvariant(
      [
        { raw: 'event: message_start\r\ndata: {"a":1}\r\n\r\n', event: 'message_start', data: '{"a":1}' },
        { raw: 'data: second\r\n\r\n', event: undefined, data: 'second' },
        { raw: 'data: [DONE]\r\n\r\n', event: undefined, data: '[DONE]' },
      ],
      1,
    );
  });

  it('treats a lone CR as a line ending', () => {
    expectSplitInvariant(
      [
        { raw: 'event: one\rdata: 1\r\r', event: 'one', data: '1' },
        { raw: 'data: 2\rdata: 3\r\r', event: undefined, data: '2\n3' },
        { raw: 'data: last\r\r', event: undefined, data: 'last' },
      ],
      2,
    );
  });

  it('handles a stream that mixes LF, CRLF and CR', () => {
    expectSplitInvariant(
      [
        { raw: 'data: a\n\n', event: undefined, data: 'a' },
        { raw: 'data: b\r\n\r\n', event: undefined, data: 'b' },
        { raw: 'data: c\r\r', event: undefined, data: 'c' },
        { raw: 'data: d\r\n\n', event: undefined, data: 'd' },
        { raw: 'data: e\n\r\n', event: undefined, data: 'e' },
        { raw: 'data: f\n\n', event: undefined, data: 'f' },
      ],
      3,
    );
  });
});

describe('fields', () => {
  it('passes comment lines through in raw and ignores them in data', () => {
    expectSplitInvariant(
      [
        { raw: ': ping\n\n', event: undefined, data: undefined },
        { raw: 'data: {"x":1}\n: keep-alive\n\n', event: undefined, data: '{"x":1}' },
        { raw: ':\n\n', event: undefined, data: undefined },
      ],
      4,
    );
  });

  it('joins multi-line data with \\n', () => {
    expectSplitInvariant(
      [
        { raw: 'data: first line\ndata: second line\ndata:\ndata: fourth\n\n', event: undefined, data: 'first line\nsecond line\n\nfourth' },
        { raw: 'event: multi\ndata: {\ndata:   "k": 1\ndata: }\n\n', event: 'multi', data: '{\n  "k": 1\n}' },
      ],
      5,
    );
  });

  it('removes exactly one leading space after the colon', () => {
    const [ev] = feed(Buffer.from('data:no-space\ndata:  two-spaces\n\n'), []);
    expect(ev?.data).toBe('no-space\n two-spaces');
  });

  it('reports no event name and no data for an event without them', () => {
    const [ev] = feed(Buffer.from('id: 7\nretry: 100\n\n'), []);
    expect(ev?.event).toBeUndefined();
    expect(ev?.data).toBeUndefined();
    expect(ev?.raw.toString()).toBe('id: 7\nretry: 100\n\n');
  });
});

describe('chunk boundaries', () => {
  it('completes an event split exactly between the two newlines of its terminator', () => {
    const splitter = new SseSplitter();
    expect(splitter.push(Buffer.from('data: hello\n'))).toEqual([]);
    const events = splitter.push(Buffer.from('\ndata: next'));
    expect(view(events)).toEqual([{ raw: 'data: hello\n\n', event: undefined, data: 'hello' }]);
    expect(view([splitter.end()!])).toEqual([{ raw: 'data: next', event: undefined, data: 'next' }]);
  });

  it('completes a CRLF event split inside its terminator', () => {
    for (const [a, b] of [
      ['data: x\r', '\n\r\n'],
      ['data: x\r\n', '\r\n'],
      ['data: x\r\n\r', '\n'],
    ] as const) {
      const splitter = new SseSplitter();
      expect(splitter.push(Buffer.from(a)), JSON.stringify(a)).toEqual([]);
      expect(view(splitter.push(Buffer.from(b))), JSON.stringify(a)).toEqual([
        { raw: 'data: x\r\n\r\n', event: undefined, data: 'x' },
      ]);
      expect(splitter.end()).toBeUndefined();
    }
  });

  it('end() returns an unterminated last event, then nothing', () => {
    const splitter = new SseSplitter();
    const events = splitter.push(Buffer.from('data: one\n\nevent: cut\ndata: {"partial":tr'));
    expect(view(events)).toEqual([{ raw: 'data: one\n\n', event: undefined, data: 'one' }]);
    const last = splitter.end();
    expect(last && view([last])).toEqual([{ raw: 'event: cut\ndata: {"partial":tr', event: 'cut', data: '{"partial":tr' }]);
    expect(splitter.end()).toBeUndefined();
  });

  it('end() on an empty stream returns undefined', () => {
    expect(new SseSplitter().end()).toBeUndefined();
  });

  it('decodes multi-byte UTF-8 characters split across chunks', () => {
    const text = 'é ü 中文 𝄞 🎉 👨‍👩‍👧';
    const input = Buffer.from(`data: ${text}\n\n`, 'utf8');
    // Every cut inside the text lands inside some multi-byte character at least once.
    for (let cut = 1; cut < input.length; cut++) {
      const events = feed(input, [cut]);
      expect(events.map((e) => e.data), `cut at ${cut}`).toEqual([text]);
      expect(Buffer.concat(events.map((e) => e.raw)).equals(input)).toBe(true);
    }
    expect(feed(input, byteByByte(input)).map((e) => e.data)).toEqual([text]);
  });

  it('hands over an event larger than maxEventBytes raw and uninspected', () => {
    const splitter = new SseSplitter(16);
    const big = Buffer.from(`data: ${'x'.repeat(40)}`);
    const events = splitter.push(big);
    expect(events).toHaveLength(1);
    expect(events[0]?.raw.equals(big)).toBe(true);
    expect(events[0]?.data).toBeUndefined();
    // It keeps working afterwards.
    expect(view(splitter.push(Buffer.from('\n\ndata: ok\n\n')))).toContainEqual({ raw: 'data: ok\n\n', event: undefined, data: 'ok' });
  });
});
