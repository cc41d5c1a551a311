/**
 * The SQLite ledger (better-sqlite3, WAL). WAL with synchronous=NORMAL survives a killed process
 * with every committed transaction intact, which is the durability the proxy promises.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Rates } from '../pricing/rates.js';
import type { WindowKind } from '../config/types.js';
import type {
  AdmitResult, AlertEvent, Counters, Delivery, DeliveryView, GroupKey, HardCap, Ledger, LedgerRecord, MetricTotals, Refusal,
  RequestsQuery, Reservation, StoredRecord, UsageQuery, UsageReport, WindowState,
} from './ledger.js';
import { GroupCommit } from './group-commit.js';
import { LocalAdmission } from './local-admission.js';
import { spendSql, usageSource } from './usage-query.js';
import { Checkpointer } from './checkpointer.js';
import { lockLedgerFile } from './file-lock.js';
import { migrate } from './migrate.js';

const GROUP_SQL: Record<GroupKey, string> = {
  team: 'team',
  model: 'model',
  provider: 'provider',
  key: 'key_id',
  day: "strftime('%Y-%m-%d', ts / 1000, 'unixepoch')",
  hour: "strftime('%Y-%m-%dT%H:00:00Z', ts / 1000, 'unixepoch')",
};

/** Sums over a usage source (usage-query.ts), where `requests` is a count per row. */
const ROLLED_COUNTERS_SQL = `COALESCE(SUM(requests), 0) AS requests,
  COALESCE(SUM(input_tokens), 0) AS input_tokens,
  COALESCE(SUM(cached_input_tokens), 0) AS cached_input_tokens,
  COALESCE(SUM(cache_write_tokens), 0) AS cache_write_tokens,
  COALESCE(SUM(output_tokens), 0) AS output_tokens,
  COALESCE(SUM(reasoning_tokens), 0) AS reasoning_tokens,
  COALESCE(SUM(audio_input_tokens), 0) AS audio_input_tokens,
  COALESCE(SUM(audio_output_tokens), 0) AS audio_output_tokens,
  COALESCE(SUM(cost_nano), 0) AS cost_nano`;

interface RequestRow {
  id: number; request_id: string; ts: number; team: string; key_id: string; provider: string; model: string;
  endpoint: string; status: number; stream: number; latency_ms: number; input_tokens: number;
  cached_input_tokens: number; cache_write_tokens: number; cache_write_1h_tokens: number; output_tokens: number;
  reasoning_tokens: number; audio_input_tokens: number; audio_output_tokens: number; cost_nano: number; estimated: number;
  unpriced: number; rates: string | null;
  price_source: string | null; upstream_request_id: string | null;
}

interface ReservationRow {
  id: string; ts: number; team: string; key_id: string; provider: string; model: string; endpoint: string;
  stream: number; worst_case_nano: number; input_tokens: number; output_tokens: number; rates: string | null;
  price_source: string | null; unpriced: number;
}

export class SqliteLedger implements Ledger {
  private readonly db: Database.Database;
  private readonly stmts;
  private readonly checkpointer: Checkpointer | undefined;
  private readonly unlock: () => void;
  /** One process owns this file (file-lock.ts): admission is kept in its memory beside it. */
  private readonly local: LocalAdmission;
  private readonly group: GroupCommit;

  constructor(path: string, opts: { checkpointIntervalMs?: number; clock?: () => number } = {}) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.unlock = path === ':memory:' ? () => {} : lockLedgerFile(path);
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    if (path !== ':memory:') {
      // Checkpoints run in a worker (see checkpointer.ts), never inside a request's commit.
      this.db.pragma('wal_autocheckpoint = 0');
      // When the log starts over after a burst, the file is cut back to this size.
      this.db.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
      this.checkpointer = new Checkpointer(this.db, path, opts.checkpointIntervalMs ?? 1000);
    }
    this.db.pragma('foreign_keys = ON');
    migrate(this.db);
    const db = this.db;
    this.stmts = {
      insertRequest: db.prepare(`INSERT INTO requests (request_id, ts, team, key_id, provider, model, endpoint, status,
        stream, latency_ms, input_tokens, cached_input_tokens, cache_write_tokens, cache_write_1h_tokens, output_tokens,
        reasoning_tokens, audio_input_tokens, audio_output_tokens, cost_nano, estimated, unpriced, rates, price_source,
        upstream_request_id)
        VALUES (@request_id, @ts, @team, @key_id, @provider, @model, @endpoint, @status, @stream, @latency_ms,
        @input_tokens, @cached_input_tokens, @cache_write_tokens, @cache_write_1h_tokens, @output_tokens,
        @reasoning_tokens, @audio_input_tokens, @audio_output_tokens, @cost_nano, @estimated, @unpriced, @rates, @price_source,
        @upstream_request_id)`),
      deleteReservation: db.prepare('DELETE FROM reservations WHERE id = ?'),
      insertReservation: db.prepare(`INSERT INTO reservations (id, ts, team, key_id, provider, model, endpoint, stream,
        worst_case_nano, input_tokens, output_tokens, rates, price_source, unpriced)
        VALUES (@id, @ts, @team, @key_id, @provider, @model, @endpoint, @stream, @worst_case_nano, @input_tokens,
        @output_tokens, @rates, @price_source, @unpriced)`),
      allReservations: db.prepare('SELECT * FROM reservations ORDER BY ts'),
      insertRefusal: db.prepare(`INSERT INTO refusals (ts, team, key_id, provider, model, window, worst_case_nano)
        VALUES (@ts, @team, @keyId, @provider, @model, @window, @worstCaseNano)`),
      insertAlert: db.prepare(`INSERT OR IGNORE INTO alert_events (event, team, window, window_start, threshold, payload, created_at)
        VALUES (?, ?, ?, ?, ?, ?, ?)`),
      insertDelivery: db.prepare(`INSERT OR IGNORE INTO alert_deliveries (event_id, url, format, state, attempts, next_attempt_at)
        VALUES (?, ?, ?, 'pending', 0, ?)`),
      fired: db.prepare(`SELECT threshold FROM alert_events WHERE event = 'budget.threshold' AND team = ? AND window = ? AND window_start = ?`),
      due: db.prepare(`SELECT d.id, d.event_id, d.url, d.format, d.attempts, e.payload FROM alert_deliveries d
        JOIN alert_events e ON e.id = d.event_id WHERE d.state = 'pending' AND d.next_attempt_at <= ? ORDER BY d.next_attempt_at LIMIT ?`),
      insertAttempt: db.prepare('INSERT INTO alert_attempts (delivery_id, at, http_status, error, ok) VALUES (?, ?, ?, ?, ?)'),
      updateDelivery: db.prepare(`UPDATE alert_deliveries SET state = ?, attempts = attempts + 1, next_attempt_at = ?,
        last_error = ?, delivered_at = ? WHERE id = ?`),
    };
    this.local = new LocalAdmission((team, from, to) => this.spentBetween(team, from, to), opts.clock ?? Date.now);
    this.group = new GroupCommit(this.db);
  }

  async admit(reservation: Reservation, caps: readonly HardCap[]): Promise<AdmitResult> {
    // Check and hold in one synchronous step (no other request runs in between); the request is
    // forwarded only once its reservation row has committed, with the others of this turn.
    const result = this.local.check(reservation, caps);
    if (!result.ok) return result;
    this.local.hold(reservation);
    try {
      await this.group.write(() => this.reserve({ ...reservation, ts: result.ts }));
    } catch (err) {
      this.local.released(reservation.id);
      throw err;
    }
    return result;
  }

  async windowStates(team: string, windows: readonly WindowKind[], at?: number): Promise<WindowState[]> {
    const t = at ?? this.local.clock();
    return windows.map((w) => this.local.state(team, w, t));
  }

  healthy(): boolean {
    return this.db.open;
  }

  async settle(record: LedgerRecord, reservationId: string | undefined): Promise<void> {
    // The hold is released in the same synchronous step as the commit: no admission can see
    // the record and its hold both, or neither.
    await this.group.write(() => {
      this.stmts.insertRequest.run(toRow(record));
      if (reservationId !== undefined) this.stmts.deleteReservation.run(reservationId);
    }, () => this.local.settled(record, reservationId));
  }

  /** A reservation row, also written directly by tests that play a process killed in flight. */
  reserve(r: Reservation): void {
    this.stmts.insertReservation.run({
      id: r.id, ts: r.ts, team: r.team, key_id: r.keyId, provider: r.provider, model: r.model, endpoint: r.endpoint,
      stream: r.stream ? 1 : 0, worst_case_nano: r.worstCaseNano, input_tokens: r.inputTokens,
      output_tokens: r.outputTokens, rates: r.rates ? JSON.stringify(r.rates) : null, price_source: r.priceSource,
      unpriced: r.unpriced ? 1 : 0,
    });
  }

  async recoverOpenReservations(): Promise<LedgerRecord[]> {
    const recovered = this.db.transaction(() => {
      const rows = this.stmts.allReservations.all() as ReservationRow[];
      return rows.map((row) => {
        const record: LedgerRecord = {
          requestId: row.id, ts: row.ts, team: row.team, keyId: row.key_id, provider: row.provider, model: row.model,
          endpoint: row.endpoint, status: 0, stream: row.stream === 1, latencyMs: 0,
          usage: {
            inputTokens: row.input_tokens, cachedInputTokens: 0, cacheWriteTokens: 0, cacheWrite1hTokens: 0,
            outputTokens: row.output_tokens, reasoningTokens: 0, audioInputTokens: 0, audioOutputTokens: 0,
          },
          costNano: row.worst_case_nano, estimated: true, unpriced: row.unpriced === 1,
          rates: row.rates ? (JSON.parse(row.rates) as Rates) : null, priceSource: row.price_source, upstreamRequestId: null,
        };
        this.stmts.insertRequest.run(toRow(record));
        this.stmts.deleteReservation.run(row.id);
        return record;
      });
    }).immediate();
    for (const r of recovered) this.local.settled(r, undefined);
    return recovered;
  }

  async recordRefusal(refusal: Refusal): Promise<void> {
    this.stmts.insertRefusal.run(refusal);
  }

  private spentBetween(team: string, from: number, to: number | null): number {
    const q = spendSql(team, from, to, () => '?');
    return (this.db.prepare(q.sql).get(...q.params) as { s: number }).s;
  }

  async usage(q: UsageQuery): Promise<UsageReport> {
    const source = usageSource(q, () => '?');
    const totals = this.db.prepare(`SELECT ${ROLLED_COUNTERS_SQL} FROM (${source.sql})`).get(...source.params) as Counters;
    const where = q.team === undefined ? 'ts >= ? AND ts < ?' : 'ts >= ? AND ts < ? AND team = ?';
    const params = q.team === undefined ? [q.from, q.to] : [q.from, q.to, q.team];
    const refused = (this.db.prepare(`SELECT COUNT(*) AS n FROM refusals WHERE ${where}`).get(...params) as { n: number }).n;
    let groups: UsageReport['groups'] = [];
    if (q.groupBy.length > 0) {
      const cols = q.groupBy.map((k) => `${GROUP_SQL[k]} AS "${k}"`).join(', ');
      const order = q.groupBy.map((_, i) => String(i + 1)).join(', ');
      groups = this.db
        .prepare(`SELECT ${cols}, ${ROLLED_COUNTERS_SQL} FROM (${source.sql}) GROUP BY ${order} ORDER BY ${order}`)
        .all(...source.params) as UsageReport['groups'];
    }
    return { totals: { ...totals, refused }, groups };
  }

  async metricTotals(): Promise<MetricTotals> {
    return {
      requests: this.db.prepare(`SELECT team, model, provider, status, ${ROLLED_COUNTERS_SQL} FROM usage_hourly GROUP BY team, model, provider, status`).all() as MetricTotals['requests'],
      refusals: this.db.prepare('SELECT team, window, COUNT(*) AS refusals FROM refusals GROUP BY team, window').all() as MetricTotals['refusals'],
    };
  }

  async requests(q: RequestsQuery): Promise<StoredRecord[]> {
    const clauses = ['ts >= ?', 'ts < ?'];
    const params: (string | number)[] = [q.from, q.to];
    if (q.team !== undefined) {
      clauses.push('team = ?');
      params.push(q.team);
    }
    if (q.cursor) {
      clauses.push('(ts < ? OR (ts = ? AND id < ?))');
      params.push(q.cursor.ts, q.cursor.ts, q.cursor.id);
    }
    const rows = this.db
      .prepare(`SELECT * FROM requests WHERE ${clauses.join(' AND ')} ORDER BY ts DESC, id DESC LIMIT ?`)
      .all(...params, q.limit) as RequestRow[];
    return rows.map(fromRow);
  }

  async recordAlert(event: AlertEvent, webhooks: readonly { url: string; format: 'json' | 'slack' }[], now: number): Promise<boolean> {
    return this.db.transaction(() => {
      // The `window` column holds the budget's id: unique per team, and the window's name in the common case.
      const res = this.stmts.insertAlert.run(event.event, event.team, event.budget, event.windowStart, event.threshold,
        JSON.stringify(event.payload), now);
      if (res.changes === 0) return false;
      for (const w of webhooks) this.stmts.insertDelivery.run(res.lastInsertRowid, w.url, w.format, now);
      return true;
    })();
  }

  async firedThresholds(team: string, budget: string, windowStart: number): Promise<number[]> {
    return (this.stmts.fired.all(team, budget, windowStart) as { threshold: number }[]).map((r) => r.threshold);
  }

  async dueDeliveries(now: number, limit: number): Promise<Delivery[]> {
    const rows = this.stmts.due.all(now, limit) as { id: number; event_id: number; url: string; format: 'json' | 'slack'; attempts: number; payload: string }[];
    return rows.map((r) => ({ id: r.id, eventId: r.event_id, url: r.url, format: r.format, attempts: r.attempts, payload: JSON.parse(r.payload) as Record<string, unknown> }));
  }

  async recordAttempt(
    deliveryId: number,
    at: number,
    outcome: { ok: boolean; httpStatus?: number; error?: string },
    next: { state: 'pending' | 'delivered' | 'failed'; nextAttemptAt: number },
  ): Promise<void> {
    this.db.transaction(() => {
      this.stmts.insertAttempt.run(deliveryId, at, outcome.httpStatus ?? null, outcome.error ?? null, outcome.ok ? 1 : 0);
      this.stmts.updateDelivery.run(next.state, next.nextAttemptAt, outcome.ok ? null : (outcome.error ?? `HTTP ${outcome.httpStatus}`),
        next.state === 'delivered' ? at : null, deliveryId);
    })();
  }

  async deliveries(team: string | undefined, limit: number): Promise<DeliveryView[]> {
    const rows = this.db.prepare(`SELECT d.id, e.event, e.team, e.window, e.threshold, d.url, d.state, d.attempts, d.last_error,
        d.delivered_at FROM alert_deliveries d JOIN alert_events e ON e.id = d.event_id
        ${team === undefined ? '' : 'WHERE e.team = ?'} ORDER BY d.id DESC LIMIT ?`)
      .all(...(team === undefined ? [limit] : [team, limit])) as (Omit<DeliveryView, 'delivered_at'> & { delivered_at: number | null })[];
    return rows.map((r) => ({ ...r, delivered_at: r.delivered_at === null ? null : new Date(r.delivered_at).toISOString() }));
  }

  /** Stop the checkpointer, then close: the last connection's close checkpoints what is left. */
  async close(): Promise<void> {
    if (this.db.open) this.group.flush();
    await this.checkpointer?.stop();
    if (this.db.open) this.db.close();
    this.unlock();
  }
}

function toRow(r: LedgerRecord): Omit<RequestRow, 'id'> {
  return {
    request_id: r.requestId, ts: r.ts, team: r.team, key_id: r.keyId, provider: r.provider, model: r.model,
    endpoint: r.endpoint, status: r.status, stream: r.stream ? 1 : 0, latency_ms: Math.round(r.latencyMs),
    input_tokens: r.usage.inputTokens, cached_input_tokens: r.usage.cachedInputTokens,
    cache_write_tokens: r.usage.cacheWriteTokens, cache_write_1h_tokens: r.usage.cacheWrite1hTokens,
    output_tokens: r.usage.outputTokens, reasoning_tokens: r.usage.reasoningTokens,
    audio_input_tokens: r.usage.audioInputTokens, audio_output_tokens: r.usage.audioOutputTokens, cost_nano: r.costNano,
    estimated: r.estimated ? 1 : 0, unpriced: r.unpriced ? 1 : 0, rates: r.rates ? JSON.stringify(r.rates) : null,
    price_source: r.priceSource, upstream_request_id: r.upstreamRequestId,
  };
}

function fromRow(row: RequestRow): StoredRecord {
  return {
    id: row.id, requestId: row.request_id, ts: row.ts, team: row.team, keyId: row.key_id, provider: row.provider,
    model: row.model, endpoint: row.endpoint, status: row.status, stream: row.stream === 1, latencyMs: row.latency_ms,
    usage: {
      inputTokens: row.input_tokens, cachedInputTokens: row.cached_input_tokens, cacheWriteTokens: row.cache_write_tokens,
      cacheWrite1hTokens: row.cache_write_1h_tokens, outputTokens: row.output_tokens, reasoningTokens: row.reasoning_tokens,
      audioInputTokens: row.audio_input_tokens, audioOutputTokens: row.audio_output_tokens,
    },
    costNano: row.cost_nano, estimated: row.estimated === 1, unpriced: row.unpriced === 1,
    rates: row.rates ? (JSON.parse(row.rates) as Rates) : null, priceSource: row.price_source,
    upstreamRequestId: row.upstream_request_id,
  };
}
