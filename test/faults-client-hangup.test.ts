// A client that hangs up (SPEC §3; issue 4 item 2): the upstream request is aborted at once (we
// stop paying), and the tokens relayed so far are counted with js-tiktoken and metered, estimated.
import { request as httpRequest } from 'node:http';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { countTokens } from '../src/estimate/tokenizer.js';
import {
  anthropicStreamEvents,
  createGate,
  openaiChatStreamEvents,
  startFakeProvider,
  type FakeProvider,
} from './helpers/fake-provider.js';
import { TEAM_KEY, startApp, type TestApp } from './helpers/app.js';
import { allRows, estimatedPromptTokens, o200kCount, readUntil, type Row } from './helpers/faults.js';

let fake: FakeProvider;
let tg: TestApp;

const MESSAGES = [{ role: 'user', content: 'Write a long essay about foxes, dogs and the space between them.' }];
/** The prompt estimate of a gpt-4o chat body with these messages, non-stream and stream. */
const PROMPT_TOKENS = estimatedPromptTokens({ model: 'gpt-4o', messages: MESSAGES });
const STREAM_PROMPT_TOKENS = estimatedPromptTokens({ model: 'gpt-4o', messages: MESSAGES, stream: true });
const PARTS = ['Foxes are', ' small omnivorous', ' mammals of the', ' family Canidae.', ' Dogs, too.'];

beforeAll(() => {
  // Tollgate builds its tokenizer on first use (~0.5 s of synchronous work). The fake provider shares
  // this process, so that pause would delay its view of the abort; build it before timing anything.
  countTokens('warm up', 'o200k_base');
});

beforeEach(async () => {
  fake = await startFakeProvider();
  // A long upstream timeout: only the hang-up itself can end the upstream call within the test's bounds.
  tg = await startApp(fake, { configure: (raw) => { raw.server.upstream_timeout_s = 60; } });
});

afterEach(async () => {
  await vi.waitFor(() => expect(tg.deps.budgets.openReservations()).toBe(0));
  await tg.close();
  await fake.close();
});

async function onlyRow(): Promise<Row> {
  let rows: Row[] = [];
  await vi.waitFor(async () => {
    rows = await allRows(tg.url);
    expect(rows).toHaveLength(1);
  });
  return rows[0]!;
}

function post(path: string, body: object, signal: AbortSignal, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${tg.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TEAM_KEY}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    signal,
  });
}

describe('client hang-up', () => {
  it('mid-stream (fetch aborted): upstream aborted at once; row estimated with the relayed text counted', async () => {
    const gate = createGate();
    fake.enqueue({ kind: 'sse', events: openaiChatStreamEvents({ model: 'gpt-4o', parts: PARTS, includeUsage: true }), gate });
    gate.release(2); // role chunk + PARTS[0]
    const ac = new AbortController();
    const res = await post('/v1/chat/completions', { model: 'gpt-4o', stream: true, messages: MESSAGES }, ac.signal);
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const got = { text: '' };
    await readUntil(reader, got, (t) => t.includes(JSON.stringify(PARTS[0])));
    gate.release(1); // PARTS[1]
    await readUntil(reader, got, (t) => t.includes(JSON.stringify(PARTS[1])));
    expect(fake.openConnections()).toBe(1);

    const t0 = performance.now();
    ac.abort();
    // The provider sees its client (Tollgate) go away while the stream is still open.
    // (openConnections() is no proof here: undici's pool re-opens an idle connection after an abort.)
    // "At once": seconds at most under a loaded machine, against a 60 s upstream timeout.
    await vi.waitFor(() => expect(fake.aborted).toHaveLength(1), { timeout: 3000 });
    expect(performance.now() - t0).toBeLessThan(3000);
    expect(fake.aborted[0]!.path).toBe('/v1/chat/completions');

    const row = await onlyRow();
    expect(row).toMatchObject({
      stream: true,
      estimated: true,
      input_tokens: STREAM_PROMPT_TOKENS,
      output_tokens: o200kCount(PARTS[0]! + PARTS[1]!),
    });
    expect(row.cost_usd).toBeGreaterThan(0);
    gate.releaseAll(); // nothing more may reach anyone
  });

  it('mid-stream (http.request destroyed after the first event) on an Anthropic stream', async () => {
    const gate = createGate();
    fake.enqueue({ kind: 'sse', events: anthropicStreamEvents({ model: 'claude-sonnet-4-20250514', parts: PARTS }), gate });
    gate.release(4); // message_start, content_block_start, ping, PARTS[0]
    const body = JSON.stringify({ model: 'claude-sonnet-4-20250514', max_tokens: 500, stream: true, messages: MESSAGES });
    const { port } = new URL(tg.url);
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest(
        { host: '127.0.0.1', port: Number(port), method: 'POST', path: '/v1/messages', headers: { 'x-api-key': TEAM_KEY, 'content-type': 'application/json' } },
        (res) => {
          expect(res.statusCode).toBe(200);
          let text = '';
          res.on('data', (c: Buffer) => {
            text += c.toString('utf8');
            if (text.includes(JSON.stringify(PARTS[0]))) {
              req.destroy();
              resolve();
            }
          });
          res.on('error', () => undefined);
        },
      );
      req.on('error', (e) => { if (!req.destroyed) reject(e); });
      req.end(body);
    });
    await vi.waitFor(() => expect(fake.aborted).toHaveLength(1), { timeout: 3000 });
    const row = await onlyRow();
    expect(row).toMatchObject({
      provider: 'anthropic',
      stream: true,
      estimated: true,
      output_tokens: o200kCount(PARTS[0]!),
      // message_start's reported input (900 + 400 cache reads + 100 cache writes) is kept.
      input_tokens: 1400,
    });
    gate.releaseAll();
  });

  it('before the provider answered (provider hangs): upstream aborted; row estimated with the prompt counted', async () => {
    fake.enqueue({ kind: 'hang' });
    const ac = new AbortController();
    const pending = post('/v1/chat/completions', { model: 'gpt-4o', messages: MESSAGES }, ac.signal).then(
      () => 'answered',
      () => 'aborted',
    );
    await vi.waitFor(() => expect(fake.requests).toHaveLength(1));
    expect(fake.openConnections()).toBe(1);
    ac.abort();
    expect(await pending).toBe('aborted');
    await vi.waitFor(() => expect(fake.aborted).toHaveLength(1), { timeout: 3000 });
    const row = await onlyRow();
    expect(row).toMatchObject({ stream: false, estimated: true, input_tokens: PROMPT_TOKENS, output_tokens: 0 });
    // gpt-4o input at $2.50 / 1M: the prompt we sent is what we may have paid for.
    expect(row.cost_usd).toBe(Math.round(PROMPT_TOKENS * 2.5 * 1000) / 1e9);
  });
});
