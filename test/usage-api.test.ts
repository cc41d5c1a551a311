// /usage and /usage/requests: group_by, from/to (inclusive/exclusive), CSV, refusals counted
// apart from requests, and newest-first cursor pagination — checked against rows made at known
// times with an injected clock.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeProvider, type FakeProvider } from './helpers/fake-provider.js';
import { ADMIN_KEY, OTHER_TEAM_KEY, TEAM_KEY, startApp, type TestApp } from './helpers/app.js';

let fake: FakeProvider;
let tg: TestApp;
let now = Date.parse('2026-11-10T09:30:00Z');

const admin = { authorization: `Bearer ${ADMIN_KEY}` };

async function chat(key: string, model: string): Promise<Response> {
  return fetch(`${tg.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 10 }),
  });
}

async function get(path: string): Promise<any> {
  const res = await fetch(`${tg.url}${path}`, { headers: admin });
  expect(res.status).toBe(200);
  return res.headers.get('content-type')?.includes('csv') ? res.text() : res.json();
}

// gpt-4o: 1000 uncached × 2.5 + 200 cached × 1.25 + 300 × 10 per 1M; gpt-4o-mini at 0.15 / 0.075 / 0.6.
const GPT4O = 0.00575;
const MINI = 0.000345;

beforeEach(async () => {
  now = Date.parse('2026-11-10T09:30:00Z');
  fake = await startFakeProvider();
  tg = await startApp(fake, {
    clock: () => now,
    configure: (raw) => {
      // Fits one gpt-4o-mini call ($0.000345) but not a second (its worst case, counted: ~$0.000007).
      raw.teams[1].budgets = [{ window: 'day', limit_usd: 0.00035, hard_cap: true }];
    },
  });
  // search: gpt-4o at 09:30 and 10:15 on the 10th, gpt-4o-mini on the 11th; ads: one gpt-4o-mini, then a refusal.
  expect((await chat(TEAM_KEY, 'gpt-4o')).status).toBe(200);
  now = Date.parse('2026-11-10T10:15:00Z');
  expect((await chat(TEAM_KEY, 'gpt-4o')).status).toBe(200);
  expect((await chat(OTHER_TEAM_KEY, 'gpt-4o-mini')).status).toBe(200);
  expect((await chat(OTHER_TEAM_KEY, 'gpt-4o-mini')).status).toBe(402);
  now = Date.parse('2026-11-11T08:00:00Z');
  expect((await chat(TEAM_KEY, 'gpt-4o-mini')).status).toBe(200);
});

afterEach(async () => {
  await tg.close();
  await fake.close();
});

describe('/usage', () => {
  it('totals this month by default, with refusals counted apart from requests', async () => {
    const u = await get('/usage');
    expect(u.from).toBe('2026-11-01T00:00:00.000Z');
    expect(u.totals).toMatchObject({ requests: 4, input_tokens: 4800, cached_input_tokens: 800, output_tokens: 1200, refused: 1 });
    expect(u.totals.cost_usd).toBeCloseTo(2 * GPT4O + 2 * MINI, 12);
    expect(u.groups).toEqual([]);
  });

  it('groups by team and model, and by day and hour', async () => {
    const byTeamModel = await get('/usage?group_by=team,model');
    expect(byTeamModel.group_by).toEqual(['team', 'model']);
    expect(byTeamModel.groups.map((g: any) => [g.team, g.model, g.requests, g.cost_usd])).toEqual([
      ['ads', 'gpt-4o-mini', 1, MINI],
      ['search', 'gpt-4o', 2, 2 * GPT4O],
      ['search', 'gpt-4o-mini', 1, MINI],
    ]);
    const byDay = await get('/usage?group_by=day&team=search');
    expect(byDay.groups.map((g: any) => [g.day, g.requests])).toEqual([
      ['2026-11-10', 2],
      ['2026-11-11', 1],
    ]);
    const byHour = await get('/usage?group_by=hour');
    expect(byHour.groups.map((g: any) => [g.hour, g.requests])).toEqual([
      ['2026-11-10T09:00:00Z', 1],
      ['2026-11-10T10:00:00Z', 2],
      ['2026-11-11T08:00:00Z', 1],
    ]);
    const byKey = await get('/usage?group_by=key');
    expect(byKey.groups).toHaveLength(2);
    for (const g of byKey.groups) expect(g.key).toMatch(/^key_[0-9a-f]{12}$/);
  });

  it('takes from inclusive and to exclusive', async () => {
    const exact = await get('/usage?from=2026-11-10T10:15:00Z&to=2026-11-11T08:00:00Z');
    expect(exact.totals.requests).toBe(2); // both 10:15 rows in, the 08:00 row on the 11th out
    const none = await get('/usage?from=2026-11-10T09:30:00.001Z&to=2026-11-10T10:15:00Z');
    expect(none.totals.requests).toBe(0);
  });

  it('reads times with an offset (an unencoded + arrives as a space) and times without one as UTC', async () => {
    const withOffset = await get('/usage?from=2026-11-10T11:15:00+01:00&to=2026-11-11T00:00:00+00:00');
    expect(withOffset.from).toBe('2026-11-10T10:15:00.000Z');
    expect(withOffset.totals.requests).toBe(2);
    const noOffset = await get('/usage?from=2026-11-10T10:15:00&to=2026-11-11T00:00:00');
    expect(noOffset.from).toBe('2026-11-10T10:15:00.000Z');
    expect(noOffset.totals.requests).toBe(2);
    // Only `to`: the month it ends in.
    const onlyTo = await get('/usage?to=2026-11-10T10:00:00Z');
    expect(onlyTo.from).toBe('2026-11-01T00:00:00.000Z');
    expect(onlyTo.totals.requests).toBe(1);
  });

  it('answers CSV, one row per group', async () => {
    const csv: string = await get('/usage?group_by=team&format=csv');
    const [header, ...rows] = csv.trim().split('\n');
    expect(header).toBe('team,requests,input_tokens,cached_input_tokens,cache_write_tokens,output_tokens,reasoning_tokens,audio_input_tokens,audio_output_tokens,cost_usd');
    expect(rows).toEqual([`ads,1,1200,200,0,300,50,0,0,${MINI}`, `search,3,3600,600,0,900,150,0,0,${2 * GPT4O + MINI}`]);
  });

  it('shows each team budget in the window of now: ads spent on the 10th, it is now the 11th', async () => {
    const u = await get('/usage?team=ads');
    expect(u.budgets).toEqual([
      {
        team: 'ads', window: 'day', limit_usd: 0.00035, spent_usd: 0, reserved_usd: 0, remaining_usd: 0.00035,
        window_start: '2026-11-11T00:00:00.000Z', resets_at: '2026-11-12T00:00:00.000Z', hard_cap: true, alerts_fired: [],
      },
    ]);
    const tenth = await get('/usage?team=ads&from=2026-11-10T00:00:00Z&to=2026-11-11T00:00:00Z');
    expect(tenth.totals).toMatchObject({ requests: 1, refused: 1, cost_usd: MINI });
  });

  it('rejects a bad group_by, range or format with 400', async () => {
    for (const q of ['group_by=colour', 'from=yesterday', 'format=xml', 'from=2026-11-12T00:00:00Z&to=2026-11-01T00:00:00Z']) {
      const res = await fetch(`${tg.url}/usage?${q}`, { headers: admin });
      expect(res.status, q).toBe(400);
      expect(((await res.json()) as any).error.type).toBe('invalid_request_error');
    }
  });
});

describe('/usage/requests', () => {
  it('pages newest first with a cursor until null', async () => {
    const seen: any[] = [];
    let cursor = '';
    for (let page = 0; page < 10; page++) {
      const r = await get(`/usage/requests?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...r.data);
      if (r.next_cursor === null) break;
      cursor = r.next_cursor;
    }
    expect(seen.map((r) => [r.ts, r.team, r.model])).toEqual([
      ['2026-11-11T08:00:00.000Z', 'search', 'gpt-4o-mini'],
      ['2026-11-10T10:15:00.000Z', 'ads', 'gpt-4o-mini'],
      ['2026-11-10T10:15:00.000Z', 'search', 'gpt-4o'],
      ['2026-11-10T09:30:00.000Z', 'search', 'gpt-4o'],
    ]);
    expect(new Set(seen.map((r) => r.id)).size).toBe(4);
    expect(seen[0]).toMatchObject({ key_id: expect.stringMatching(/^key_/), price_source: expect.stringContaining('genai-prices'), unpriced: false });
  });

  it('rejects a forged cursor and a bad limit', async () => {
    expect((await fetch(`${tg.url}/usage/requests?cursor=bm9wZQ`, { headers: admin })).status).toBe(400);
    expect((await fetch(`${tg.url}/usage/requests?limit=0`, { headers: admin })).status).toBe(400);
  });
});
