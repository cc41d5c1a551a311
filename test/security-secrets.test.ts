// Secrets and isolation (SPEC §1, §3, §6; issue 4 item 6): a team key reads its own team only,
// reads need a key, the client's key never travels upstream, and no secret (provider or Tollgate
// key) shows up in any log line of any app in this process, in any response, or in the database.
import { readFileSync, existsSync } from 'node:fs';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startFakeProvider, type FakeProvider } from './helpers/fake-provider.js';
import {
  ADMIN_KEY,
  ANTHROPIC_PROVIDER_KEY,
  OTHER_TEAM_KEY,
  PROVIDER_KEY,
  SECRETS,
  TEAM_KEY,
  allLogLines,
  startApp,
  type TestApp,
} from './helpers/app.js';
import { allRows, closedPort } from './helpers/faults.js';

let fake: FakeProvider;
let tg: TestApp;
let down: TestApp; // its providers point at a closed port
/** Everything any response in this file carried: status line, headers and body. */
const seen: string[] = [];
/** Wrong keys shaped like real ones: refused, and never written anywhere either. */
const WRONG_KEYS = [
  'sk-proj-Zq7vXwP3kLm9NbR2tYc8HfJd4sGa6EuQ1oWi5',
  `${TEAM_KEY}x`,
  TEAM_KEY.slice(0, -1),
  `sk-ant-api03-${'Qm9vYmFy'.repeat(6)}-AA`,
  ADMIN_KEY.toUpperCase(),
];

async function call(url: string, init: RequestInit = {}): Promise<{ status: number; body: string; headers: Headers }> {
  const res = await fetch(url, init);
  const body = await res.text().catch(() => '<cut>'); // a cut stream ends the body early
  seen.push(`${res.status}\n${[...res.headers].map(([k, v]) => `${k}: ${v}`).join('\n')}\n\n${body}`);
  return { status: res.status, body, headers: res.headers };
}
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const json = (b: string) => JSON.parse(b) as Record<string, any>;

function post(path: string, key: Record<string, string>, body: object, app = tg) {
  return call(`${app.url}${path}`, { method: 'POST', headers: { ...key, 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

beforeAll(async () => {
  fake = await startFakeProvider();
  tg = await startApp(fake, { configure: (raw) => { raw.server.upstream_timeout_s = 0.5; } });
  const port = await closedPort();
  down = await startApp(fake, {
    configure: (raw) => {
      raw.server.upstream_timeout_s = 0.5;
      for (const p of raw.providers) p.base_url = p.api === 'openai' ? `http://127.0.0.1:${port}/v1` : `http://127.0.0.1:${port}`;
    },
  });
  // Traffic for both teams, so isolation has something to hide.
  const chat = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] };
  for (let i = 0; i < 3; i++) expect((await post('/v1/chat/completions', bearer(TEAM_KEY), chat)).status).toBe(200);
  for (let i = 0; i < 2; i++) expect((await post('/v1/chat/completions', bearer(OTHER_TEAM_KEY), chat)).status).toBe(200);
});

afterAll(async () => {
  await vi.waitFor(() => expect(tg.deps.budgets.openReservations()).toBe(0));
  await down.close();
  await tg.close();
  await fake.close();
});

describe('team isolation on read endpoints', () => {
  it('/usage: a team key sees its own team only; another team → 403; no or wrong key → 401; admin sees all', async () => {
    const own = await call(`${tg.url}/usage?group_by=team`, { headers: bearer(TEAM_KEY) });
    expect(own.status).toBe(200);
    const ownBody = json(own.body);
    expect(ownBody.groups.map((g: any) => g.team)).toEqual(['search']);
    expect(ownBody.totals.requests).toBe(3);
    expect(ownBody.budgets.every((b: any) => b.team === 'search')).toBe(true);

    const otherOwn = json((await call(`${tg.url}/usage?group_by=team`, { headers: { 'x-api-key': OTHER_TEAM_KEY } })).body);
    expect(otherOwn.groups.map((g: any) => g.team)).toEqual(['ads']);
    expect(otherOwn.totals.requests).toBe(2);

    const cross = await call(`${tg.url}/usage?team=ads`, { headers: bearer(TEAM_KEY) });
    expect(cross.status).toBe(403);
    expect(json(cross.body)).toEqual({ error: { code: 'team_forbidden', type: expect.any(String), param: null, message: expect.any(String) } });
    expect((await call(`${tg.url}/usage?team=search`, { headers: bearer(OTHER_TEAM_KEY) })).status).toBe(403);
    expect((await call(`${tg.url}/usage?team=ads&format=csv`, { headers: bearer(TEAM_KEY) })).status).toBe(403);

    const none = await call(`${tg.url}/usage`);
    expect(none.status).toBe(401);
    expect(json(none.body).error.code).toBe('invalid_api_key');
    for (const k of WRONG_KEYS) expect((await call(`${tg.url}/usage`, { headers: bearer(k) })).status).toBe(401);

    const admin = json((await call(`${tg.url}/usage?group_by=team`, { headers: bearer(ADMIN_KEY) })).body);
    expect(admin.groups.map((g: any) => g.team).sort()).toEqual(['ads', 'search']);
    expect(admin.totals.requests).toBe(5);
    const adminAds = json((await call(`${tg.url}/usage?team=ads`, { headers: bearer(ADMIN_KEY) })).body);
    expect(adminAds.totals.requests).toBe(2);
  });

  it('/usage/requests: a team key sees its own rows only; another team → 403; no key → 401; admin sees all', async () => {
    const own = await allRows(tg.url, TEAM_KEY);
    expect(own).toHaveLength(3);
    expect(new Set(own.map((r) => r.team))).toEqual(new Set(['search']));
    const ads = await allRows(tg.url, OTHER_TEAM_KEY);
    expect(ads).toHaveLength(2);
    expect(new Set(ads.map((r) => r.team))).toEqual(new Set(['ads']));
    expect((await call(`${tg.url}/usage/requests?team=ads`, { headers: bearer(TEAM_KEY) })).status).toBe(403);
    expect((await call(`${tg.url}/usage/requests?team=search`, { headers: { 'x-api-key': OTHER_TEAM_KEY } })).status).toBe(403);
    expect((await call(`${tg.url}/usage/requests`)).status).toBe(401);
    expect((await call(`${tg.url}/usage/requests`, { headers: bearer(WRONG_KEYS[0]!) })).status).toBe(401);
    const all = await allRows(tg.url, ADMIN_KEY);
    expect(all.length).toBeGreaterThanOrEqual(5);
    expect(new Set(all.map((r) => r.team))).toEqual(new Set(['search', 'ads']));
    // A row names its key by a non-secret id, never the key.
    for (const r of all) {
      expect(r.key_id).toMatch(/^key_[0-9a-f]{12}$/);
      for (const s of SECRETS) expect(JSON.stringify(r)).not.toContain(s);
    }
  });

  it('/alerts/deliveries and /metrics: other team → 403, no key → 401, /metrics admin only', async () => {
    expect((await call(`${tg.url}/alerts/deliveries?team=ads`, { headers: bearer(TEAM_KEY) })).status).toBe(403);
    expect((await call(`${tg.url}/alerts/deliveries`)).status).toBe(401);
    expect((await call(`${tg.url}/alerts/deliveries`, { headers: bearer(TEAM_KEY) })).status).toBe(200);
    expect((await call(`${tg.url}/metrics`)).status).toBe(401);
    expect((await call(`${tg.url}/metrics`, { headers: bearer(TEAM_KEY) })).status).toBe(403);
    const metrics = await call(`${tg.url}/metrics`, { headers: bearer(ADMIN_KEY) });
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain('tollgate_requests_total');
  });

  it('an admin key is not a team key: proxied calls with it are refused and nothing is forwarded', async () => {
    const before = fake.requests.length;
    const res = await post('/v1/chat/completions', bearer(ADMIN_KEY), { model: 'gpt-4o', messages: [] });
    expect(res.status).toBe(403);
    expect(fake.requests.length).toBe(before);
  });
});

describe('keys upstream', () => {
  it('the client key never reaches the provider; the provider key is Tollgate’s, per provider', async () => {
    const before = fake.requests.length;
    const openai = new OpenAI({ apiKey: TEAM_KEY, baseURL: `${tg.url}/v1`, maxRetries: 0 });
    await openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
    const stream = await openai.chat.completions.create({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    for await (const _ of stream) { /* drain */ }
    await openai.embeddings.create({ model: 'text-embedding-3-small', input: 'hi' });
    const anthropic = new Anthropic({ apiKey: TEAM_KEY, baseURL: tg.url, maxRetries: 0 });
    await anthropic.messages.create({ model: 'claude-sonnet-4-20250514', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });
    await anthropic.messages.countTokens({ model: 'claude-sonnet-4-20250514', messages: [{ role: 'user', content: 'hi' }] });
    // Both headers at once, the Anthropic way and the OpenAI way.
    await post('/v1/messages', { 'x-api-key': TEAM_KEY, authorization: `Bearer ${TEAM_KEY}` }, { model: 'claude-sonnet-4-20250514', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] });
    await post('/v1/chat/completions', { 'x-api-key': TEAM_KEY, authorization: `Bearer ${TEAM_KEY}` }, { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });

    const sent = fake.requests.slice(before);
    expect(sent.length).toBe(7);
    for (const r of sent) {
      const wire = JSON.stringify(r.headers) + r.rawBody;
      for (const k of [TEAM_KEY, OTHER_TEAM_KEY, ADMIN_KEY]) expect(wire).not.toContain(k);
      if (r.path.startsWith('/v1/messages')) {
        expect(r.headers['x-api-key']).toBe(ANTHROPIC_PROVIDER_KEY);
        expect(r.headers.authorization).toBeUndefined();
        expect(wire).not.toContain(PROVIDER_KEY);
      } else {
        expect(r.headers.authorization).toBe(`Bearer ${PROVIDER_KEY}`);
        expect(r.headers['x-api-key']).toBeUndefined();
        expect(wire).not.toContain(ANTHROPIC_PROVIDER_KEY);
      }
    }
  });
});

describe('no secret in logs, responses or the database', () => {
  it('after traffic of every kind (successes, 401s with look-alike keys, provider errors, faults)', async () => {
    const chat = { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] };
    const msg = { model: 'claude-sonnet-4-20250514', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] };
    // Wrong keys in every place a key can go.
    for (const k of WRONG_KEYS) {
      expect((await post('/v1/chat/completions', bearer(k), chat)).status).toBe(401);
      expect((await post('/v1/messages', { 'x-api-key': k }, msg)).status).toBe(401);
      expect((await call(`${tg.url}/v1/models`, { headers: bearer(k) })).status).toBe(401);
      expect((await call(`${tg.url}/metrics`, { headers: { 'x-api-key': k } })).status).toBe(401);
    }
    expect((await post('/v1/chat/completions', { authorization: `Basic ${Buffer.from(`u:${TEAM_KEY}`).toString('base64')}` }, chat)).status).toBe(401);
    expect((await post('/v1/chat/completions', { authorization: TEAM_KEY }, chat)).status).toBe(401);
    // Model not allowed, not found, not priced, bad bodies.
    expect((await post('/v1/chat/completions', bearer(OTHER_TEAM_KEY), chat)).status).toBe(403);
    expect((await post('/v1/chat/completions', bearer(TEAM_KEY), { model: 'nobody-serves-this', messages: [] })).status).toBe(404);
    expect((await post('/v1/chat/completions', bearer(TEAM_KEY), { model: 'gpt-unpriced-xyz', messages: [] })).status).toBe(400);
    expect((await call(`${tg.url}/v1/chat/completions`, { method: 'POST', headers: bearer(TEAM_KEY), body: '{not json' })).status).toBe(400);
    // Provider errors, including one that (like OpenAI's) talks about the key it got.
    fake.enqueue({ kind: 'json', status: 401, body: { error: { message: 'Incorrect API key provided: sk-provi****dddd.', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } } });
    expect((await post('/v1/chat/completions', bearer(TEAM_KEY), chat)).status).toBe(401);
    fake.enqueue({ kind: 'json', status: 529, body: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } } });
    expect((await post('/v1/messages', { 'x-api-key': TEAM_KEY }, msg)).status).toBe(529);
    fake.enqueue({ kind: 'json', status: 500, body: { error: { message: 'boom', type: 'server_error' } } });
    expect((await post('/v1/chat/completions', bearer(TEAM_KEY), chat)).status).toBe(500);
    // Faults: reset, timeout, garbage, unreachable, a cut stream.
    fake.enqueue({ kind: 'reset' });
    expect((await post('/v1/chat/completions', bearer(TEAM_KEY), chat)).status).toBe(502);
    fake.enqueue({ kind: 'hang' });
    expect((await post('/v1/messages', { 'x-api-key': TEAM_KEY }, msg)).status).toBe(504);
    fake.enqueue({ kind: 'raw', status: 200, body: 'garbage, not JSON' });
    expect((await post('/v1/chat/completions', bearer(TEAM_KEY), chat)).status).toBe(200);
    expect((await post('/v1/chat/completions', bearer(TEAM_KEY), chat, down)).status).toBe(502);
    expect((await post('/v1/messages', { 'x-api-key': TEAM_KEY }, msg, down)).status).toBe(502);
    fake.enqueue((req) => ({ kind: 'sse', events: ['data: {"choices":[{"delta":{"content":"Hi"}}]}\n\n', 'data: [DONE]\n\n'], cutAfter: 1, headers: { 'x-seen-path': req.path } }));
    await post('/v1/chat/completions', bearer(TEAM_KEY), { ...chat, stream: true });
    // Reads with every kind of key.
    for (const k of [TEAM_KEY, OTHER_TEAM_KEY, ADMIN_KEY]) {
      for (const path of ['/usage', '/usage?format=csv&group_by=team,key,model', '/usage/requests?limit=1000', '/alerts/deliveries', '/v1/models', '/metrics']) {
        await call(`${tg.url}${path}`, { headers: bearer(k) });
      }
    }
    await vi.waitFor(() => expect(tg.deps.budgets.openReservations()).toBe(0));
    await vi.waitFor(() => expect(down.deps.budgets.openReservations()).toBe(0));

    // Logs: every line of every app built in this process (debug level).
    expect(allLogLines.length).toBeGreaterThan(50);
    const logs = allLogLines.join('\n');
    for (const s of [...SECRETS, ...WRONG_KEYS]) expect(logs, `a log line holds ${s.slice(0, 8)}…`).not.toContain(s);
    // Responses: status, headers and body of everything seen in this file.
    expect(seen.length).toBeGreaterThan(50);
    const responses = seen.join('\n');
    for (const s of [...SECRETS, ...WRONG_KEYS]) expect(responses, `a response holds ${s.slice(0, 8)}…`).not.toContain(s);
    // The database, its WAL and shared memory, byte for byte.
    for (const app of [tg, down]) {
      for (const file of [app.dbPath, `${app.dbPath}-wal`, `${app.dbPath}-shm`]) {
        if (!existsSync(file)) continue;
        const bytes = readFileSync(file);
        for (const s of [...SECRETS, ...WRONG_KEYS]) expect(bytes.includes(Buffer.from(s)), `${file} holds ${s.slice(0, 8)}…`).toBe(false);
      }
      expect(existsSync(app.dbPath)).toBe(true);
    }
  });
});
