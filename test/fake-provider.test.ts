// Checks the fake provider against the official SDKs directly (no proxy in between),
// so that proxy tests built on it can trust it speaks the real wire formats.
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ANTHROPIC_USAGE,
  EMBEDDING_USAGE,
  OPENAI_USAGE,
  RESPONSES_USAGE,
  STREAM_TEXT_PARTS,
  anthropicStreamEvents,
  createGate,
  openaiChatStreamEvents,
  startFakeProvider,
  type FakeProvider,
} from './helpers/fake-provider.js';

const TEXT = STREAM_TEXT_PARTS.join('');
let fake: FakeProvider;
let openai: OpenAI;
let anthropic: Anthropic;

beforeEach(async () => {
  fake = await startFakeProvider();
  openai = new OpenAI({ apiKey: 'x', baseURL: fake.openaiBaseUrl, maxRetries: 0 });
  anthropic = new Anthropic({ apiKey: 'x', baseURL: fake.url, maxRetries: 0 });
});

// Also exercises close() robustness: several tests leave hung or gated requests behind.
afterEach(async () => {
  await fake.close();
});

/** Poll until cond() holds; server-side bookkeeping (e.g. abort detection) lags the client a little. */
async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const messages = [{ role: 'user' as const, content: 'hi' }];

describe('OpenAI wire format', () => {
  it('chat non-stream returns a chat.completion with usage and x-request-id', async () => {
    const { data, request_id } = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages }).withResponse();
    expect(data.object).toBe('chat.completion');
    expect(data.id).toMatch(/^chatcmpl-/);
    expect(data.model).toBe('gpt-4o-mini');
    expect(data.choices[0]?.message).toMatchObject({ role: 'assistant', content: TEXT });
    expect(data.choices[0]?.finish_reason).toBe('stop');
    expect(data.usage).toEqual(OPENAI_USAGE);
    expect(request_id).toBe('req_1');
  });

  it('chat stream with include_usage: usage:null on chunks, then a choices:[] usage chunk', async () => {
    const stream = await openai.chat.completions.create({
      model: 'gpt-4o', messages, stream: true, stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const c of stream) chunks.push(c);
    const last = chunks.at(-1);
    expect(last?.choices).toEqual([]);
    expect(last?.usage).toEqual(OPENAI_USAGE);
    for (const c of chunks.slice(0, -1)) expect(c.usage).toBeNull();
    expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant');
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe(TEXT);
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('stop');
  });

  it('chat stream without include_usage carries no usage key at all, and ends with [DONE]', async () => {
    const stream = await openai.chat.completions.create({ model: 'gpt-4o', messages, stream: true });
    const chunks = [];
    for await (const c of stream) chunks.push(c);
    expect(chunks).toHaveLength(STREAM_TEXT_PARTS.length + 2); // role chunk + parts + finish chunk
    for (const c of chunks) expect('usage' in c).toBe(false);

    // The raw body ends with the [DONE] sentinel (the SDK swallows it, so check by hand).
    const res = await fetch(`${fake.openaiBaseUrl}/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o', messages, stream: true }),
    });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(await res.text()).toMatch(/data: \[DONE\]\n\n$/);
  });

  it('legacy completions, non-stream and stream', async () => {
    const c = await openai.completions.create({ model: 'gpt-3.5-turbo-instruct', prompt: 'hi' });
    expect(c.object).toBe('text_completion');
    expect(c.choices[0]?.text).toBe(TEXT);
    expect(c.usage).toEqual(OPENAI_USAGE);

    const stream = await openai.completions.create({
      model: 'gpt-3.5-turbo-instruct', prompt: 'hi', stream: true, stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const ch of stream) chunks.push(ch);
    expect(chunks.map((ch) => ch.choices[0]?.text ?? '').join('')).toBe(TEXT);
    expect(chunks.at(-1)?.usage).toEqual(OPENAI_USAGE);
  });

  it('embeddings: one vector per input, in both float and (SDK-default) base64 encodings', async () => {
    const b64 = await openai.embeddings.create({ model: 'text-embedding-3-small', input: ['a', 'b', 'c'] });
    expect(fake.requests[0]?.body.encoding_format).toBe('base64'); // why the fake must speak base64
    expect(b64.data).toHaveLength(3);
    expect(b64.data[1]?.index).toBe(1);
    expect(b64.usage).toEqual(EMBEDDING_USAGE);

    const floats = await openai.embeddings.create({ model: 'text-embedding-3-small', input: 'a', encoding_format: 'float' });
    expect(floats.data).toHaveLength(1);
    expect(floats.data[0]?.embedding).toHaveLength(8);
    // Both encodings carry the same numbers.
    expect(Array.from(b64.data[0]?.embedding ?? [])).toEqual(floats.data[0]?.embedding);
  });

  it('responses non-stream', async () => {
    const r = await openai.responses.create({ model: 'gpt-4o', input: 'hi' });
    expect(r.object).toBe('response');
    expect(r.status).toBe('completed');
    expect(r.output_text).toBe(TEXT);
    expect(r.usage).toEqual(RESPONSES_USAGE);
  });

  it('responses stream: raw events have sequence numbers; the SDK stream helper accumulates them', async () => {
    const stream = await openai.responses.create({ model: 'gpt-4o', input: 'hi', stream: true });
    const events = [];
    for await (const e of stream) events.push(e);
    expect(events[0]?.type).toBe('response.created');
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    const deltas = events.flatMap((e) => (e.type === 'response.output_text.delta' ? [e.delta] : []));
    expect(deltas).toEqual(STREAM_TEXT_PARTS);
    const last = events.at(-1);
    expect(last?.type).toBe('response.completed');
    if (last?.type === 'response.completed') expect(last.response.usage).toEqual(RESPONSES_USAGE);

    const final = await openai.responses.stream({ model: 'gpt-4o', input: 'hi' }).finalResponse();
    expect(final.output_text).toBe(TEXT);
    expect(final.usage).toEqual(RESPONSES_USAGE);
  });

  it('models.list', async () => {
    const page = await openai.models.list();
    expect(page.data.map((m) => m.id)).toContain('gpt-4o');
    expect(page.data[0]).toMatchObject({ object: 'model', owned_by: expect.any(String) });
  });

  it('unknown path is a 404 the SDK surfaces as NotFoundError', async () => {
    await expect(openai.get('/nope')).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });
});

describe('Anthropic wire format', () => {
  it('messages non-stream with usage and request-id', async () => {
    const msg = await anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 100, messages });
    expect(msg).toMatchObject({ type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', stop_reason: 'end_turn', stop_sequence: null });
    expect(msg.id).toMatch(/^msg_/);
    expect(msg.content).toEqual([{ type: 'text', text: TEXT }]);
    expect(msg.usage).toEqual(ANTHROPIC_USAGE);
    expect(msg._request_id).toBe('req_1');
  });

  it('messages stream: finalMessage has the full text and merged usage', async () => {
    const stream = anthropic.messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 100, messages });
    const types: string[] = [];
    stream.on('streamEvent', (e) => types.push(e.type));
    const final = await stream.finalMessage();
    expect(types).toEqual(['message_start', 'content_block_start', ...STREAM_TEXT_PARTS.map(() => 'content_block_delta'),
      'content_block_stop', 'message_delta', 'message_stop']); // ping is swallowed by the SDK
    expect(final.content).toEqual([{ type: 'text', text: TEXT }]);
    expect(final.stop_reason).toBe('end_turn');
    expect(final.usage).toMatchObject(ANTHROPIC_USAGE);
    expect(fake.requests[0]?.body.stream).toBe(true);
  });

  it('raw stream shape: message_start carries input usage with output_tokens 1', () => {
    const events = anthropicStreamEvents({ model: 'm' });
    expect(events[0]).toMatch(/^event: message_start\ndata: /);
    const start = JSON.parse(events[0]!.split('data: ')[1]!);
    expect(start.message.usage).toMatchObject({ input_tokens: ANTHROPIC_USAGE.input_tokens, output_tokens: 1 });
    expect(events[2]).toBe('event: ping\ndata: {"type":"ping"}\n\n');
  });

  it('countTokens', async () => {
    const r = await anthropic.messages.countTokens({ model: 'claude-sonnet-4-5', messages });
    expect(r.input_tokens).toBe(42);
    expect(fake.requests[0]?.path).toBe('/v1/messages/count_tokens');
  });
});

describe('control: gates, failures, recording', () => {
  it('gate: event 1 arrives before event 2 is released', async () => {
    const gate = createGate();
    const events = openaiChatStreamEvents({ model: 'gpt-4o', includeUsage: false });
    fake.enqueue({ kind: 'sse', events, gate });
    const res = await fetch(`${fake.openaiBaseUrl}/chat/completions`, { method: 'POST', body: '{}' });
    // Headers are flushed before any event is released.
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let got = '';

    gate.release();
    while (got.length < events[0]!.length) {
      const { value } = await reader.read();
      got += decoder.decode(value, { stream: true });
    }
    expect(got).toBe(events[0]);

    // Nothing more may arrive while the gate is shut.
    const next = reader.read();
    const early = await Promise.race([next.then(() => 'data'), new Promise((r) => setTimeout(() => r('quiet'), 150))]);
    expect(early).toBe('quiet');

    gate.releaseAll();
    for (let r = await next; !r.done; r = await reader.read()) got += decoder.decode(r.value, { stream: true });
    expect(got).toBe(events.join(''));
    expect(fake.aborted).toEqual([]); // a stream that completed is not an abort
  });

  it('reset: the SDK reports a connection error; the request is still recorded', async () => {
    fake.enqueue({ kind: 'reset' });
    await expect(openai.chat.completions.create({ model: 'gpt-4o', messages })).rejects.toBeInstanceOf(OpenAI.APIConnectionError);
    expect(fake.requests).toHaveLength(1);
    expect(fake.aborted).toHaveLength(0); // server-side kills are not client aborts
  });

  it('cutAfter: the stream errors mid-way after delivering the first events', async () => {
    fake.enqueue({ kind: 'sse', events: openaiChatStreamEvents({ model: 'gpt-4o', includeUsage: true }), cutAfter: 2 });
    const stream = await openai.chat.completions.create({ model: 'gpt-4o', messages, stream: true });
    const seen: string[] = [];
    await expect((async () => {
      for await (const c of stream) seen.push(c.choices[0]?.delta.content ?? '');
    })()).rejects.toThrow();
    expect(seen).toEqual(['', STREAM_TEXT_PARTS[0]]);
  });

  it('raw garbage body with a JSON content-type makes the SDK fail', async () => {
    fake.enqueue({ kind: 'raw', status: 200, body: '{"id": "chatcmpl-trunc' });
    await expect(openai.chat.completions.create({ model: 'gpt-4o', messages })).rejects.toThrow();
  });

  it('hang + client abort: recorded in aborted; close() still resolves with hung requests', async () => {
    fake.enqueue({ kind: 'hang' });
    fake.enqueue({ kind: 'hang' });
    const ac = new AbortController();
    const first = fetch(`${fake.openaiBaseUrl}/chat/completions`, { method: 'POST', body: '{"model":"a"}', signal: ac.signal });
    const second = fetch(`${fake.openaiBaseUrl}/chat/completions`, { method: 'POST', body: '{"model":"b"}' });
    await until(() => fake.requests.length === 2);
    expect(fake.openConnections()).toBe(2);

    ac.abort();
    await expect(first).rejects.toThrow();
    await until(() => fake.aborted.length === 1);
    expect(fake.aborted[0]?.body).toEqual({ model: 'a' });

    const secondFails = expect(second).rejects.toThrow(); // attached before close() makes it reject
    await fake.close(); // the second request is still hanging
    await secondFails;
    expect(fake.openConnections()).toBe(0);
  });

  it('delay, enqueue FIFO before setHandler, handler falls through to default on undefined', async () => {
    fake.setHandler((req) => (req.body?.model === 'teapot' ? { kind: 'json', status: 418, body: { error: { message: 'teapot' } } } : undefined));
    fake.enqueue({ kind: 'delay', ms: 50, then: { kind: 'json', body: { first: true } } });
    fake.enqueue((req) => ({ kind: 'json', body: { echoed: req.body.model } }));

    const post = (model: string) => fetch(`${fake.openaiBaseUrl}/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model, messages }),
    });
    const t0 = Date.now();
    expect(await (await post('teapot')).json()).toEqual({ first: true }); // queue wins over the handler
    expect(Date.now() - t0).toBeGreaterThanOrEqual(45);
    expect(await (await post('x')).json()).toEqual({ echoed: 'x' });
    expect((await post('teapot')).status).toBe(418);
    expect(((await (await post('gpt-4o')).json()) as { object: string }).object).toBe('chat.completion');
  });

  it('records method, path, headers, raw and parsed body, and keeps connections alive', async () => {
    await openai.chat.completions.create({ model: 'gpt-4o', messages });
    await openai.models.list();
    // Keep-alive: finished responses leave their sockets open, and further sequential
    // calls reuse them. (undici may open a second socket for the very next request,
    // before it has returned the first to the pool, hence no exact count.)
    const open = fake.openConnections();
    expect(open).toBeGreaterThanOrEqual(1);
    for (let i = 0; i < 5; i++) await openai.models.list();
    expect(fake.openConnections()).toBe(open);
    const [chat, models] = fake.requests;
    expect(chat).toMatchObject({ method: 'POST', path: '/v1/chat/completions', body: { model: 'gpt-4o', messages } });
    expect(chat?.headers.authorization).toBe('Bearer x');
    expect(chat?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(chat?.rawBody ?? '')).toEqual(chat?.body);
    expect(models).toMatchObject({ method: 'GET', path: '/v1/models', rawBody: '', body: undefined });

    await anthropic.messages.countTokens({ model: 'claude-sonnet-4-5', messages });
    // Note: @anthropic-ai/sdk 1.x sends apiKey as `Authorization: Bearer`, not `x-api-key`.
    const count = fake.requests.at(-1);
    expect(count?.path).toBe('/v1/messages/count_tokens');
    expect(count?.headers.authorization).toBe('Bearer x');
    expect(count?.headers['anthropic-version']).toBeDefined();
  });
});
