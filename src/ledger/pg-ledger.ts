/**
 * The ledger on PostgreSQL, shared by any number of Tollgate instances (SPEC §10). No figure in
 * one instance's memory is trusted: admission locks the team's row in `team_holds`, reads the
 * settled spend of each capped window and holds the worst case in one transaction, so the cap
 * holds across instances exactly; the database's clock stamps the request and decides windows.
 * Settlement and recovery take the same lock first (one lock order: no deadlock), and a record is
 * unique by request id, so each request is written once whoever writes it. Reservations carry a
 * lease their instance renews; one whose lease ran out is settled at its worst case by any
 * instance. Alert deliveries are claimed with FOR UPDATE SKIP LOCKED: one sender each.
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { windowAt } from '../budget/windows.js';
import type { WindowKind } from '../config/types.js';
import { TollgateError } from '../errors.js';
import type { Rates } from '../pricing/rates.js';
import type {
  AdmitResult, AlertEvent, Counters, Delivery, DeliveryView, GroupKey, HardCap, Ledger, LedgerRecord, MetricTotals, Refusal,
  RequestsQuery, Reservation, StoredRecord, UsageQuery, UsageReport, WindowState,
} from './ledger.js';
import { migrationsFor, SCHEMA_MIGRATIONS } from './migrate.js';
import { spendSql, usageSource } from './usage-query.js';

export interface PgLedgerOptions {
  url: string;
  poolSize: number;
  statementTimeoutMs: number;
  leaseS: number;
  log?: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void };
}

/** Our BIGINT columns hold nano-dollars and token counts: numbers, well inside 2^53. */
const TYPES = {
  getTypeParser: (oid: number, format?: 'text' | 'binary') =>
    oid === 20 ? (v: string) => Number(v) : (pg.types.getTypeParser as (o: number, f?: string) => unknown)(oid, format),
} as pg.CustomTypesConfig;

const MIGRATION_LOCK = 0x70_6c_6c_67; // pg_advisory_lock key: instances starting together migrate one at a time
const NOW_MS = '(extract(epoch from clock_timestamp()) * 1000)::bigint';
/** Lock the team's row (created on first use) and read its holds and the database's time. */
const LOCK_TEAM = `INSERT INTO team_holds (team) VALUES ($1)
  ON CONFLICT (team) DO UPDATE SET reserved_nano = team_holds.reserved_nano
  RETURNING reserved_nano, ${NOW_MS} AS now_ms`;
const REQUEST_COLUMNS = `request_id, ts, team, key_id, provider, model, endpoint, status, stream, latency_ms, input_tokens,
  cached_input_tokens, cache_write_tokens, cache_write_1h_tokens, output_tokens, reasoning_tokens, audio_input_tokens,
  audio_output_tokens, cost_nano, estimated, unpriced, rates, price_source, upstream_request_id`;
const INSERT_REQUEST = `INSERT INTO requests (${REQUEST_COLUMNS})
  VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$23,$24)
  ON CONFLICT (request_id) DO NOTHING RETURNING id`;
const ADD_SPEND = `UPDATE window_spend SET spent_nano = spent_nano + $4
  WHERE team = $1 AND (kind, window_start) IN (SELECT * FROM unnest($2::text[], $3::bigint[]))`;
const KINDS: WindowKind[] = ['hour', 'day', 'week', 'month', 'total'];

const GROUP_SQL: Record<GroupKey, string> = {
  team: 'team',
  model: 'model',
  provider: 'provider',
  key: 'key_id',
  day: `to_char(to_timestamp(ts / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD')`,
  hour: `to_char(to_timestamp(ts / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:00:00"Z"')`,
};
/** Sums over a usage source (usage-query.ts), where `requests` is a count per row. */
const ROLLED_COUNTERS_SQL = `COALESCE(SUM(requests), 0)::bigint AS requests,
  COALESCE(SUM(input_tokens), 0)::bigint AS input_tokens,
  COALESCE(SUM(cached_input_tokens), 0)::bigint AS cached_input_tokens,
  COALESCE(SUM(cache_write_tokens), 0)::bigint AS cache_write_tokens,
  COALESCE(SUM(output_tokens), 0)::bigint AS output_tokens,
  COALESCE(SUM(reasoning_tokens), 0)::bigint AS reasoning_tokens,
  COALESCE(SUM(audio_input_tokens), 0)::bigint AS audio_input_tokens,
  COALESCE(SUM(audio_output_tokens), 0)::bigint AS audio_output_tokens,
  COALESCE(SUM(cost_nano), 0)::bigint AS cost_nano`;

/** Errors that mean "the database is not reachable now", as opposed to a bug in a statement. */
function isUnreachable(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | undefined;
  const code = e?.code ?? '';
  return (
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EPIPE', 'EHOSTUNREACH', '57P01', '57P02', '57P03', '57014', '53300'].includes(code) ||
    code.startsWith('08') ||
    /Connection terminated|connection timeout|Client has encountered a connection error|timeout exceeded when trying to connect/i.test(e?.message ?? '')
  );
}

/** A database URL without its password, for messages. */
export function describeDatabase(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.username ? `${u.username}@` : ''}${u.host}${u.pathname}`;
  } catch {
    return 'the configured PostgreSQL database';
  }
}

export class PgLedger implements Ledger {
  /** Expired holds are looked for this often: by every instance, so any one left can settle them. */
  readonly recoveryIntervalMs: number;
  private readonly pool: pg.Pool;
  private readonly instance = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly leaseS: number;
  private up = true;
  private readonly timers: NodeJS.Timeout[] = [];
  private pinging: NodeJS.Timeout | undefined;

  private constructor(private readonly opts: PgLedgerOptions) {
    this.leaseS = opts.leaseS;
    this.recoveryIntervalMs = Math.max(200, (opts.leaseS * 1000) / 2);
    this.pool = new pg.Pool({
      connectionString: opts.url,
      max: opts.poolSize,
      statement_timeout: opts.statementTimeoutMs,
      connectionTimeoutMillis: Math.min(opts.statementTimeoutMs, 5000),
      types: TYPES,
    });
    // An idle connection the server dropped (a restart) must not crash the process.
    this.pool.on('error', (err) => this.markDown(err));
  }

  /** Connect and migrate (under an advisory lock); a database that does not answer is an error naming it. */
  static async open(opts: PgLedgerOptions): Promise<PgLedger> {
    const ledger = new PgLedger(opts);
    try {
      await ledger.migrate();
    } catch (err) {
      await ledger.pool.end().catch(() => undefined);
      throw new TollgateError('ledger_unavailable', `cannot use the PostgreSQL ledger at ${describeDatabase(opts.url)}: ${(err as Error).message}`, { cause: err });
    }
    const renew = setInterval(() => void ledger.renewLeases(), Math.max(100, (opts.leaseS * 1000) / 3));
    renew.unref();
    ledger.timers.push(renew);
    return ledger;
  }

  private async migrate(): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
      try {
        await client.query(SCHEMA_MIGRATIONS);
        const applied = new Set((await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
        for (const m of migrationsFor('postgres')) {
          if (applied.has(m.version)) continue;
          await client.query('BEGIN');
          try {
            await client.query(m.sql);
            await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, Date.now()]);
            await client.query('COMMIT');
          } catch (err) {
            await client.query('ROLLBACK');
            throw err;
          }
        }
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
      }
    } finally {
      client.release();
    }
  }

  healthy(): boolean {
    return this.up;
  }

  private markDown(err: unknown): void {
    if (this.up) this.opts.log?.warn({ err, database: describeDatabase(this.opts.url) }, 'ledger database unreachable');
    this.up = false;
    // Find out when it is back without waiting for the next request to try.
    this.pinging ??= setInterval(() => {
      this.pool.query('SELECT 1').then(
        () => {
          this.up = true;
          clearInterval(this.pinging);
          this.pinging = undefined;
          this.opts.log?.info({ database: describeDatabase(this.opts.url) }, 'ledger database reachable again');
        },
        () => undefined,
      );
    }, 500);
    this.pinging.unref();
  }

  /** Every database error goes through here: unreachable ones become `ledger_unavailable`. */
  private translate(err: unknown): unknown {
    if (err instanceof TollgateError) return err;
    if (!isUnreachable(err)) return err;
    this.markDown(err);
    return new TollgateError('ledger_unavailable', 'The ledger database is unreachable; nothing was forwarded. Retry shortly.', { cause: err });
  }

  private async query<R extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>(sql, params);
    } catch (err) {
      throw this.translate(err);
    }
  }

  private async tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw this.translate(err);
    }
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const out = await fn(client);
      await client.query('COMMIT');
      return out;
    } catch (err) {
      await client.query('ROLLBACK').catch((e: Error) => {
        broken = e;
      });
      throw this.translate(err);
    } finally {
      client.release(broken);
    }
  }

  async admit(r: Reservation, caps: readonly HardCap[]): Promise<AdmitResult> {
    return this.tx(async (c) => {
      const lock = (await c.query<{ reserved_nano: number; now_ms: number }>(LOCK_TEAM, [r.team])).rows[0] as { reserved_nano: number; now_ms: number };
      const ts = lock.now_ms;
      const states = await this.states(c, r.team, caps.map((cap) => cap.window), ts, lock.reserved_nano, true);
      for (const [i, cap] of caps.entries()) {
        const state = states[i] as WindowState;
        if (state.spentNano + state.reservedNano + r.worstCaseNano > cap.limitNano) return { ok: false, ts, cap, state };
      }
      await c.query(
        `WITH held AS (UPDATE team_holds SET reserved_nano = reserved_nano + $9 WHERE team = $3)
         INSERT INTO reservations (id, ts, team, key_id, provider, model, endpoint, stream, worst_case_nano, input_tokens,
           output_tokens, rates, price_source, unpriced, instance, lease_until)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, clock_timestamp() + make_interval(secs => $16))`,
        [r.id, ts, r.team, r.keyId, r.provider, r.model, r.endpoint, r.stream, r.worstCaseNano, r.inputTokens, r.outputTokens,
          r.rates ? JSON.stringify(r.rates) : null, r.priceSource, r.unpriced, this.instance, this.leaseS],
      );
      return { ok: true, ts };
    });
  }

  /**
   * Spend in each window at `at`. Under the team's lock (`create`), a window read for the first
   * time is created from the requests, and from then on kept by every settlement; otherwise it is
   * only read.
   */
  private async states(c: pg.ClientBase | pg.Pool, team: string, kinds: readonly WindowKind[], at: number, reserved: number, create: boolean): Promise<WindowState[]> {
    const wanted = kinds.map((kind) => ({ kind, ...windowAt(kind, at) }));
    const rows = wanted.length === 0 ? [] : (await c.query<{ kind: string; window_start: number; spent_nano: number }>(
      'SELECT kind, window_start, spent_nano FROM window_spend WHERE team = $1 AND kind = ANY($2::text[]) AND window_start = ANY($3::bigint[])',
      [team, wanted.map((w) => w.kind), wanted.map((w) => w.start)],
    )).rows;
    const out: WindowState[] = [];
    for (const w of wanted) {
      let spent = rows.find((r) => r.kind === w.kind && r.window_start === w.start)?.spent_nano;
      if (spent === undefined) {
        const sum = spendSql(team, w.start, w.resetsAt, (n) => `$${n}`);
        spent = Number((await c.query<{ s: number | string }>(sum.sql, sum.params)).rows[0]?.s);
        if (create) {
          // Under the team's lock: no settlement of this team runs between the sum and the insert.
          spent = (await c.query<{ spent_nano: number }>(
            `INSERT INTO window_spend (team, kind, window_start, spent_nano) VALUES ($1, $2, $3, $4)
             ON CONFLICT (team, kind, window_start) DO UPDATE SET spent_nano = window_spend.spent_nano RETURNING spent_nano`,
            [team, w.kind, w.start, spent],
          )).rows[0]?.spent_nano as number;
        }
        rows.push({ kind: w.kind, window_start: w.start, spent_nano: spent });
      }
      out.push({ window: w.kind, windowStart: w.start, resetsAt: w.resetsAt, spentNano: spent, reservedNano: reserved });
    }
    return out;
  }

  async settle(record: LedgerRecord, reservationId: string | undefined): Promise<void> {
    await this.tx(async (c) => {
      await c.query(LOCK_TEAM, [record.team]);
      // Gone when another instance settled it at its worst case after its lease ran out.
      const held = reservationId === undefined ? undefined
        : (await c.query<{ worst_case_nano: number }>('DELETE FROM reservations WHERE id = $1 RETURNING worst_case_nano', [reservationId])).rows[0];
      await this.write(c, record);
      if (held) await c.query('UPDATE team_holds SET reserved_nano = reserved_nano - $2 WHERE team = $1', [record.team, held.worst_case_nano]);
    });
  }

  /** Insert the record (once: its request id is unique) and count its cost in every kept window. */
  private async write(c: pg.PoolClient, r: LedgerRecord): Promise<boolean> {
    const inserted = await c.query(INSERT_REQUEST, requestParams(r));
    if (inserted.rowCount !== 1) return false;
    if (r.costNano !== 0) {
      const windows = KINDS.map((kind) => ({ kind, start: windowAt(kind, r.ts).start }));
      await c.query(ADD_SPEND, [r.team, windows.map((w) => w.kind), windows.map((w) => w.start), r.costNano]);
    }
    return true;
  }

  /** Holds whose lease ran out (their instance died or lost the database): each settled once, at its worst case. */
  async recoverOpenReservations(): Promise<LedgerRecord[]> {
    const expired = (await this.query<{ id: string; team: string }>('SELECT id, team FROM reservations WHERE lease_until < clock_timestamp() ORDER BY ts LIMIT 500')).rows;
    const out: LedgerRecord[] = [];
    for (const { id, team } of expired) {
      const record = await this.tx(async (c) => {
        await c.query(LOCK_TEAM, [team]);
        const row = (await c.query<ReservationRow>('DELETE FROM reservations WHERE id = $1 AND lease_until < clock_timestamp() RETURNING *', [id])).rows[0];
        if (!row) return undefined;
        const r = recordFromReservation(row);
        const written = await this.write(c, r);
        await c.query('UPDATE team_holds SET reserved_nano = reserved_nano - $2 WHERE team = $1', [team, row.worst_case_nano]);
        return written ? r : undefined;
      });
      if (record) out.push(record);
    }
    return out;
  }

  private async renewLeases(): Promise<void> {
    try {
      await this.pool.query('UPDATE reservations SET lease_until = clock_timestamp() + make_interval(secs => $2) WHERE instance = $1', [this.instance, this.leaseS]);
    } catch (err) {
      this.translate(err);
    }
  }

  async recordRefusal(f: Refusal): Promise<void> {
    await this.query('INSERT INTO refusals (ts, team, key_id, provider, model, window_kind, worst_case_nano) VALUES ($1,$2,$3,$4,$5,$6,$7)',
      [f.ts, f.team, f.keyId, f.provider, f.model, f.window, f.worstCaseNano]);
  }

  async windowStates(team: string, windows: readonly WindowKind[], at?: number): Promise<WindowState[]> {
    const head = (await this.query<{ reserved: number; now_ms: number }>(
      `SELECT COALESCE((SELECT reserved_nano FROM team_holds WHERE team = $1), 0)::bigint AS reserved, ${NOW_MS} AS now_ms`, [team])).rows[0] as { reserved: number; now_ms: number };
    try {
      return await this.states(this.pool, team, windows, at ?? head.now_ms, head.reserved, false);
    } catch (err) {
      throw this.translate(err);
    }
  }

  async usage(q: UsageQuery): Promise<UsageReport> {
    const source = usageSource(q, (n) => `$${n}`);
    const totals = (await this.query<Counters>(`SELECT ${ROLLED_COUNTERS_SQL} FROM (${source.sql}) AS u`, source.params)).rows[0] as Counters;
    const params: unknown[] = [q.from, q.to];
    let where = 'ts >= $1 AND ts < $2';
    if (q.team !== undefined) {
      params.push(q.team);
      where += ' AND team = $3';
    }
    const refused = (await this.query<{ n: number }>(`SELECT COUNT(*) AS n FROM refusals WHERE ${where}`, params)).rows[0]?.n ?? 0;
    let groups: UsageReport['groups'] = [];
    if (q.groupBy.length > 0) {
      const cols = q.groupBy.map((k) => `${GROUP_SQL[k]} AS "${k}"`).join(', ');
      const order = q.groupBy.map((_, i) => String(i + 1)).join(', ');
      groups = (await this.query(`SELECT ${cols}, ${ROLLED_COUNTERS_SQL} FROM (${source.sql}) AS u GROUP BY ${order} ORDER BY ${order}`, source.params))
        .rows as UsageReport['groups'];
    }
    return { totals: { ...totals, refused }, groups };
  }

  async metricTotals(): Promise<MetricTotals> {
    return {
      requests: (await this.query(`SELECT team, model, provider, status, ${ROLLED_COUNTERS_SQL} FROM usage_hourly GROUP BY team, model, provider, status`)).rows as MetricTotals['requests'],
      refusals: (await this.query(`SELECT team, window_kind AS window, COUNT(*) AS refusals FROM refusals GROUP BY team, window_kind`)).rows as MetricTotals['refusals'],
    };
  }

  async requests(q: RequestsQuery): Promise<StoredRecord[]> {
    const clauses = ['ts >= $1', 'ts < $2'];
    const params: unknown[] = [q.from, q.to];
    if (q.team !== undefined) {
      params.push(q.team);
      clauses.push(`team = $${params.length}`);
    }
    if (q.cursor) {
      params.push(q.cursor.ts, q.cursor.id);
      clauses.push(`(ts < $${params.length - 1} OR (ts = $${params.length - 1} AND id < $${params.length}))`);
    }
    params.push(q.limit);
    const rows = (await this.query<RequestRow>(`SELECT * FROM requests WHERE ${clauses.join(' AND ')} ORDER BY ts DESC, id DESC LIMIT $${params.length}`, params)).rows;
    return rows.map(fromRow);
  }

  async recordAlert(event: AlertEvent, webhooks: readonly { url: string; format: 'json' | 'slack' }[], now: number): Promise<boolean> {
    return this.tx(async (c) => {
      const inserted = await c.query<{ id: number }>(
        `INSERT INTO alert_events (event, team, budget, window_start, threshold, payload, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7)
         ON CONFLICT (event, team, budget, window_start, threshold) DO NOTHING RETURNING id`,
        [event.event, event.team, event.budget, event.windowStart, event.threshold, JSON.stringify(event.payload), now],
      );
      const id = inserted.rows[0]?.id;
      if (id === undefined) return false;
      for (const w of webhooks) {
        await c.query(`INSERT INTO alert_deliveries (event_id, url, format, state, attempts, next_attempt_at) VALUES ($1,$2,$3,'pending',0,$4)
          ON CONFLICT (event_id, url) DO NOTHING`, [id, w.url, w.format, now]);
      }
      return true;
    });
  }

  async firedThresholds(team: string, budget: string, windowStart: number): Promise<number[]> {
    return (await this.query<{ threshold: number }>(`SELECT threshold FROM alert_events WHERE event = 'budget.threshold' AND team = $1 AND budget = $2 AND window_start = $3`,
      [team, budget, windowStart])).rows.map((r) => r.threshold);
  }

  /** Due deliveries claimed for this sender (a minute to record an attempt): no other instance sends them meanwhile. */
  async dueDeliveries(now: number, limit: number): Promise<Delivery[]> {
    const rows = (await this.query<{ id: number; event_id: number; url: string; format: 'json' | 'slack'; attempts: number; payload: string }>(
      `WITH due AS (
         SELECT id FROM alert_deliveries
         WHERE state = 'pending' AND next_attempt_at <= $1 AND (claimed_until IS NULL OR claimed_until < $1)
         ORDER BY next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED)
       UPDATE alert_deliveries d SET claimed_until = $1 + 60000 FROM due, alert_events e
       WHERE d.id = due.id AND e.id = d.event_id
       RETURNING d.id, d.event_id, d.url, d.format, d.attempts, e.payload`, [now, limit])).rows;
    return rows.map((r) => ({ id: r.id, eventId: r.event_id, url: r.url, format: r.format, attempts: r.attempts, payload: JSON.parse(r.payload) as Record<string, unknown> }));
  }

  async recordAttempt(
    deliveryId: number,
    at: number,
    outcome: { ok: boolean; httpStatus?: number; error?: string },
    next: { state: 'pending' | 'delivered' | 'failed'; nextAttemptAt: number },
  ): Promise<void> {
    await this.tx(async (c) => {
      await c.query('INSERT INTO alert_attempts (delivery_id, at, http_status, error, ok) VALUES ($1,$2,$3,$4,$5)',
        [deliveryId, at, outcome.httpStatus ?? null, outcome.error ?? null, outcome.ok]);
      await c.query(`UPDATE alert_deliveries SET state = $1, attempts = attempts + 1, next_attempt_at = $2, last_error = $3,
        delivered_at = $4, claimed_until = NULL WHERE id = $5`,
        [next.state, next.nextAttemptAt, outcome.ok ? null : (outcome.error ?? `HTTP ${outcome.httpStatus}`), next.state === 'delivered' ? at : null, deliveryId]);
    });
  }

  async deliveries(team: string | undefined, limit: number): Promise<DeliveryView[]> {
    const rows = (await this.query<Omit<DeliveryView, 'delivered_at'> & { delivered_at: number | null }>(
      `SELECT d.id, e.event, e.team, e.budget AS window, e.threshold, d.url, d.state, d.attempts, d.last_error, d.delivered_at
       FROM alert_deliveries d JOIN alert_events e ON e.id = d.event_id ${team === undefined ? '' : 'WHERE e.team = $2'}
       ORDER BY d.id DESC LIMIT $1`, team === undefined ? [limit] : [limit, team])).rows;
    return rows.map((r) => ({ ...r, delivered_at: r.delivered_at === null ? null : new Date(r.delivered_at).toISOString() }));
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    if (this.pinging) clearInterval(this.pinging);
    await this.pool.end();
  }
}

interface RequestRow {
  id: number; request_id: string; ts: number; team: string; key_id: string; provider: string; model: string;
  endpoint: string; status: number; stream: boolean; latency_ms: number; input_tokens: number;
  cached_input_tokens: number; cache_write_tokens: number; cache_write_1h_tokens: number; output_tokens: number;
  reasoning_tokens: number; audio_input_tokens: number; audio_output_tokens: number; cost_nano: number; estimated: boolean;
  unpriced: boolean; rates: string | null; price_source: string | null; upstream_request_id: string | null;
}

interface ReservationRow {
  id: string; ts: number; team: string; key_id: string; provider: string; model: string; endpoint: string;
  stream: boolean; worst_case_nano: number; input_tokens: number; output_tokens: number; rates: string | null;
  price_source: string | null; unpriced: boolean;
}

function requestParams(r: LedgerRecord): unknown[] {
  const u = r.usage;
  return [r.requestId, r.ts, r.team, r.keyId, r.provider, r.model, r.endpoint, r.status, r.stream, Math.round(r.latencyMs),
    u.inputTokens, u.cachedInputTokens, u.cacheWriteTokens, u.cacheWrite1hTokens, u.outputTokens, u.reasoningTokens,
    u.audioInputTokens, u.audioOutputTokens, r.costNano, r.estimated, r.unpriced, r.rates ? JSON.stringify(r.rates) : null,
    r.priceSource, r.upstreamRequestId];
}

function recordFromReservation(row: ReservationRow): LedgerRecord {
  return {
    requestId: row.id, ts: row.ts, team: row.team, keyId: row.key_id, provider: row.provider, model: row.model,
    endpoint: row.endpoint, status: 0, stream: row.stream, latencyMs: 0,
    usage: {
      inputTokens: row.input_tokens, cachedInputTokens: 0, cacheWriteTokens: 0, cacheWrite1hTokens: 0,
      outputTokens: row.output_tokens, reasoningTokens: 0, audioInputTokens: 0, audioOutputTokens: 0,
    },
    costNano: row.worst_case_nano, estimated: true, unpriced: row.unpriced,
    rates: row.rates ? (JSON.parse(row.rates) as Rates) : null, priceSource: row.price_source, upstreamRequestId: null,
  };
}

function fromRow(row: RequestRow): StoredRecord {
  return {
    id: row.id, requestId: row.request_id, ts: row.ts, team: row.team, keyId: row.key_id, provider: row.provider,
    model: row.model, endpoint: row.endpoint, status: row.status, stream: row.stream, latencyMs: row.latency_ms,
    usage: {
      inputTokens: row.input_tokens, cachedInputTokens: row.cached_input_tokens, cacheWriteTokens: row.cache_write_tokens,
      cacheWrite1hTokens: row.cache_write_1h_tokens, outputTokens: row.output_tokens, reasoningTokens: row.reasoning_tokens,
      audioInputTokens: row.audio_input_tokens, audioOutputTokens: row.audio_output_tokens,
    },
    costNano: row.cost_nano, estimated: row.estimated, unpriced: row.unpriced,
    rates: row.rates ? (JSON.parse(row.rates) as Rates) : null, priceSource: row.price_source, upstreamRequestId: row.upstream_request_id,
  };
}
