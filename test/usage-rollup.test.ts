// /usage and /metrics read an hourly rollup kept by a trigger (ledger/usage-query.ts,
// migrations */usage_hourly): on both ledgers, every report must equal the sums over the records
// themselves, for ranges that cut hours anywhere, and a ledger written before the rollup existed
// is backfilled when it upgrades.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { Counters, GroupKey, Ledger, LedgerRecord } from '../src/ledger/ledger.js';
import { PgLedger } from '../src/ledger/pg-ledger.js';
import { SqliteLedger } from '../src/ledger/sqlite-ledger.js';
import { splitByHour } from '../src/ledger/usage-query.js';
import { freshDatabase, LEDGERS } from './helpers/postgres.js';
import { usage } from './helpers/usage.js';

const H = 3_600_000;
const T0 = Date.parse('2026-11-10T00:00:00Z');

/** A small deterministic generator (mulberry32), so a failure can be replayed. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function records(n: number, seed: number): LedgerRecord[] {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  return Array.from({ length: n }, (_, i) => ({
    requestId: `req-${seed}-${i}`, ts: T0 + Math.floor(r() * 3 * 24 * H), team: pick(['search', 'ads', 'data']),
    keyId: pick(['key_a', 'key_b']), provider: pick(['openai', 'anthropic']), model: pick(['gpt-4o', 'gpt-4o-mini', 'claude-sonnet-4']),
    endpoint: '/v1/chat/completions', status: pick([200, 200, 200, 429, 0]), stream: r() < 0.5, latencyMs: 5,
    usage: usage({
      inputTokens: Math.floor(r() * 5000), cachedInputTokens: Math.floor(r() * 100), cacheWriteTokens: Math.floor(r() * 50),
      outputTokens: Math.floor(r() * 900), reasoningTokens: Math.floor(r() * 30), audioInputTokens: Math.floor(r() * 3),
      audioOutputTokens: Math.floor(r() * 3),
    }),
    costNano: Math.floor(r() * 1e7), estimated: false, unpriced: false, rates: null, priceSource: 'test', upstreamRequestId: null,
  }));
}

// ---- the test's own arithmetic over the records

const KEY_OF: Record<GroupKey, (rec: LedgerRecord) => string> = {
  team: (x) => x.team, model: (x) => x.model, provider: (x) => x.provider, key: (x) => x.keyId,
  day: (x) => new Date(x.ts).toISOString().slice(0, 10), hour: (x) => `${new Date(x.ts).toISOString().slice(0, 13)}:00:00Z`,
};

function sums(recs: LedgerRecord[]): Counters {
  const s = (f: (x: LedgerRecord) => number) => recs.reduce((a, x) => a + f(x), 0);
  return {
    requests: recs.length, input_tokens: s((x) => x.usage.inputTokens), cached_input_tokens: s((x) => x.usage.cachedInputTokens),
    cache_write_tokens: s((x) => x.usage.cacheWriteTokens), output_tokens: s((x) => x.usage.outputTokens),
    reasoning_tokens: s((x) => x.usage.reasoningTokens), audio_input_tokens: s((x) => x.usage.audioInputTokens),
    audio_output_tokens: s((x) => x.usage.audioOutputTokens), cost_nano: s((x) => x.costNano),
  };
}

function expected(recs: LedgerRecord[], from: number, to: number, team: string | undefined, groupBy: GroupKey[]) {
  const inRange = recs.filter((x) => x.ts >= from && x.ts < to && (team === undefined || x.team === team));
  const groups = new Map<string, LedgerRecord[]>();
  for (const x of inRange) {
    const k = JSON.stringify(groupBy.map((g) => KEY_OF[g](x)));
    groups.set(k, [...(groups.get(k) ?? []), x]);
  }
  const rows = [...groups.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, xs]) => ({ ...Object.fromEntries(groupBy.map((g, i) => [g, (JSON.parse(k) as string[])[i]])), ...sums(xs) }));
  return { totals: sums(inRange), groups: groupBy.length > 0 ? rows : [] };
}

// ---- the ledgers

async function open(kind: 'sqlite' | 'postgres', where: string): Promise<Ledger> {
  return kind === 'sqlite'
    ? new SqliteLedger(where, { checkpointIntervalMs: 60_000 })
    : PgLedger.open({ url: where, poolSize: 4, statementTimeoutMs: 30_000, leaseS: 30 });
}

async function place(kind: 'sqlite' | 'postgres'): Promise<string> {
  return kind === 'sqlite' ? join(mkdtempSync(join(tmpdir(), 'tollgate-rollup-')), 'ledger.db') : freshDatabase();
}

/** Back to the schema before the rollup: as a ledger written by an older Tollgate. */
async function dropRollup(kind: 'sqlite' | 'postgres', where: string): Promise<void> {
  if (kind === 'sqlite') {
    const db = new Database(where);
    db.exec("DROP TRIGGER requests_usage_hourly; DROP TABLE usage_hourly; DELETE FROM schema_migrations WHERE name LIKE '%usage_hourly%'");
    db.close();
  } else {
    const c = new pg.Client({ connectionString: where });
    await c.connect();
    await c.query("DROP TRIGGER requests_usage_hourly ON requests; DROP FUNCTION tollgate_usage_hourly(); DROP TABLE usage_hourly; DELETE FROM schema_migrations WHERE name LIKE '%usage_hourly%'");
    await c.end();
  }
}

function withoutRefused<T extends { totals: object }>(u: T): T {
  const { refused: _, ...totals } = u.totals as Counters & { refused: number };
  return { ...u, totals };
}

describe('splitByHour', () => {
  it('reads whole hours from the rollup and only the partial hours at the edges from the requests', () => {
    expect(splitByHour(T0 + 30 * 60_000, T0 + 5 * H + 1)).toEqual({
      hours: { from: T0 + H, to: T0 + 5 * H }, edges: [{ from: T0 + 30 * 60_000, to: T0 + H }, { from: T0 + 5 * H, to: T0 + 5 * H + 1 }],
    });
    expect(splitByHour(T0, T0 + 2 * H)).toEqual({ hours: { from: T0, to: T0 + 2 * H }, edges: [] });
    expect(splitByHour(T0 + 1, T0 + H - 1)).toEqual({ hours: undefined, edges: [{ from: T0 + 1, to: T0 + H - 1 }] });
    expect(splitByHour(T0 + 10, T0 + 10)).toEqual({ hours: undefined, edges: [] });
  });
});

describe.each(LEDGERS)('the hourly rollup on the %s ledger', (kind) => {
  const recs = records(3000, 7);
  const RANGES: [number, number][] = [
    [T0 - H, T0 + 4 * 24 * H], // everything
    [T0 + 90 * 60_000 + 123, T0 + 50 * H + 59 * 60_000], // cut inside hours at both ends
    [T0 + 5 * H, T0 + 29 * H], // whole hours only
    [T0 + 7 * H + 1, T0 + 7 * H + 40 * 60_000], // inside one hour
    [T0 + 3 * 24 * H + 5, T0 + 4 * 24 * H], // after the last record
  ];
  const GROUPINGS: GroupKey[][] = [[], ['team', 'model'], ['day'], ['hour', 'provider'], ['key', 'team', 'day']];

  it('every report equals the sums over the records, however the range cuts the hours', async () => {
    const where = await place(kind);
    const ledger = await open(kind, where);
    try {
      await Promise.all(recs.map((x) => ledger.settle(x, undefined)));
      for (const [from, to] of RANGES) {
        for (const groupBy of GROUPINGS) {
          for (const team of [undefined, 'ads']) {
            const got = withoutRefused(await ledger.usage({ from, to, team, groupBy }));
            expect(got, `${new Date(from).toISOString()}..${new Date(to).toISOString()} ${team} ${groupBy}`).toEqual(expected(recs, from, to, team, groupBy));
          }
        }
      }
      // /metrics totals by team, model, provider and status, over all time.
      const metric = (await ledger.metricTotals()).requests;
      const byKey = new Map<string, LedgerRecord[]>();
      for (const x of recs) byKey.set([x.team, x.model, x.provider, x.status].join('|'), [...(byKey.get([x.team, x.model, x.provider, x.status].join('|')) ?? []), x]);
      expect(metric).toHaveLength(byKey.size);
      for (const m of metric) expect(m).toMatchObject(sums(byKey.get([m.team, m.model, m.provider, m.status].join('|'))!));
    } finally {
      await ledger.close();
    }
  }, 60_000);

  it('a ledger written before the rollup is backfilled when it upgrades, and the trigger keeps it from then on', async () => {
    const where = await place(kind);
    const [before, after] = [recs.slice(0, 2000), recs.slice(2000)];
    let ledger = await open(kind, where);
    await Promise.all(before.map((x) => ledger.settle(x, undefined)));
    await ledger.close();
    await dropRollup(kind, where);
    ledger = await open(kind, where);
    try {
      const [from, to] = RANGES[1]!;
      expect(withoutRefused(await ledger.usage({ from, to, team: undefined, groupBy: ['team', 'hour'] }))).toEqual(expected(before, from, to, undefined, ['team', 'hour']));
      await Promise.all(after.map((x) => ledger.settle(x, undefined)));
      // A record settled twice (a retry after an outage) is counted once, in the rollup as in the ledger.
      await ledger.settle(after[0]!, undefined).catch(() => undefined);
      expect(withoutRefused(await ledger.usage({ from, to, team: undefined, groupBy: ['team', 'hour'] }))).toEqual(expected(recs, from, to, undefined, ['team', 'hour']));
    } finally {
      await ledger.close();
    }
  }, 60_000);
});
