// Hostile input against the running app over a real socket (issue 4 item 5): random JSON, random
// bytes, wrong types, huge numbers, deep nesting, invalid UTF-8, oversized and injected headers.
// Whatever Tollgate answers itself is < 500 in its route's error envelope (the fake provider
// always answers 200, so any 5xx is Tollgate's own), no reservation is left open, and the server
// is alive afterwards. Over-limit bodies get 413 before they are read in full. No model name can
// steer the upstream call to another host or path.
import { request as httpRequest } from 'node:http';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { openaiChatStreamEvents, startFakeProvider, type FakeProvider, type RecordedRequest } from './helpers/fake-provider.js';
import { ADMIN_KEY, TEAM_KEY, startApp, type TestApp } from './helpers/app.js';
import { rawExchange, rawJson } from './helpers/raw-http.js';

const POST_PATHS = [
  '/v1/chat/completions',
  '/v1/completions',
  '/v1/embeddings',
  '/v1/responses',
  '/v1/messages',
  '/v1/messages/count_tokens',
] as const;
/** The only paths the provider may ever see (the fake's base URL is its root; OpenAI base adds /v1). */
const UPSTREAM_PATHS = new Set([...POST_PATHS]);

const VALID_MODELS = [
  'gpt-4o',
  'gpt-4o-mini',
  'gpt-3.5-turbo-instruct',
  'text-embedding-3-small',
  'claude-sonnet-4-20250514',
  'deepseek-chat',
  'my-finetune',
  'openai/gpt-4o',
  'anthropic/claude-sonnet-4-20250514',
  'deepseek/deepseek-chat',
];

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => { unhandled.push(reason); };

let fake: FakeProvider;
let tg: TestApp;
/** Bodies the fake answered with, by request index: a 200 must be one of them, byte for byte. */
const fakeBodies = new Set<string>();

function fakeAnswer(req: RecordedRequest) {
  // Every other answer carries no usage, so the estimate path (counting the hostile prompt) runs too.
  const withUsage = fake.requests.length % 2 === 0;
  const anthropic = req.path.startsWith('/v1/messages');
  const body = anthropic
    ? { id: `msg_${fake.requests.length}`, type: 'message', role: 'assistant', content: [{ type: 'text', text: 'ok' }], ...(withUsage ? { usage: { input_tokens: 5, output_tokens: 1 } } : {}) }
    : { id: `x_${fake.requests.length}`, object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'ok' } }], ...(withUsage ? { usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 } } : {}) };
  fakeBodies.add(JSON.stringify(body));
  return { kind: 'json' as const, status: 200, body };
}

beforeAll(() => { process.on('unhandledRejection', onUnhandled); });
afterAll(() => { process.off('unhandledRejection', onUnhandled); });

beforeEach(async () => {
  fake = await startFakeProvider();
  fake.setHandler(fakeAnswer);
  tg = await startApp(fake); // body_limit_mb: 1, unpriced_models: reject
});

afterEach(async () => {
  // Alive, nothing left reserved, nothing logged as an unhandled error, no stray rejection.
  const health = await fetch(`${tg.url}/healthz`);
  expect(health.status).toBe(200);
  expect(await health.json()).toEqual({ status: 'ok' });
  await vi.waitFor(() => expect(tg.deps.budgets.openReservations()).toBe(0));
  const errors = tg.logs.filter((l) => /"level":(50|60)/.test(l));
  expect(errors.map((l) => l.slice(0, 400))).toEqual([]);
  expect(unhandled).toEqual([]);
  // Nothing reached the provider except on its fixed paths.
  for (const r of fake.requests) expect(UPSTREAM_PATHS.has(r.path as (typeof POST_PATHS)[number])).toBe(true);
  await tg.close();
  await fake.close();
  fakeBodies.clear();
});

const isAnthropic = (path: string) => path.startsWith('/v1/messages');

/**
 * The contract for one answer: a 200 is the provider's own body untouched; anything else is
 * Tollgate's, < 500, in the route's envelope, with a non-empty message.
 */
function checkAnswer(path: string, status: number, text: string): void {
  expect(status, `${path} answered ${status}: ${text.slice(0, 300)}`).toBeLessThan(500);
  if (status === 200) {
    expect(fakeBodies.has(text), `a 200 must be the provider's body: ${text.slice(0, 200)}`).toBe(true);
    return;
  }
  expect(status).toBeGreaterThanOrEqual(400);
  const body = JSON.parse(text) as Record<string, any>;
  if (isAnthropic(path)) {
    expect(Object.keys(body).sort()).toEqual(['error', 'type']);
    expect(body.type).toBe('error');
    expect(Object.keys(body.error).sort()).toEqual(['message', 'type']);
    expect(typeof body.error.type).toBe('string');
    expect(body.error.message).toMatch(/\S/);
  } else {
    expect(Object.keys(body)).toEqual(['error']);
    expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'param', 'type']);
    expect(body.error.param).toBeNull();
    expect(typeof body.error.type).toBe('string');
    expect(typeof body.error.code).toBe('string');
    expect(body.error.message).toMatch(/\S/);
  }
}

async function send(path: string, body: string | Uint8Array, headers: Record<string, string> = {}): Promise<void> {
  const res = await fetch(`${tg.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TEAM_KEY}`, 'content-type': 'application/json', ...headers },
    body,
  });
  checkAnswer(path, res.status, await res.text());
}

const pathArb = fc.constantFrom(...POST_PATHS);
/** Numbers that break naive arithmetic, as JSON can carry them. */
const nastyNumber = fc.oneof(
  fc.constantFrom(1e308, -1e308, -1, 0, -0, 0.5, 2 ** 53, 2 ** 53 + 2, 2 ** 64, Number.MAX_SAFE_INTEGER, 5e-324, 1e21),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
);
const anyValue = fc.anything({ maxDepth: 3, maxKeys: 5, withNullPrototype: true });
const modelArb = fc.oneof(fc.constantFrom(...VALID_MODELS), fc.string({ maxLength: 40 }), anyValue);
const shapedBody = fc.record(
  {
    model: modelArb,
    messages: fc.oneof(anyValue, fc.array(fc.record({ role: fc.oneof(fc.constantFrom('user', 'system', 'assistant'), anyValue), content: anyValue, name: anyValue }, { requiredKeys: [] }), { maxLength: 4 })),
    max_tokens: fc.oneof(nastyNumber, anyValue),
    max_completion_tokens: nastyNumber,
    max_output_tokens: nastyNumber,
    n: nastyNumber,
    best_of: nastyNumber,
    stream: fc.oneof(fc.boolean(), anyValue),
    stream_options: anyValue,
    input: anyValue,
    prompt: anyValue,
    system: anyValue,
    tools: anyValue,
    response_format: anyValue,
    instructions: anyValue,
  },
  { requiredKeys: [] },
);

describe('hostile bodies (property-based)', () => {
  it('arbitrary JSON values to every endpoint', async () => {
    await fc.assert(
      fc.asyncProperty(pathArb, fc.jsonValue({ maxDepth: 4 }), async (path, value) => {
        await send(path, JSON.stringify(value));
      }),
      { numRuns: 200 },
    );
  });

  it('arbitrary byte strings to every endpoint (invalid UTF-8 included)', async () => {
    await fc.assert(
      fc.asyncProperty(pathArb, fc.uint8Array({ maxLength: 600 }), fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', ''), async (path, bytes, ctype) => {
        await send(path, bytes, ctype ? { 'content-type': ctype } : {});
      }),
      { numRuns: 200 },
    );
  });

  it('wrong types and huge numbers for model / messages / max_tokens / stream and friends', async () => {
    await fc.assert(
      fc.asyncProperty(pathArb, shapedBody, async (path, body) => {
        await send(path, JSON.stringify(body));
      }),
      { numRuns: 300 },
    );
  });

  it('invalid UTF-8 inside JSON strings (content and model name)', async () => {
    const bad = fc.uint8Array({ minLength: 1, maxLength: 40 }).map((b) => Buffer.from(b.map((x) => (x === 0x22 || x === 0x5c || x < 0x20 ? 0xc3 : x | 0x80))));
    await fc.assert(
      fc.asyncProperty(pathArb, bad, fc.boolean(), async (path, bytes, inModel) => {
        const body = inModel
          ? Buffer.concat([Buffer.from('{"model":"gpt-4o'), bytes, Buffer.from('","messages":[{"role":"user","content":"hi"}],"input":"x"}')])
          : Buffer.concat([Buffer.from('{"model":"gpt-4o","max_tokens":5,"messages":[{"role":"user","content":"'), bytes, Buffer.from('"}],"input":"'), bytes, Buffer.from('"}')]);
        await send(path, body);
      }),
      { numRuns: 150 },
    );
  });

  it('numbers JSON.parse turns into Infinity or loses: 1e999, -1e999, 30-digit integers', async () => {
    const texts = [
      '{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"max_tokens":1e999}',
      '{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"max_tokens":-1e999,"n":1e400}',
      '{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"max_tokens":123456789012345678901234567890,"n":128}',
      '{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"max_completion_tokens":9007199254740991,"n":9007199254740991}',
      '{"model":"my-finetune","messages":[{"role":"user","content":"hi"}],"max_tokens":9007199254740991,"n":128,"best_of":128}',
      '{"model":"claude-sonnet-4-20250514","messages":[{"role":"user","content":"hi"}],"max_tokens":1e308,"stream":1e308}',
      '{"model":"text-embedding-3-small","input":[1e999,-1e999,1.5,-0]}',
    ];
    for (const path of POST_PATHS) for (const t of texts) await send(path, t);
  });
});

describe('deep nesting', () => {
  const LIMIT = 1024 * 1024;
  const nest = (depth: number) => '['.repeat(depth) + '"x"' + ']'.repeat(depth);
  const objNest = (depth: number) => '{"content":'.repeat(depth) + '"x"' + '}'.repeat(depth);
  const cases: [name: string, body: (d: number) => string][] = [
    ['messages', (d) => `{"model":"gpt-4o","messages":${nest(d)}}`],
    ['message content (arrays)', (d) => `{"model":"gpt-4o","messages":[{"role":"user","content":${nest(d)}}]}`],
    ['message content (objects)', (d) => `{"model":"gpt-4o","messages":[{"role":"user","content":${objNest(d)}}]}`],
    ['input', (d) => `{"model":"gpt-4o","input":${nest(d)}}`],
    ['prompt', (d) => `{"model":"gpt-4o","prompt":${nest(d)}}`],
    ['tools', (d) => `{"model":"gpt-4o","messages":[],"tools":${nest(d)}}`],
    ['stream + tools (body rewritten for stream usage)', (d) => `{"model":"gpt-4o","stream":true,"messages":[],"tools":${nest(d)}}`],
    ['provider prefix (body rewritten) + stream_options', (d) => `{"model":"openai/gpt-4o","messages":[],"stream_options":${nest(d)}}`],
    ['anthropic system', (d) => `{"model":"claude-sonnet-4-20250514","max_tokens":10,"messages":[],"system":${nest(d)}}`],
  ];
  /** The deepest nesting of this shape that still fits under the body limit. */
  const deepest = (body: (d: number) => string) => {
    const per = body(2).length - body(1).length;
    return Math.floor((LIMIT - 1 - (body(1).length - per)) / per);
  };
  for (const [name, body] of cases) {
    it(`5,000 levels and as deep as 1 MB allows (${deepest(body)}) in ${name} → < 500 on every endpoint, with and without provider usage`, async () => {
      for (const depth of [5_000, deepest(body)]) {
        const text = body(depth);
        expect(Buffer.byteLength(text)).toBeLessThan(LIMIT);
        for (const path of POST_PATHS) {
          await send(path, text); // the fake alternates answers with and without usage
          await send(path, text);
        }
      }
    });
  }

  it('a stream cut mid-way whose request is 5,000 levels deep: refused up front, or forwarded and then recorded', async () => {
    fake.enqueue({ kind: 'sse', events: openaiChatStreamEvents({ model: 'gpt-4o', includeUsage: true }), cutAfter: 2 });
    const res = await fetch(`${tg.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEAM_KEY}`, 'content-type': 'application/json' },
      // The client asked for usage itself, so the body is forwarded untouched.
      body: `{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":${nest(5000)}}]}`,
    });
    const text = await res.text().catch(() => '');
    if (res.status !== 200) {
      checkAnswer('/v1/chat/completions', res.status, text);
      expect(fake.requests).toHaveLength(0);
      return;
    }
    // Forwarded and cut: the estimate (counting the nested prompt) must still write the row.
    await vi.waitFor(async () => {
      const r = await fetch(`${tg.url}/usage/requests`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
      const rows = ((await r.json()) as { data: Record<string, unknown>[] }).data;
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ stream: true, estimated: true });
    });
  });
});

describe('hostile headers', () => {
  it('arbitrary (fetch-sendable) values in forwarded headers reach the provider unchanged or not at all', async () => {
    const headerValue = fc
      .array(fc.integer({ min: 0x20, max: 0xff }).filter((c) => c !== 0x7f), { minLength: 1, maxLength: 60 })
      .map((codes) => String.fromCharCode(...codes).trim())
      .filter((s) => s.length > 0);
    const name = fc.constantFrom('anthropic-version', 'anthropic-beta', 'openai-beta', 'idempotency-key', 'user-agent', 'accept', 'x-api-key', 'authorization');
    await fc.assert(
      fc.asyncProperty(pathArb, name, headerValue, async (path, header, value) => {
        const before = fake.requests.length;
        const headers: Record<string, string> = header === 'authorization' || header === 'x-api-key' ? {} : { authorization: `Bearer ${TEAM_KEY}` };
        headers[header] = value;
        const res = await fetch(`${tg.url}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify({ model: isAnthropic(path) ? 'claude-sonnet-4-20250514' : 'gpt-4o', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }], input: 'hi' }),
        });
        checkAnswer(path, res.status, await res.text());
        for (const r of fake.requests.slice(before)) {
          for (const v of Object.values(r.headers)) expect(String(v)).not.toMatch(/[\r\n\0]/);
          // A client key in any header never travels upstream.
          expect(JSON.stringify(r.headers)).not.toContain(TEAM_KEY);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('an oversized header value is refused (< 500) and the server lives on', async () => {
    for (const size of [20_000, 100_000]) {
      const outcome = await fetch(`${tg.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TEAM_KEY}`, 'anthropic-beta': 'b'.repeat(size) },
        body: '{"model":"gpt-4o","messages":[]}',
      }).then((r) => r.status, () => 'connection closed');
      expect(outcome === 'connection closed' || (typeof outcome === 'number' && outcome >= 400 && outcome < 500)).toBe(true);
      // An oversized *key* is just a wrong key.
      const key = await fetch(`${tg.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${'k'.repeat(Math.min(size, 15_000))}` },
        body: '{"model":"gpt-4o","messages":[]}',
      });
      checkAnswer('/v1/chat/completions', key.status, await key.text());
      expect(key.status).toBe(401);
    }
    expect(fake.requests).toHaveLength(0);
  });

  it('header-injection and framing attempts on a raw socket', async () => {
    const port = Number(new URL(tg.url).port);
    const body = '{"model":"claude-sonnet-4-20250514","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}';
    const req = (extraHeaderLines: string, opts: { body?: string; path?: string; framing?: string } = {}) => {
      const b = opts.body ?? body;
      return (
        `POST ${opts.path ?? '/v1/messages'} HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: ${TEAM_KEY}\r\n` +
        `content-type: application/json\r\n${extraHeaderLines}${opts.framing ?? `content-length: ${Buffer.byteLength(b)}\r\n`}connection: close\r\n\r\n${b}`
      );
    };
    const attempts: [string, string][] = [
      ['CRLF splits into a second header', req('anthropic-version: a\r\nx-injected: y\r\n')],
      ['bare LF inside a value', req('anthropic-version: a\nx-injected: y\r\n')],
      ['bare CR inside a value', req('anthropic-version: a\rx-injected: y\r\n')],
      ['NUL inside a value', req('anthropic-beta: a\0x-injected: y\r\n')],
      ['obs-fold continuation line', req('anthropic-beta: a\r\n x-injected: y\r\n')],
      ['header name with a space', req('anthropic version : a\r\n')],
      ['duplicate anthropic-version', req('anthropic-version: 2023-06-01\r\nanthropic-version: evil\r\n')],
      ['duplicate x-api-key (second one wrong)', req('x-api-key: wrong-key-123\r\n')],
      ['content-length + transfer-encoding (smuggling)', req('', { framing: `content-length: ${Buffer.byteLength(body)}\r\ntransfer-encoding: chunked\r\n` })],
      ['two different content-lengths', req('', { framing: `content-length: ${Buffer.byteLength(body)}\r\ncontent-length: 3\r\n` })],
      ['absolute-form request target to another host', req('', { path: 'http://evil.example/v1/messages' })],
      ['dot segments in the path', req('', { path: '/v1/messages/../../admin' })],
      ['encoded dot segments', req('', { path: '/v1/messages/%2e%2e/%2e%2e/admin' })],
      ['double slash', req('', { path: '//evil.example/v1/messages' })],
      ['query carrying a URL', req('', { path: '/v1/messages?base_url=http://evil.example&path=../../x' })],
    ];
    for (const [name, raw] of attempts) {
      const before = fake.requests.length;
      const answer = await rawExchange(port, raw);
      // Either Node's parser refused the request (400 and close) or Tollgate answered; never 5xx.
      expect(answer.ended, name).not.toBe('timeout');
      if (answer.status !== undefined) {
        expect(answer.status, `${name}: ${answer.text.slice(0, 300)}`).toBeLessThan(500);
        if (answer.status !== 400 || /application\/json/i.test(answer.text.slice(0, answer.text.indexOf('\r\n\r\n')))) {
          if (answer.status === 200) expect(fakeBodies.has(JSON.stringify(rawJson(answer)))).toBe(true);
        }
      }
      for (const r of fake.requests.slice(before)) {
        expect(r.headers['x-injected'], name).toBeUndefined();
        for (const v of Object.values(r.headers)) expect(String(v), name).not.toMatch(/[\r\n\0]/);
        expect(UPSTREAM_PATHS.has(r.path as (typeof POST_PATHS)[number]), `${name} reached ${r.path}`).toBe(true);
        expect(r.headers.host, name).toBe(new URL(fake.url).host);
      }
    }
  });
});

describe('body over body_limit_mb (1 MB in the test config)', () => {
  const TOTAL = 50 * 1024 * 1024;

  it('declared by content-length → 413 request_too_large before a single body byte is sent', async () => {
    const port = Number(new URL(tg.url).port);
    // Only the head goes out: the answer must come without waiting for (or reading) any body.
    const answer = await rawExchange(
      port,
      `POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nauthorization: Bearer ${TEAM_KEY}\r\ncontent-type: application/json\r\ncontent-length: ${TOTAL}\r\n\r\n`,
      3000,
    );
    expect(answer.ended).not.toBe('timeout');
    expect(answer.status).toBe(413);
    expect(rawJson(answer)).toEqual({ error: { code: 'request_too_large', type: 'invalid_request_error', param: null, message: expect.stringMatching(/\S/) } });
    expect(fake.requests).toHaveLength(0);
  });

  it('sent chunked with no content-length → 413 request_too_large while the body is still coming', async () => {
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (pulled >= TOTAL) return c.close();
        pulled += 64 * 1024;
        c.enqueue(new Uint8Array(64 * 1024).fill(0x61));
      },
    });
    const res = await fetch(`${tg.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEAM_KEY}`, 'content-type': 'application/json' },
      body,
      duplex: 'half',
    } as RequestInit & { duplex: 'half' });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ error: { code: 'request_too_large', type: 'invalid_request_error', param: null, message: expect.stringMatching(/\S/) } });
    // Answered once a little over the limit had arrived (socket buffers aside), not after 50 MB.
    expect(pulled).toBeLessThan(16 * 1024 * 1024);
    expect(fake.requests).toHaveLength(0);
  });

  it('an over-limit body on an Anthropic route → 413 in the Anthropic envelope', async () => {
    const res = await fetch(`${tg.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': TEAM_KEY, 'content-type': 'application/json' },
      body: `{"model":"claude-sonnet-4-20250514","max_tokens":5,"messages":[{"role":"user","content":"${'a'.repeat(1024 * 1024 + 10)}"}]}`,
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ type: 'error', error: { type: 'request_too_large', message: expect.stringMatching(/\S/) } });
  });
});

describe('no upstream host or path escape (SSRF)', () => {
  let evil: FakeProvider;
  let open: TestApp;

  beforeEach(async () => {
    evil = await startFakeProvider();
    // unpriced models forwarded, so odd model names actually travel upstream
    open = await startApp(fake, { configure: (raw) => { raw.unpriced_models = 'allow'; } });
  });
  afterEach(async () => {
    await vi.waitFor(() => expect(open.deps.budgets.openReservations()).toBe(0));
    await open.close();
    expect(evil.requests).toEqual([]);
    await evil.close();
  });

  it('model names with dot segments, URLs, prefixes and control characters only ever reach the fixed endpoint paths', async () => {
    const evilUrl = evil.url;
    const hand = [
      '../../admin',
      'http://evil.example/x',
      `${evilUrl}/v1/chat/completions`,
      'openai/../../x',
      `openai/${evilUrl}/x`,
      'anthropic/../../../v1/admin',
      'gpt-4o/../../../admin',
      'gpt-4o?x=1#frag',
      'gpt-@evil.example',
      'gpt-4o\r\nHost: evil.example',
      'claude-../../x',
      '//evil.example/x',
      'gpt-%2e%2e%2fadmin',
      'my-../../x',
      'deepseek/../..',
      'openai//evil.example',
    ];
    const models = fc.oneof(
      fc.constantFrom(...hand),
      fc.tuple(fc.constantFrom('gpt-', 'claude-', 'my-', 'deepseek-', 'openai/', 'anthropic/', 'deepseek/'), fc.string({ maxLength: 30 })).map(([a, b]) => a + b),
      fc.tuple(fc.constantFrom('gpt-', 'openai/', 'anthropic/'), fc.constantFrom('../', '/', '?', '#', '@', '\\', '%2f', 'http://', evilUrl), fc.string({ maxLength: 10 })).map(([a, b, c]) => a + b + c),
    );
    const paths = fc.constantFrom('/v1/chat/completions', '/v1/completions', '/v1/embeddings', '/v1/responses', '/v1/messages', '/v1/messages/count_tokens');
    const fakeHost = new URL(fake.url).host;
    await fc.assert(
      fc.asyncProperty(paths, models, async (path, model) => {
        const before = fake.requests.length;
        const res = await fetch(`${open.url}${path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${TEAM_KEY}`, 'content-type': 'application/json' },
          body: JSON.stringify({ model, max_tokens: 5, messages: [{ role: 'user', content: 'hi' }], input: 'hi' }),
        });
        const text = await res.text();
        checkAnswer(path, res.status, text);
        for (const r of fake.requests.slice(before)) {
          expect(UPSTREAM_PATHS.has(r.path as (typeof POST_PATHS)[number]), `model ${JSON.stringify(model)} reached ${r.path}`).toBe(true);
          expect(r.headers.host).toBe(fakeHost);
        }
      }),
      { numRuns: 250 },
    );
    expect(fake.requests.length).toBeGreaterThan(20); // the property did exercise forwarding
  });

  it('request targets with dot segments or another host never leave the fixed paths', async () => {
    const port = Number(new URL(open.url).port);
    const body = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
    for (const path of ['/v1/chat/completions/../../admin', '/v1/chat/completions/..%2f..%2fadmin', '/v1//chat/completions', 'http://evil.example/v1/chat/completions', '/v1/chat/completions?url=http://evil.example']) {
      const status = await new Promise<number>((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path, headers: { authorization: `Bearer ${TEAM_KEY}`, 'content-type': 'application/json' } }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end(body);
      });
      expect(status, path).toBeLessThan(500);
    }
    for (const r of fake.requests) {
      expect(UPSTREAM_PATHS.has(r.path as (typeof POST_PATHS)[number]), r.path).toBe(true);
    }
  });
});
