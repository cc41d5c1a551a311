// Cases a review found: work accepted for later, streams that end without final usage, a client
// that stops reading, hang-ups in the log, and webhook URLs (credentials) kept from team keys.
import { connect } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { anthropicStreamEvents, openaiChatStreamEvents, startFakeProvider, type FakeProvider } from './helpers/fake-provider.js';
import { ADMIN_KEY, TEAM_KEY, startApp, type StartOptions, type TestApp } from './helpers/app.js';

let fake: FakeProvider;
let tg: TestApp;

async function start(opts: StartOptions = {}): Promise<void> {
  fake = await startFakeProvider();
  tg = await startApp(fake, opts);
}

afterEach(async () => {
  await vi.waitFor(() => expect(tg.deps.budgets.openReservations()).toBe(0), { timeout: 5000 });
  await tg.close();
  await fake.close();
});

async function rows(): Promise<any[]> {
  const res = await fetch(`${tg.url}/usage/requests`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
  return ((await res.json()) as any).data;
}

const post = (path: string, body: unknown, key = TEAM_KEY) =>
  fetch(`${tg.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('review fixes', () => {
  it('a background Responses job (queued, no usage) is recorded at its worst case, estimated', async () => {
    await start();
    fake.enqueue({ kind: 'json', body: { id: 'resp_bg', object: 'response', status: 'queued', model: 'gpt-4o', output: [], usage: null } });
    const body = { model: 'gpt-4o', input: 'write a long report', background: true, max_output_tokens: 1000 };
    expect((await post('/v1/responses', body)).status).toBe(200);
    const [row] = await rows();
    const bytes = Buffer.byteLength(JSON.stringify(body));
    // Worst case: every body byte an input token at $2.50, 1000 output tokens at $10 per 1M.
    expect(row).toMatchObject({ estimated: true, input_tokens: bytes, output_tokens: 1000, cost_usd: (bytes * 2500 + 1000 * 10_000) / 1e9 });
  });

  it('an Anthropic stream that ends without message_delta is estimated from the text, not billed 1 output token', async () => {
    await start();
    const parts = Array.from({ length: 50 }, (_, i) => `word${i} `);
    const events = anthropicStreamEvents({ model: 'claude-sonnet-4-20250514', parts }).filter((e) => !e.startsWith('event: message_delta'));
    fake.enqueue({ kind: 'sse', events: [...events.slice(0, -1), 'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n'] });
    const res = await post('/v1/messages', { model: 'claude-sonnet-4-20250514', max_tokens: 500, stream: true, messages: [{ role: 'user', content: 'hi' }] });
    await res.text();
    await vi.waitFor(async () => expect(await rows()).toHaveLength(1));
    const [row] = await rows();
    expect(row.estimated).toBe(true);
    expect(row.output_tokens).toBeGreaterThan(50); // 50 words relayed, not message_start's placeholder 1
    expect(row.input_tokens).toBe(900 + 400 + 100); // message_start's real input count is kept
  });

  it('a client that stops reading a stream is cut after the upstream timeout and its request settled', async () => {
    await start({ configure: (raw) => { raw.server.upstream_timeout_s = 0.5; } });
    // 16 MB of events: far more than the socket buffers hold while nobody reads.
    const big = 'x'.repeat(8_000);
    fake.enqueue({ kind: 'sse', events: openaiChatStreamEvents({ model: 'gpt-4o', includeUsage: true, parts: Array.from({ length: 2_000 }, () => big) }) });
    const url = new URL(tg.url);
    const socket = connect(Number(url.port), url.hostname);
    const body = JSON.stringify({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    socket.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${TEAM_KEY}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    socket.pause(); // never read
    try {
      await vi.waitFor(async () => expect(await rows()).toHaveLength(1), { timeout: 10_000 });
      const [row] = await rows();
      expect(row).toMatchObject({ estimated: true, status: 200 });
      await vi.waitFor(() => expect(fake.aborted).toHaveLength(1), { timeout: 5_000 });
    } finally {
      socket.destroy();
    }
  });

  it('a client hang-up is not logged as an error', async () => {
    await start();
    fake.enqueue({ kind: 'hang' });
    const pending = post('/v1/chat/completions', { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }).catch(() => 'closed');
    await vi.waitFor(() => expect(fake.requests).toHaveLength(1));
    // The connection goes away while the provider has not answered: as when a client leaves.
    tg.app.server.closeAllConnections();
    expect(await pending).toBe('closed');
    await vi.waitFor(async () => expect(await rows()).toHaveLength(1));
    const errors = tg.logs.map((l) => JSON.parse(l)).filter((l) => l.level >= 50);
    expect(errors.map((l) => l.msg)).toEqual([]);
  });

  it('team keys see a webhook delivery’s host only; admins see its URL', async () => {
    let hits = 0;
    const { createServer } = await import('node:http');
    const receiver = createServer((_req, res) => {
      hits++;
      res.end('ok');
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
    const port = (receiver.address() as { port: number }).port;
    const hook = `http://127.0.0.1:${port}/services/T000/B000/xoxSECRETtoken`;
    await start({
      configure: (raw) => {
        raw.teams[0].budgets = [{ window: 'month', limit_usd: 0.001, alert_at: [0.5], hard_cap: false }];
        raw.alerts = { webhooks: [{ url: hook, format: 'slack' }] };
      },
    });
    try {
      expect((await post('/v1/chat/completions', { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] })).status).toBe(200);
      await vi.waitFor(() => expect(hits).toBe(1));
      const asTeam = (await (await fetch(`${tg.url}/alerts/deliveries`, { headers: { authorization: `Bearer ${TEAM_KEY}` } })).json()) as any;
      expect(asTeam.data[0].url).toBe(`http://127.0.0.1:${port}`);
      expect(JSON.stringify(asTeam)).not.toContain('xoxSECRETtoken');
      const asAdmin = (await (await fetch(`${tg.url}/alerts/deliveries`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })).json()) as any;
      expect(asAdmin.data[0].url).toBe(hook);
    } finally {
      receiver.close();
    }
  });
});
