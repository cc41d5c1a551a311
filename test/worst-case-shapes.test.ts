// Hard caps without holes (issue 7): one test per request shape that used to pass a cap. Each
// sets a day cap the request's true worst case exceeds, but that the old reading of the body
// (first limit found, raw-text search, a recount that skipped fields, hosted tools and item
// references at almost nothing) fitted: the request must be refused before anything is forwarded.
import OpenAI from 'openai';
import { connect } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeProvider, type FakeProvider } from './helpers/fake-provider.js';
import { ADMIN_KEY, startApp, TEAM_KEY, type TestApp } from './helpers/app.js';
import { o200kCount } from './helpers/faults.js';

let fake: FakeProvider;
let tg: TestApp | undefined;

beforeEach(async () => {
  fake = await startFakeProvider();
});
afterEach(async () => {
  if (tg) expect(tg.deps.budgets.openReservations()).toBe(0);
  await tg?.close();
  tg = undefined;
  await fake.close();
});

/** Tollgate with team `search` capped at `limitUsd` a day; my-finetune at $1 in / $10 out per 1M. */
async function capped(limitUsd: number): Promise<TestApp> {
  tg = await startApp(fake, {
    configure: (raw) => {
      raw.server.body_limit_mb = 4;
      raw.prices = { 'my-finetune': { input: 1, output: 10 } };
      raw.teams[0].budgets = [{ window: 'day', limit_usd: limitUsd }];
    },
  });
  return tg;
}

async function post(path: string, body: string): Promise<{ status: number; json: any; headers: Headers }> {
  const anthropic = path.startsWith('/v1/messages');
  const res = await fetch(`${(tg as TestApp).url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(anthropic ? { 'x-api-key': TEAM_KEY, 'anthropic-version': '2023-06-01' } : { authorization: `Bearer ${TEAM_KEY}` }) },
    body,
  });
  return { status: res.status, json: await res.json(), headers: res.headers };
}

/** Refused with a clean 402 and nothing forwarded. */
async function expectRefused(path: string, body: unknown): Promise<void> {
  const before = fake.requests.length;
  const res = await post(path, typeof body === 'string' ? body : JSON.stringify(body));
  expect(res.status, JSON.stringify(res.json).slice(0, 300)).toBe(402);
  expect(res.headers.get('x-should-retry')).toBe('false');
  expect(fake.requests).toHaveLength(before);
}

/** The control: the same request without the hole fits the cap (so the refusal above is the hole's). */
async function expectAdmitted(path: string, body: unknown): Promise<void> {
  const res = await post(path, typeof body === 'string' ? body : JSON.stringify(body));
  expect(res.status, JSON.stringify(res.json).slice(0, 300)).toBe(200);
}

/** Prose of about `tokens` o200k tokens, with real words so a tokenizer count is far below its bytes. */
function prose(tokens: number): string {
  const sentence = 'The ledger keeps every request and prices it exactly at the rate in force. ';
  return sentence.repeat(Math.ceil(tokens / o200kCount(sentence)));
}

describe('output bound', () => {
  it('takes the largest of every output limit: max_completion_tokens 1 beside max_tokens 20,000', async () => {
    // 20,000 × $10/1M = $0.20 of output; the first limit alone (1 token) is $0.00001.
    await capped(0.05);
    await expectAdmitted('/v1/chat/completions', { model: 'my-finetune', max_completion_tokens: 1, messages: [{ role: 'user', content: 'hi' }] });
    await expectRefused('/v1/chat/completions', { model: 'my-finetune', max_completion_tokens: 1, max_tokens: 20_000, messages: [{ role: 'user', content: 'hi' }] });
  });

  it('reads n sent as a string: n "8" × 1,000 tokens', async () => {
    await capped(0.03); // 8,000 × $10/1M = $0.08; one choice would be $0.01
    await expectAdmitted('/v1/chat/completions', { model: 'my-finetune', n: '1', max_tokens: 1000, messages: [{ role: 'user', content: 'hi' }] });
    await expectRefused('/v1/chat/completions', { model: 'my-finetune', n: '8', max_tokens: 1000, messages: [{ role: 'user', content: 'hi' }] });
  });

  it('counts an Anthropic thinking budget above max_tokens', async () => {
    // claude-sonnet-4: $15/1M output; a 30,000-token thinking budget is $0.45, max_tokens 100 alone $0.0015.
    await capped(0.1);
    await expectAdmitted('/v1/messages', { model: 'claude-sonnet-4-20250514', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] });
    await expectRefused('/v1/messages', { model: 'claude-sonnet-4-20250514', max_tokens: 100, thinking: { type: 'enabled', budget_tokens: 30_000 }, messages: [{ role: 'user', content: 'hi' }] });
  });
});

describe('rates decided from the parsed body', () => {
  it('a 1-hour cache_control written with JSON escapes is priced at the 1-hour write rate', async () => {
    // claude-sonnet-4: input $3, 1-hour cache writes $6 per 1M. ~20,000 tokens of prose, counted
    // ×1.5: ~$0.09 at the input rate, ~$0.18 at the write rate.
    await capped(0.12);
    const request = (cacheControl: object | undefined) => ({
      model: 'claude-sonnet-4-20250514',
      max_tokens: 1,
      system: [{ type: 'text', text: prose(20_000), ...(cacheControl ? { cache_control: cacheControl } : {}) }],
      messages: [{ role: 'user', content: 'Summarise.' }],
    });
    await expectAdmitted('/v1/messages', request(undefined));
    const body = JSON.stringify(request({ type: 'ephemeral', ttl: '1h' })).replace('"cache_control"', '"cache\\u005fcontrol"');
    expect(body).not.toContain('"cache_control"');
    await expectRefused('/v1/messages', body);
  });
});

describe('the tokenizer recount covers every field the byte bound covers', () => {
  it('a Responses structured-output schema in text.format', async () => {
    // gpt-4o $2.50/1M input: ~20,000 tokens of schema text ≈ $0.05; the input itself is 1 token.
    await capped(0.02);
    const schema = (description: string) => ({ type: 'json_schema', name: 'answer', schema: { type: 'object', description, properties: {} } });
    await expectAdmitted('/v1/responses', { model: 'gpt-4o', input: 'hi', max_output_tokens: 16, text: { format: schema('short') } });
    await expectRefused('/v1/responses', {
      model: 'gpt-4o',
      input: 'hi',
      max_output_tokens: 16,
      text: { format: { type: 'json_schema', name: 'answer', schema: { type: 'object', description: prose(20_000), properties: {} } } },
    });
  });

  it('chat function_call.arguments', async () => {
    await capped(0.02);
    const call = (args: string) => ({
      model: 'gpt-4o',
      max_tokens: 16,
      messages: [
        { role: 'user', content: 'go' },
        { role: 'assistant', content: null, function_call: { name: 'lookup', arguments: args } },
        { role: 'function', name: 'lookup', content: 'ok' },
      ],
    });
    await expectAdmitted('/v1/chat/completions', call('{"q":"short"}'));
    await expectRefused('/v1/chat/completions', {
      model: 'gpt-4o',
      max_tokens: 16,
      messages: [
        { role: 'user', content: 'go' },
        { role: 'assistant', content: null, function_call: { name: 'lookup', arguments: JSON.stringify({ q: prose(20_000) }) } },
        { role: 'function', name: 'lookup', content: 'ok' },
      ],
    });
  });
});

describe('unseen input at ceilings', () => {
  // A context window of claude-sonnet-4 (200,000 × $3/1M = $0.60) or gpt-4o (128,000 × $2.50/1M = $0.32).
  const claude = (extra: Record<string, unknown>) => ({ model: 'claude-sonnet-4-20250514', max_tokens: 10, messages: [{ role: 'user', content: 'look it up' }], ...extra });

  it('Anthropic web_fetch tool', async () => {
    await capped(0.05);
    await expectAdmitted('/v1/messages', claude({ tools: [{ name: 'lookup', input_schema: { type: 'object' } }] }));
    await expectRefused('/v1/messages', claude({ tools: [{ type: 'web_fetch_20250910', name: 'web_fetch', max_uses: 5 }] }));
  });

  it('Anthropic code_execution tool', async () => {
    await capped(0.05);
    await expectRefused('/v1/messages', claude({ tools: [{ type: 'code_execution_20250825', name: 'code_execution' }] }));
  });

  it('Anthropic mcp_servers', async () => {
    await capped(0.05);
    await expectRefused('/v1/messages', claude({ mcp_servers: [{ type: 'url', url: 'https://mcp.example/sse', name: 'tickets' }] }));
  });

  it('Responses item_reference inputs', async () => {
    await capped(0.05);
    await expectAdmitted('/v1/responses', { model: 'gpt-4o', max_output_tokens: 16, input: [{ role: 'user', content: 'and?' }] });
    await expectRefused('/v1/responses', { model: 'gpt-4o', max_output_tokens: 16, input: [{ type: 'item_reference', id: 'msg_0123' }, { role: 'user', content: 'and?' }] });
  });
});

describe('what is forwarded is what was priced', () => {
  it('a key given twice is forwarded as parsed (the last one), so a provider reading the first cannot exceed the reservation', async () => {
    await capped(0.05);
    const res = await post('/v1/chat/completions', '{"model":"my-finetune","max_tokens":20000,"max_tokens":16,"messages":[{"role":"user","content":"hi"}]}');
    expect(res.status).toBe(200);
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]?.rawBody).toBe('{"model":"my-finetune","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}');
    // The other order means 20,000 and is refused.
    await expectRefusedAfter(1, '{"model":"my-finetune","max_tokens":16,"max_tokens":20000,"messages":[{"role":"user","content":"hi"}]}');
  });
});

async function expectRefusedAfter(forwarded: number, body: string): Promise<void> {
  const res = await post('/v1/chat/completions', body);
  expect(res.status).toBe(402);
  expect(fake.requests).toHaveLength(forwarded);
}

describe('contract gaps', () => {
  it('503 provider_not_configured carries x-should-retry: false, and the OpenAI SDK does not retry it', async () => {
    tg = await startApp(fake, { configure: (raw) => { delete raw.providers[0].api_key; } });
    let seen = 0;
    tg.app.server.on('request', () => { seen++; });
    const client = new OpenAI({ apiKey: TEAM_KEY, baseURL: `${tg.url}/v1`, maxRetries: 2 });
    const err = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(503);
    expect((err as InstanceType<typeof OpenAI.APIError>).headers?.get('x-should-retry')).toBe('false');
    expect(seen).toBe(1);
  });

  it('a query parameter given twice is 400 invalid_query on every reading endpoint', async () => {
    tg = await startApp(fake);
    for (const path of ['/usage?team=search&team=ads', '/usage/requests?limit=1&limit=2', '/usage/projection?team=a&team=b', '/alerts/deliveries?team=x&team=y', '/usage?group_by=team&group_by=model']) {
      const res = await fetch(`${tg.url}${path}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
      expect(res.status, path).toBe(400);
      expect(((await res.json()) as any).error.code, path).toBe('invalid_query');
    }
  });

  it('a client that writes its whole over-limit body before reading still reads the 413', async () => {
    tg = await startApp(fake); // body_limit_mb: 1
    const port = Number(new URL(tg.url).port);
    const body = Buffer.alloc(24 * 1024 * 1024, 0x61);
    const answer = await new Promise<string>((resolve) => {
      const sock = connect(port, '127.0.0.1');
      sock.pause(); // like Python's http.client: read nothing until the body is written
      let got = '';
      sock.on('error', (e: NodeJS.ErrnoException) => resolve(`socket error ${e.code}`));
      sock.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nauthorization: Bearer ${TEAM_KEY}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`);
      sock.write(body, (err) => {
        if (err) return;
        sock.on('data', (c: Buffer) => { got += c.toString('utf8'); });
        sock.on('end', () => resolve(got));
        sock.resume();
      });
    });
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer).toContain('"code":"request_too_large"');
    expect(fake.requests).toHaveLength(0);
  });
});
