/**
 * `npm run bench`: Tollgate against the floor (a bare undici pass-through: what forwarding alone
 * costs in Node), side by side in one run. Each runs as its own process: the bench provider
 * (bench/upstream.ts), the floor (bench/floor.ts) and Tollgate (the compiled build, a hard-capped
 * team, metering, the ledger), the proxies pinned to the same core where `taskset` exists and the
 * load generator and provider on the other. Rounds alternate floor and Tollgate so drift cancels;
 * each figure is the median of its rounds and every ratio is Tollgate / floor from this run.
 * Also: PostgreSQL with one and two instances, `/usage` over a month of 1,000,000 records on both
 * ledgers, stream time to first byte, and RSS growth over 100,000 requests.
 *
 * BENCH_SMOKE=1 runs every part for about a second with tiny settings (the smoke test does),
 * BENCH_SOURCE=tsx runs Tollgate from the sources instead of the build, and BENCH_PARTS picks
 * parts (comma-separated, of sqlite, postgres, usage; all by default).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import Database from 'better-sqlite3';
import pg from 'pg';
import { Agent, request } from 'undici';
import { stringify } from 'yaml';
import { SqliteLedger } from '../src/ledger/sqlite-ledger.js';
import { PgLedger } from '../src/ledger/pg-ledger.js';
import { pgBinDir, startCluster } from '../test/helpers/pg-cluster.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const TSX = createRequire(import.meta.url).resolve('tsx');
const SMOKE = process.env.BENCH_SMOKE === '1';
const S = SMOKE
  ? { rounds: 1, seconds: 0.25, concurrencies: [4], rate: 100, rateRequests: 25, ttfbRequests: 10, fillRecords: 2_000, rssRequests: 300 }
  : { rounds: 3, seconds: 4, concurrencies: [16, 64], rate: 400, rateRequests: 2_000, ttfbRequests: 400, fillRecords: 1_000_000, rssRequests: 100_000 };
const TEAM_KEY = 'tg-bench-team-key';
const ADMIN_KEY = 'tg-bench-admin-key';
const PARTS = new Set((process.env.BENCH_PARTS ?? 'sqlite,postgres,usage').split(',').map((p) => p.trim()));
const pinnable = !SMOKE && existsSync('/usr/bin/taskset') && cpus().length >= 2;

// ------------------------------------------------------------------ processes

interface Proc {
  url: string;
  pid: number;
  child: ChildProcess;
}

const children: ChildProcess[] = [];
process.on('exit', () => children.forEach((c) => c.kill('SIGKILL')));

/** Start a process and wait for the line that gives its port. `core` pins it (taskset). */
function start(cmd: string, args: string[], core: number | undefined, ready: RegExp, env: NodeJS.ProcessEnv = {}): Promise<Proc> {
  const [file, argv] = core !== undefined && pinnable ? ['taskset', ['-c', String(core), cmd, ...args]] : [cmd, args];
  const child = spawn(file, argv, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${cmd} ${args.join(' ')} did not start:\n${out}`)), 60_000);
    child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
    child.stdout?.on('data', (c: Buffer) => {
      if (timer.hasRef()) out += c.toString(); // keep draining either way: a full pipe would stall the child
      const m = ready.exec(out);
      if (m && timer.hasRef()) {
        clearTimeout(timer);
        timer.unref();
        resolve({ url: m[1]!.startsWith('http') ? m[1]! : `http://127.0.0.1:${m[1]}`, pid: child.pid as number, child });
      }
    });
    child.once('exit', (code) => reject(new Error(`${cmd} exited (${code}):\n${out}`)));
  });
}

function node(script: string, args: string[], core: number | undefined): Promise<Proc> {
  return start(process.execPath, ['--import', TSX, script, ...args], core, /listening (\d+)/);
}

async function tollgate(config: Record<string, unknown>, core: number | undefined): Promise<Proc> {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-bench-'));
  writeFileSync(join(dir, 'tollgate.yaml'), stringify(config));
  const entry = process.env.BENCH_SOURCE === 'tsx' ? ['--import', TSX, 'src/server.ts'] : ['dist/server.js'];
  return start(process.execPath, [...entry, '--config', join(dir, 'tollgate.yaml')], core, /Server listening at (http:\/\/127\.0\.0\.1:\d+)/, { TOLLGATE_LOG_LEVEL: 'info' });
}

function config(upstream: string, database: Record<string, unknown>): Record<string, unknown> {
  return {
    server: { host: '127.0.0.1', port: 0, body_limit_mb: 20, upstream_timeout_s: 30 },
    database,
    admin_keys: [ADMIN_KEY],
    providers: [{ name: 'openai', api: 'openai', base_url: `${upstream}/v1`, api_key: 'sk-bench', models: ['gpt-*'] }],
    teams: [{ name: 'bench', keys: [TEAM_KEY], budgets: [{ window: 'month', limit_usd: 1_000_000, hard_cap: true }] }],
  };
}

function rssMb(pid: number): number {
  const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
  return kb / 1024;
}

// ------------------------------------------------------------------ load

interface Measure {
  rps: number;
  p50: number;
  p99: number;
}

const JSON_BODY = JSON.stringify({ model: 'gpt-4o-mini', max_tokens: 64, messages: [{ role: 'user', content: 'hello there' }] });
const STREAM_BODY = JSON.stringify({ model: 'gpt-4o-mini', max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'hello there' }] });

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

async function send(agent: Agent, url: string, body: string, firstByte?: (ms: number) => void): Promise<number> {
  const t0 = performance.now();
  const res = await request(`${url}/v1/chat/completions`, {
    method: 'POST', dispatcher: agent, body,
    headers: { authorization: `Bearer ${TEAM_KEY}`, 'content-type': 'application/json' },
  });
  let first = true;
  for await (const _ of res.body) {
    if (first && firstByte) firstByte(performance.now() - t0);
    first = false;
  }
  if (res.statusCode !== 200) throw new Error(`${url}: status ${res.statusCode}`);
  return performance.now() - t0;
}

/** Closed loop: `concurrency` clients, each sending as soon as its last answer came, for `seconds`. */
async function closedLoop(urls: string[], body: string, concurrency: number, seconds: number): Promise<Measure> {
  const agent = new Agent({ connections: concurrency, keepAliveTimeout: 60_000, pipelining: 1 });
  const latencies: number[] = [];
  const end = performance.now() + seconds * 1000;
  const started = performance.now();
  let n = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < end) latencies.push(await send(agent, urls[n++ % urls.length] as string, body));
  }));
  const elapsed = performance.now() - started;
  await agent.close();
  latencies.sort((a, b) => a - b);
  return { rps: (latencies.length / elapsed) * 1000, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99) };
}

/** Open loop at a fixed, moderate rate: latency as a client sees it when the proxy is not saturated. */
async function fixedRate(url: string, body: string, perSecond: number, count: number): Promise<Measure> {
  const agent = new Agent({ connections: 64, keepAliveTimeout: 60_000 });
  const latencies: number[] = [];
  const start0 = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const due = start0 + (i * 1000) / perSecond;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    pending.push(send(agent, url, body).then((ms) => void latencies.push(ms)));
  }
  await Promise.all(pending);
  await agent.close();
  latencies.sort((a, b) => a - b);
  return { rps: perSecond, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99) };
}

async function timeToFirstByte(url: string, count: number): Promise<number> {
  const agent = new Agent({ connections: 1, keepAliveTimeout: 60_000 });
  const firsts: number[] = [];
  for (let i = 0; i < count; i++) await send(agent, url, STREAM_BODY, (ms) => firsts.push(ms));
  await agent.close();
  return percentile(firsts.sort((a, b) => a - b), 0.5);
}

const median = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 0.5);

/** Alternate the two targets over the rounds (floor first in even rounds, Tollgate first in odd). */
async function sideBySide(floor: () => Promise<Measure>, ours: () => Promise<Measure>): Promise<{ floor: Measure; ours: Measure }> {
  const f: Measure[] = [];
  const o: Measure[] = [];
  for (let r = 0; r < S.rounds; r++) {
    if (r % 2 === 0) {
      f.push(await floor());
      o.push(await ours());
    } else {
      o.push(await ours());
      f.push(await floor());
    }
  }
  const pick = (ms: Measure[]): Measure => ({ rps: median(ms.map((m) => m.rps)), p50: median(ms.map((m) => m.p50)), p99: median(ms.map((m) => m.p99)) });
  return { floor: pick(f), ours: pick(o) };
}

// ------------------------------------------------------------------ report

const rows: string[][] = [];
const fmt = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : '—');

function report(name: string, floor: Measure, ours: Measure): void {
  rows.push([name, fmt(floor.rps, 0), fmt(ours.rps, 0), `×${fmt(ours.rps / floor.rps)}`, `${fmt(floor.p50)} / ${fmt(floor.p99)}`, `${fmt(ours.p50)} / ${fmt(ours.p99)}`,
    `+${fmt(ours.p50 - floor.p50)} / +${fmt(ours.p99 - floor.p99)}`]);
}

function printTable(): void {
  const header = ['scenario', 'floor req/s', 'Tollgate req/s', 'ratio', 'floor p50/p99 ms', 'Tollgate p50/p99 ms', 'added p50/p99 ms'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] as number)).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(line(r));
  rows.length = 0;
}

// ------------------------------------------------------------------ synthetic ledgers for /usage

const TEAMS = ['bench', 'search', 'ads', 'support', 'data'];
const MODELS = ['gpt-4o-mini', 'gpt-4o', 'gpt-4.1', 'claude-sonnet-4-20250514', 'deepseek-chat', 'o3', 'gpt-5', 'text-embedding-3-small'];

async function fillSqlite(path: string, records: number): Promise<void> {
  await new SqliteLedger(path).close(); // schema, by the server's own migrations
  const db = new Database(path);
  const monthStart = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), 1);
  const span = Math.max(1, Date.now() - monthStart - 1000);
  const insert = db.prepare(`INSERT INTO requests (request_id, ts, team, key_id, provider, model, endpoint, status, stream, latency_ms,
    input_tokens, cached_input_tokens, cache_write_tokens, cache_write_1h_tokens, output_tokens, reasoning_tokens, cost_nano, estimated, unpriced)
    VALUES (?, ?, ?, 'k', 'openai', ?, '/v1/chat/completions', 200, 0, 100, 1000, 100, 0, 0, 300, 0, 5750, 0, 0)`);
  db.transaction(() => {
    for (let i = 0; i < records; i++) insert.run(`fill-${i}`, monthStart + Math.floor((i / records) * span), TEAMS[i % TEAMS.length], MODELS[i % MODELS.length]);
  })();
  db.close();
}

async function fillPostgres(url: string, records: number): Promise<void> {
  await (await PgLedger.open({ url, poolSize: 1, statementTimeoutMs: 600_000, leaseS: 30 })).close();
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const monthStart = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), 1);
  const span = Math.max(1, Date.now() - monthStart - 1000);
  await c.query(`INSERT INTO requests (request_id, ts, team, key_id, provider, model, endpoint, status, stream, latency_ms, input_tokens,
      cached_input_tokens, cache_write_tokens, cache_write_1h_tokens, output_tokens, reasoning_tokens, cost_nano, estimated, unpriced)
    SELECT 'fill-' || i, $1::bigint + (i::bigint * $2::bigint / $3::bigint), ($4::text[])[1 + i % 5], 'k', 'openai', ($5::text[])[1 + i % 8],
      '/v1/chat/completions', 200, false, 100, 1000, 100, 0, 0, 300, 0, 5750, false, false
    FROM generate_series(0, $3::int - 1) AS i`, [monthStart, span, records, TEAMS, MODELS]);
  await c.query('ANALYZE requests');
  await c.end();
}

async function usageTimes(url: string): Promise<{ plain: number; grouped: number }> {
  const agent = new Agent({ connections: 1 });
  const time = async (path: string): Promise<number> => {
    const samples: number[] = [];
    for (let i = 0; i < (SMOKE ? 2 : 7); i++) {
      const t0 = performance.now();
      const res = await request(`${url}${path}`, { dispatcher: agent, headers: { authorization: `Bearer ${ADMIN_KEY}` } });
      await res.body.text();
      if (res.statusCode !== 200) throw new Error(`${path}: ${res.statusCode}`);
      samples.push(performance.now() - t0);
    }
    return median(samples.slice(1));
  };
  const out = { plain: await time('/usage'), grouped: await time('/usage?group_by=team,model') };
  await agent.close();
  return out;
}

// ------------------------------------------------------------------ main

async function main(): Promise<void> {
  if (process.env.BENCH_SOURCE !== 'tsx') execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
  const nodeVersion = process.version;
  console.log(`Tollgate bench — ${new Date().toISOString()} — Node ${nodeVersion}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}`);
  console.log(`proxies ${pinnable ? 'pinned to core 1 (taskset), load and provider on core 0' : 'not pinned'}; rounds ${S.rounds}, medians; ${SMOKE ? 'SMOKE settings' : ''}`);

  const upstream = await node('bench/upstream.ts', [], pinnable ? 0 : undefined);
  const floor = await node('bench/floor.ts', [upstream.url], 1);
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-bench-'));
  if (PARTS.has('sqlite')) await sqliteParts(upstream, floor, dir);
  const bin = pgBinDir();
  const cluster = bin && (PARTS.has('postgres') || PARTS.has('usage')) ? await startCluster(bin) : undefined;
  if (PARTS.has('postgres')) await postgresPart(upstream, floor, cluster);
  if (PARTS.has('usage')) await usagePart(upstream, dir, cluster);
  cluster?.stop();
  for (const c of children) c.kill('SIGTERM');
}

async function sqliteParts(upstream: Proc, floor: Proc, dir: string): Promise<void> {
  const sqlite = await tollgate(config(upstream.url, { path: join(dir, 'ledger.db') }), 1);
  // Warm both (JIT, pools, the tokenizers).
  await closedLoop([floor.url], JSON_BODY, 8, SMOKE ? 0.1 : 1);
  await closedLoop([sqlite.url], JSON_BODY, 8, SMOKE ? 0.1 : 1);

  console.log('\nThroughput and latency, closed loop (SQLite ledger):');
  for (const [kind, body] of [['JSON', JSON_BODY], ['stream', STREAM_BODY]] as const) {
    for (const c of S.concurrencies) {
      const r = await sideBySide(() => closedLoop([floor.url], body, c, S.seconds), () => closedLoop([sqlite.url], body, c, S.seconds));
      report(`${kind}, ${c} connections`, r.floor, r.ours);
    }
  }
  printTable();

  console.log(`\nAdded latency at a fixed ${S.rate} req/s (SQLite ledger):`);
  for (const [kind, body] of [['JSON', JSON_BODY], ['stream', STREAM_BODY]] as const) {
    const r = await sideBySide(() => fixedRate(floor.url, body, S.rate, S.rateRequests), () => fixedRate(sqlite.url, body, S.rate, S.rateRequests));
    report(`${kind} at ${S.rate}/s`, r.floor, r.ours);
  }
  printTable();
  const ttfbFloor = await timeToFirstByte(floor.url, S.ttfbRequests);
  const ttfbOurs = await timeToFirstByte(sqlite.url, S.ttfbRequests);
  console.log(`\nStream time to first byte (p50, one at a time): floor ${fmt(ttfbFloor, 3)} ms, Tollgate ${fmt(ttfbOurs, 3)} ms (+${fmt(ttfbOurs - ttfbFloor, 3)} ms)`);

  const before = rssMb(sqlite.pid);
  const rssAgent = new Agent({ connections: 16, keepAliveTimeout: 60_000 });
  let sent = 0;
  await Promise.all(Array.from({ length: 16 }, async () => {
    while (sent < S.rssRequests) {
      sent++;
      await send(rssAgent, sqlite.url, sent % 4 === 0 ? STREAM_BODY : JSON_BODY);
    }
  }));
  await rssAgent.close();
  const after = rssMb(sqlite.pid);
  console.log(`RSS over ${S.rssRequests.toLocaleString('en-US')} requests: ${fmt(before, 1)} MB → ${fmt(after, 1)} MB (${after - before >= 0 ? '+' : ''}${fmt(after - before, 1)} MB)`);
  sqlite.child.kill('SIGTERM');
}

/** A fresh database on the bench cluster; its URL. */
async function createDatabase(clusterUrl: string, name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: clusterUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  return clusterUrl.replace(/\/postgres$/, `/${name}`);
}

async function postgresPart(upstream: Proc, floor: Proc, cluster: Awaited<ReturnType<typeof startCluster>> | undefined): Promise<void> {
  if (cluster) {
    const benchUrl = await createDatabase(cluster.url, 'bench');
    const pgOne = await tollgate(config(upstream.url, { url: benchUrl, pool_size: 16 }), 1);
    const pgTwo = await tollgate(config(upstream.url, { url: benchUrl, pool_size: 16 }), 1);
    await closedLoop([pgOne.url, pgTwo.url], JSON_BODY, 8, SMOKE ? 0.1 : 1);
    console.log('\nPostgreSQL ledger (JSON, closed loop; two instances share the core and the database):');
    for (const c of S.concurrencies) {
      const one = await sideBySide(() => closedLoop([floor.url], JSON_BODY, c, S.seconds), () => closedLoop([pgOne.url], JSON_BODY, c, S.seconds));
      report(`1 instance, ${c} connections`, one.floor, one.ours);
      const two = await sideBySide(() => closedLoop([floor.url], JSON_BODY, c, S.seconds), () => closedLoop([pgOne.url, pgTwo.url], JSON_BODY, c, S.seconds));
      report(`2 instances, ${c} connections`, two.floor, two.ours);
    }
    printTable();
    pgOne.child.kill('SIGTERM');
    pgTwo.child.kill('SIGTERM');
  } else {
    console.log('\nPostgreSQL: not installed here, skipped.');
  }
}

async function usagePart(upstream: Proc, dir: string, cluster: Awaited<ReturnType<typeof startCluster>> | undefined): Promise<void> {
  console.log(`\n/usage for this month over ${S.fillRecords.toLocaleString('en-US')} records (median of repeated calls):`);
  const fillPath = join(dir, 'fill.db');
  await fillSqlite(fillPath, S.fillRecords);
  const sqliteFill = await tollgate(config(upstream.url, { path: fillPath }), 1);
  const t1 = await usageTimes(sqliteFill.url);
  console.log(`  SQLite:     /usage ${fmt(t1.plain, 1)} ms, /usage?group_by=team,model ${fmt(t1.grouped, 1)} ms`);
  sqliteFill.child.kill('SIGTERM');
  if (cluster) {
    const fillUrl = await createDatabase(cluster.url, 'usage_fill');
    await fillPostgres(fillUrl, S.fillRecords);
    const pgFill = await tollgate(config(upstream.url, { url: fillUrl }), 1);
    const t2 = await usageTimes(pgFill.url);
    console.log(`  PostgreSQL: /usage ${fmt(t2.plain, 1)} ms, /usage?group_by=team,model ${fmt(t2.grouped, 1)} ms`);
    pgFill.child.kill('SIGTERM');
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
