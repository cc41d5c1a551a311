// Provider faults over a real socket (SPEC §3, §7; issue 4 item 1): unreachable, reset, too slow,
// an error answer, a garbled body, a stream cut or stalled mid-way. Each ends with a clear answer
// (or the provider's own bytes), one ledger row, no open reservation and a server still serving.
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  ANTHROPIC_USAGE,
  anthropicStreamEvents,
  createGate,
  openaiChatStreamEvents,
  startFakeProvider,
  type FakeProvider,
} from './helpers/fake-provider.js';
import { TEAM_KEY, startApp, type TestApp } from './helpers/app.js';
import { allRows, estimatedPromptTokens, closedPort, drain, o200kCount, within, type Row } from './helpers/faults.js';

let fake: FakeProvider;
let tg: TestApp;
const extraApps: TestApp[] = [];

const MESSAGES = [{ role: 'user', content: 'Tell me a story about a fox and a dog, please.' }];
/** The prompt estimate of a gpt-4o chat body with these messages, non-stream and stream. */
const PROMPT_TOKENS = estimatedPromptTokens({ model: 'gpt-4o', messages: MESSAGES });
const STREAM_PROMPT_TOKENS = estimatedPromptTokens({ model: 'gpt-4o', messages: MESSAGES, stream: true });
const PARTS = ['The quick brown fox', ' jumps over', ' the lazy dog', ' and keeps on running home.'];

beforeEach(async () => {
  fake = await startFakeProvider();
  tg = await startApp(fake, { configure: (raw) => { raw.server.upstream_timeout_s = 0.5; } });
});

afterEach(async () => {
  for (const app of [tg, ...extraApps]) {
    await vi.waitFor(() => expect(app.deps.budgets.openReservations()).toBe(0));
  }
  for (const app of extraApps.splice(0)) await app.close();
  await tg.close();
  await fake.close();
});

function chat(app: TestApp, body: object, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${app.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TEAM_KEY}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

async function onlyRow(app: TestApp): Promise<Row> {
  let rows: Row[] = [];
  await vi.waitFor(async () => {
    rows = await allRows(app.url);
    expect(rows).toHaveLength(1);
  });
  return rows[0]!;
}

const openaiEnvelope = (code: string) => ({
  error: { code, type: expect.any(String), param: null, message: expect.stringMatching(/\S/) },
});

async function stillServes(app: TestApp): Promise<void> {
  const res = await chat(app, { model: 'gpt-4o', messages: MESSAGES });
  expect(res.status).toBe(200);
  expect(((await res.json()) as any).choices[0].message.content).toBe('Hello world!');
}

describe('provider faults', () => {
  it('provider unreachable (nothing listens on the port) → 502 upstream_unavailable, row 502 at cost 0', async () => {
    const port = await closedPort();
    const app = await startApp(fake, {
      configure: (raw) => {
        raw.server.upstream_timeout_s = 0.5;
        raw.providers[0].base_url = `http://127.0.0.1:${port}/v1`;
      },
    });
    extraApps.push(app);
    const res = await chat(app, { model: 'gpt-4o', messages: MESSAGES });
    expect(res.status).toBe(502);
    expect(await res.json()).toEqual(openaiEnvelope('upstream_unavailable'));
    const row = await onlyRow(app);
    expect(row).toMatchObject({ status: 502, cost_usd: 0, provider: 'openai', model: 'gpt-4o', team: 'search' });
    expect(fake.requests).toHaveLength(0);
  });

  it('connection reset by the provider → 502 upstream_unavailable, row 502 at cost 0', async () => {
    fake.enqueue({ kind: 'reset' });
    const res = await chat(tg, { model: 'gpt-4o', messages: MESSAGES });
    expect(res.status).toBe(502);
    expect(await res.json()).toEqual(openaiEnvelope('upstream_unavailable'));
    expect(fake.requests).toHaveLength(1);
    const row = await onlyRow(tg);
    expect(row).toMatchObject({ status: 502, cost_usd: 0 });
    await stillServes(tg);
  });

  it('connection reset on an Anthropic route → 502 in the Anthropic envelope', async () => {
    fake.enqueue({ kind: 'reset' });
    const res = await fetch(`${tg.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': TEAM_KEY, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'claude-sonnet-4-20250514', max_tokens: 100, messages: MESSAGES }),
    });
    expect(res.status).toBe(502);
    expect(await res.json()).toEqual({ type: 'error', error: { type: expect.any(String), message: expect.stringMatching(/\S/) } });
    expect(await onlyRow(tg)).toMatchObject({ status: 502, cost_usd: 0, provider: 'anthropic' });
  });

  it('provider hangs past upstream_timeout_s (0.5 s) → 504 upstream_timeout, row estimated from the prompt', async () => {
    fake.enqueue({ kind: 'hang' });
    const t0 = performance.now();
    const res = await within(8000, chat(tg, { model: 'gpt-4o', messages: MESSAGES }), 'a timed-out request');
    const elapsed = performance.now() - t0;
    expect(res.status).toBe(504);
    expect(await res.json()).toEqual(openaiEnvelope('upstream_timeout'));
    expect(elapsed).toBeGreaterThanOrEqual(450);
    expect(elapsed).toBeLessThan(6000); // 0.5 s plus a loaded machine's slack; a hang would never end
    const row = await onlyRow(tg);
    expect(row).toMatchObject({ status: 504, estimated: true, input_tokens: PROMPT_TOKENS, output_tokens: 0 });
    // The hung upstream request was given up, not left open.
    await vi.waitFor(() => expect(fake.aborted).toHaveLength(1));
  });

  it('provider error (429) → same status, the exact body and its x-request-id passed through; row at cost 0', async () => {
    const body = { error: { message: 'Rate limit reached for gpt-4o in organization org-x.', type: 'requests', param: null, code: 'rate_limit_exceeded' } };
    fake.enqueue({ kind: 'json', status: 429, body, headers: { 'x-request-id': 'req_upstream_429', 'retry-after': '7' } });
    const res = await chat(tg, { model: 'gpt-4o', messages: MESSAGES });
    expect(res.status).toBe(429);
    expect(await res.text()).toBe(JSON.stringify(body));
    expect(res.headers.get('x-request-id')).toBe('req_upstream_429');
    expect(res.headers.get('retry-after')).toBe('7');
    const row = await onlyRow(tg);
    expect(row).toMatchObject({ status: 429, cost_usd: 0, input_tokens: 0, output_tokens: 0, upstream_request_id: 'req_upstream_429' });
  });

  it('provider error (400) on an Anthropic route → 400 and the provider body untouched, its request-id kept', async () => {
    const body = { type: 'error', error: { type: 'invalid_request_error', message: 'max_tokens: Field required' } };
    fake.enqueue({ kind: 'json', status: 400, body });
    const client = new Anthropic({ apiKey: TEAM_KEY, baseURL: tg.url, maxRetries: 0 });
    const err = await client.messages
      .create({ model: 'claude-sonnet-4-20250514', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })
      .then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect((err as InstanceType<typeof Anthropic.BadRequestError>).error).toEqual(body);
    expect((err as InstanceType<typeof Anthropic.BadRequestError>).requestID).toBe('req_1');
    expect(await onlyRow(tg)).toMatchObject({ status: 400, cost_usd: 0, upstream_request_id: 'req_1' });
  });

  it('garbled 200 body (not JSON) → the provider bytes or a clear error; row estimated; the server keeps serving', async () => {
    const garbage = Buffer.concat([Buffer.from('{"id":"chatcmpl-x","choices":[{"message":{"content":"Hel'), Buffer.from([0xff, 0xfe, 0x00]), Buffer.from('<html>oops')]);
    fake.enqueue({ kind: 'raw', status: 200, body: garbage });
    const res = await chat(tg, { model: 'gpt-4o', messages: MESSAGES });
    const got = Buffer.from(await res.arrayBuffer());
    if (res.status === 200) {
      expect(got.equals(garbage)).toBe(true);
    } else {
      expect(res.status).toBe(502);
      expect(JSON.parse(got.toString('utf8'))).toEqual(openaiEnvelope(expect.any(String)));
    }
    const row = await onlyRow(tg);
    expect(row).toMatchObject({ estimated: true, input_tokens: PROMPT_TOKENS });
    await stillServes(tg);
  });

  it('a stream of garbled events with no usage → relayed, ends, row estimated', async () => {
    fake.enqueue({
      kind: 'sse',
      events: ['data: {"choices":[{"delta":{"content":"Hel\n\n', 'data: \u00ff\u00fe not json\n\n', ': comment\n\n', 'data: [DONE]\n\n'],
    });
    const res = await chat(tg, { model: 'gpt-4o', messages: MESSAGES, stream: true });
    expect(res.status).toBe(200);
    const { text, ended } = await within(3000, drain(res), 'a garbled stream');
    expect(ended).toBe('end');
    expect(text).toContain('not json');
    expect(text).toContain('data: [DONE]');
    expect(await onlyRow(tg)).toMatchObject({ status: 200, estimated: true, input_tokens: STREAM_PROMPT_TOKENS });
    await stillServes(tg);
  });

  it('stream cut mid-way (socket destroyed) → the client stream ends; row estimated from the text relayed so far', async () => {
    // role chunk, PARTS[0], PARTS[1] go out; then the provider's socket is destroyed.
    fake.enqueue({ kind: 'sse', events: openaiChatStreamEvents({ model: 'gpt-4o', parts: PARTS, includeUsage: true }), cutAfter: 3 });
    const client = new OpenAI({ apiKey: TEAM_KEY, baseURL: `${tg.url}/v1`, maxRetries: 0 });
    const stream = await client.chat.completions.create({ model: 'gpt-4o', stream: true, messages: MESSAGES as any });
    let text = '';
    const iterate = (async () => {
      for await (const c of stream) text += c.choices[0]?.delta?.content ?? '';
    })();
    // The SDK may throw (connection cut) or end; it must not hang.
    await within(3000, iterate.then(() => 'ended', () => 'threw'), 'the cut stream');
    expect(text).toBe(PARTS[0]! + PARTS[1]!);
    const row = await onlyRow(tg);
    const relayedTokens = o200kCount(PARTS[0]! + PARTS[1]!);
    expect(relayedTokens).toBeGreaterThan(0);
    expect(row).toMatchObject({ stream: true, estimated: true, output_tokens: relayedTokens, input_tokens: STREAM_PROMPT_TOKENS });
    await stillServes(tg);
  });

  it('stream that stalls mid-way past upstream_timeout_s → the client stream ends; row estimated', async () => {
    const gate = createGate();
    fake.enqueue({ kind: 'sse', events: openaiChatStreamEvents({ model: 'gpt-4o', parts: PARTS, includeUsage: true }), gate });
    gate.release(3); // role chunk, PARTS[0], PARTS[1]; the rest never comes
    const res = await chat(tg, { model: 'gpt-4o', messages: MESSAGES, stream: true });
    expect(res.status).toBe(200);
    const { text } = await within(4000, drain(res), 'the stalled stream');
    expect(text).toContain(JSON.stringify(PARTS[1]));
    expect(text).not.toContain(JSON.stringify(PARTS[2]));
    const row = await onlyRow(tg);
    expect(row).toMatchObject({
      stream: true,
      estimated: true,
      output_tokens: o200kCount(PARTS[0]! + PARTS[1]!),
      input_tokens: STREAM_PROMPT_TOKENS,
    });
    // The stalled upstream request is abandoned (we stop paying), not left open.
    await vi.waitFor(() => expect(fake.aborted).toHaveLength(1));
    gate.releaseAll();
    await stillServes(tg);
  });

  it('stream headers then silence past upstream_timeout_s → 504 upstream_timeout in the route’s envelope (nothing was relayed yet)', async () => {
    const gate = createGate();
    fake.enqueue({ kind: 'sse', events: openaiChatStreamEvents({ model: 'gpt-4o', parts: PARTS, includeUsage: true }), gate });
    const res = await within(4000, chat(tg, { model: 'gpt-4o', messages: MESSAGES, stream: true }), 'the silent stream');
    expect(res.status).toBe(504);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    expect(await res.json()).toEqual({ error: { message: expect.stringMatching(/\S/), type: 'api_error', param: null, code: 'upstream_timeout' } });
    expect(await onlyRow(tg)).toMatchObject({ stream: true, estimated: true });
    gate.releaseAll();
    await stillServes(tg);
  });

  it('Anthropic stream cut after message_start → input from message_start usage, output counted from relayed text', async () => {
    // message_start, content_block_start, ping, PARTS[0], PARTS[1], then cut.
    fake.enqueue({ kind: 'sse', events: anthropicStreamEvents({ model: 'claude-sonnet-4-20250514', parts: PARTS }), cutAfter: 5 });
    const client = new Anthropic({ apiKey: TEAM_KEY, baseURL: tg.url, maxRetries: 0 });
    const stream = await client.messages.create({
      model: 'claude-sonnet-4-20250514',
      max_tokens: 1000,
      stream: true,
      messages: [{ role: 'user', content: 'Tell me a story.' }],
    });
    let text = '';
    const iterate = (async () => {
      for await (const ev of stream) if (ev.type === 'content_block_delta' && ev.delta.type === 'text_delta') text += ev.delta.text;
    })();
    await within(3000, iterate.then(() => 'ended', () => 'threw'), 'the cut Anthropic stream');
    expect(text).toBe(PARTS[0]! + PARTS[1]!);
    const u = ANTHROPIC_USAGE;
    const row = await onlyRow(tg);
    expect(row).toMatchObject({
      provider: 'anthropic',
      stream: true,
      estimated: true,
      // Anthropic's input_tokens exclude cache reads and writes; the ledger's include them.
      input_tokens: u.input_tokens + u.cache_read_input_tokens + u.cache_creation_input_tokens,
      cached_input_tokens: u.cache_read_input_tokens,
      cache_write_tokens: u.cache_creation_input_tokens,
      output_tokens: o200kCount(PARTS[0]! + PARTS[1]!),
    });
    expect(row.cost_usd).toBeGreaterThan(0);
  });
});
