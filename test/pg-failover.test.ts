// Instance failure and database outages on the PostgreSQL ledger (SPEC §10, issue 9).
// - Three Tollgate processes share a database; one is SIGKILLed with streams in flight. Once its
//   leases run out, the others settle its reservations at their worst case; every request is in
//   the ledger exactly once.
// - The database stops under load: proxied calls get 503 ledger_unavailable and nothing is
//   forwarded without a reservation, /healthz says degraded, a stream in flight settles when the
//   database is back, and service resumes without a restart.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createGate, openaiChatStreamEvents, startFakeProvider, type FakeProvider } from './helpers/fake-provider.js';
import { ADMIN_KEY, baseConfig, startApp, TEAM_KEY, type TestApp } from './helpers/app.js';
import { pgBinDir, startCluster, type Cluster } from './helpers/pg-cluster.js';
import { freshDatabase, pgClusterUrl } from './helpers/postgres.js';
import { spawnServer, writeConfig, type ServerProcess } from './helpers/spawn.js';

let fake: FakeProvider | undefined;
let servers: ServerProcess[] = [];
let app: TestApp | undefined;
let cluster: Cluster | undefined;

afterEach(async () => {
  for (const s of servers) {
    if (s.proc.exitCode === null && s.proc.signalCode === null) s.proc.kill('SIGKILL');
    await s.exited;
  }
  servers = [];
  await app?.close();
  app = undefined;
  cluster?.stop();
  cluster = undefined;
  await fake?.close();
  fake = undefined;
});

const STREAM_BODY = JSON.stringify({ model: 'gpt-4o-mini', stream: true, max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] });

function post(url: string, body: string, signal?: AbortSignal): Promise<Response> {
  return fetch(`${url}/v1/chat/completions`, {
    method: 'POST', headers: { authorization: `Bearer ${TEAM_KEY}`, 'content-type': 'application/json' }, body, ...(signal ? { signal } : {}),
  });
}

describe.skipIf(!pgClusterUrl())('a killed instance', () => {
  it('leaves reservations the others settle at their worst case after its lease: every request recorded once', async () => {
    fake = await startFakeProvider();
    // One gate a stream, each letting its first event through: all nine are in flight together.
    const gates: ReturnType<typeof createGate>[] = [];
    fake.setHandler((req) => {
      if (req.path !== '/v1/chat/completions') return undefined;
      const gate = createGate();
      gate.release(1);
      gates.push(gate);
      return { kind: 'sse', gate, events: openaiChatStreamEvents({ model: 'gpt-4o-mini', includeUsage: true }) };
    });
    const url = await freshDatabase();
    const dir = mkdtempSync(join(tmpdir(), 'tollgate-failover-'));
    const raw = baseConfig(fake, join(dir, 'unused.db'));
    raw.database = { url, lease_s: 1, pool_size: 5 };
    writeConfig(join(dir, 'tollgate.yaml'), raw);
    servers = await Promise.all([0, 1, 2].map(() => spawnServer(join(dir, 'tollgate.yaml'))));

    // Three streams on each instance, each past its first event (so admitted and forwarded).
    const streams = await Promise.all(servers.flatMap((s) => [0, 1, 2].map(async () => {
      const res = await post(s.url, STREAM_BODY);
      expect(res.status, res.status === 200 ? '' : `${await res.text()} ${s.lines.filter((l) => /"level":50/.test(l)).join('\n').slice(0, 1500)}`).toBe(200);
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      await reader.read();
      return { id: res.headers.get('x-tollgate-request-id') as string, reader, server: s };
    })));
    const victim = servers[1] as ServerProcess;
    victim.proc.kill('SIGKILL');
    await victim.exited;

    for (const g of gates) g.releaseAll();
    const finished = await Promise.all(streams.map(async (st) => {
      try {
        for (;;) if ((await st.reader.read()).done) return st.server !== victim;
      } catch {
        return false; // the killed instance's streams break
      }
    }));
    expect(finished.filter(Boolean)).toHaveLength(6);

    // After its 1 s lease, a survivor settles the victim's three holds at their worst case.
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    try {
      await vi.waitFor(async () => {
        expect((await db.query('SELECT count(*)::int AS n FROM reservations')).rows[0].n).toBe(0);
      }, { timeout: 15_000, interval: 200 });
      const rows = (await db.query('SELECT request_id, status, estimated, cost_nano FROM requests')).rows as { request_id: string; status: number; estimated: boolean; cost_nano: string }[];
      expect(rows.map((r) => r.request_id).sort()).toEqual(streams.map((s) => s.id).sort()); // each once
      const killed = new Set(streams.filter((s) => s.server === victim).map((s) => s.id));
      for (const r of rows) {
        if (killed.has(r.request_id)) expect(r).toMatchObject({ status: 0, estimated: true });
        else expect(r).toMatchObject({ status: 200, estimated: false });
      }
      expect((await db.query('SELECT reserved_nano FROM team_holds WHERE team = $1', ['search'])).rows[0].reserved_nano).toBe('0');
    } finally {
      await db.end();
    }
    // Both survivors answer the same.
    const reports = await Promise.all([servers[0], servers[2]].map(async (s) => (await fetch(`${(s as ServerProcess).url}/usage`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })).json()));
    expect((reports[0] as any).totals).toEqual((reports[1] as any).totals);
    expect((reports[0] as any).totals.requests).toBe(9);
  });
});

describe.skipIf(!pgBinDir())('a database outage', () => {
  it('fails closed, says degraded, keeps an in-flight record until the database is back, and resumes by itself', async () => {
    cluster = await startCluster(pgBinDir() as string);
    const admin = new pg.Client({ connectionString: cluster.url });
    await admin.connect();
    await admin.query('CREATE DATABASE outage');
    await admin.end();
    const dbUrl = cluster.url.replace(/\/postgres$/, '/outage');
    fake = await startFakeProvider();
    const gate = createGate();
    let gated = true;
    fake.setHandler((req) => (req.path === '/v1/chat/completions' && gated ? { kind: 'sse', gate, events: openaiChatStreamEvents({ model: 'gpt-4o-mini', includeUsage: true }) } : undefined));
    app = await startApp(fake, { databaseUrl: dbUrl, configure: (raw) => { raw.database.statement_timeout_ms = 1000; raw.database.lease_s = 30; } });

    // A stream in flight across the outage.
    gate.release(1);
    const inFlight = await post(app.url, STREAM_BODY);
    const inFlightId = inFlight.headers.get('x-tollgate-request-id') as string;
    const reader = (inFlight.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    gated = false;

    // Load before, during and after the outage: every answered call is in the ledger, none forwarded unreserved.
    const answered: { status: number; id: string | null; code?: string }[] = [];
    let load = true;
    const loader = (async () => {
      while (load) {
        const res = await post((app as TestApp).url, JSON.stringify({ model: 'gpt-4o-mini', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }));
        const json = (await res.json()) as any;
        answered.push({ status: res.status, id: res.headers.get('x-tollgate-request-id'), code: json?.error?.code });
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    await vi.waitFor(() => expect(answered.filter((a) => a.status === 200).length).toBeGreaterThanOrEqual(3));

    cluster.pause();
    await vi.waitFor(async () => {
      const health = await fetch(`${(app as TestApp).url}/healthz`);
      expect(health.status).toBe(503);
      expect(await health.json()).toEqual({ status: 'degraded', database: 'unreachable' });
    }, { timeout: 10_000 });
    await vi.waitFor(() => expect(answered.filter((a) => a.status === 503 && a.code === 'ledger_unavailable').length).toBeGreaterThanOrEqual(3), { timeout: 10_000 });
    const forwardedBefore = fake.requests.length;
    // The stream ends during the outage: its record waits in memory.
    gate.releaseAll();
    for (;;) if ((await reader.read()).done) break;
    await new Promise((r) => setTimeout(r, 300));
    expect(fake.requests.length).toBe(forwardedBefore); // nothing forwarded while the ledger was down
    expect(app.deps.budgets.unwrittenCount()).toBe(1);

    cluster.resume();
    await vi.waitFor(async () => expect((await fetch(`${(app as TestApp).url}/healthz`)).status).toBe(200), { timeout: 15_000 });
    await vi.waitFor(() => expect(answered.slice(-3).every((a) => a.status === 200)).toBe(true), { timeout: 15_000 });
    load = false;
    await loader;
    await vi.waitFor(() => expect(app!.deps.budgets.unwrittenCount()).toBe(0), { timeout: 5_000 });

    // Every answered call and the stream that crossed the outage are in the ledger, once.
    const rows = (await (await fetch(`${app.url}/usage/requests?limit=1000`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })).json()) as { data: { id: string }[] };
    const ids = rows.data.map((r) => r.id);
    const ok = answered.filter((a) => a.status === 200).map((a) => a.id as string);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.sort()).toEqual([...ok, inFlightId].sort());
    expect(answered.every((a) => a.status === 200 || (a.status === 503 && a.code === 'ledger_unavailable'))).toBe(true);
    expect(fake.requests.length).toBe(ok.length + 1);
  });
});
