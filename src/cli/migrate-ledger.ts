/**
 * `tollgate migrate-ledger --from data/tollgate.db --to postgres://…`: move a single-instance
 * SQLite ledger into PostgreSQL (SPEC §10), for running several instances. Records, refusals and
 * alert history are copied; a request is copied once however often this runs (its id is unique).
 * The SQLite file is locked meanwhile, so no Tollgate may be serving from it; holds still open
 * there (a process killed in flight) are copied as records at their worst case, as its next start
 * would have settled them.
 */
import Database from 'better-sqlite3';
import pg from 'pg';
import { LedgerLockedError, lockLedgerFile } from '../ledger/file-lock.js';
import { describeDatabase, PgLedger } from '../ledger/pg-ledger.js';
import { SqliteLedger } from '../ledger/sqlite-ledger.js';
import { parse, UsageError, type Command } from './command.js';

const REQUEST_COLUMNS = [
  'request_id', 'ts', 'team', 'key_id', 'provider', 'model', 'endpoint', 'status', 'stream', 'latency_ms', 'input_tokens',
  'cached_input_tokens', 'cache_write_tokens', 'cache_write_1h_tokens', 'output_tokens', 'reasoning_tokens',
  'audio_input_tokens', 'audio_output_tokens', 'cost_nano', 'estimated', 'unpriced', 'rates', 'price_source', 'upstream_request_id',
] as const;
const BOOLEAN = new Set(['stream', 'estimated', 'unpriced']);
const BATCH = 500;

export const migrateLedger: Command = {
  help: `Usage: tollgate migrate-ledger --from FILE --to postgres://USER@HOST:PORT/DB

Copies an SQLite ledger into PostgreSQL: every request record, refusal and alert event with its
deliveries and attempts. Stop the Tollgate that serves from FILE first (the file is locked while
copying). Records already in the target (by request id) are skipped, so it can be run again.
`,
  async run(args, io) {
    const { values, positionals } = parse(args, { from: { type: 'string' }, to: { type: 'string' } });
    if (values.help) {
      io.out(this.help);
      return 0;
    }
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    if (!values.from || !values.to) throw new UsageError('--from FILE and --to postgres://… are both required');
    if (!/^postgres(ql)?:\/\//.test(values.to)) throw new UsageError('--to must be a postgres:// URL');

    // Settle what a killed process left open, as its next start would; then hold the file.
    try {
      const sqlite = new SqliteLedger(values.from);
      await sqlite.recoverOpenReservations();
      await sqlite.close();
    } catch (err) {
      if (err instanceof LedgerLockedError) {
        io.err(`tollgate migrate-ledger: ${err.message}\nStop it first.\n`);
        return 1;
      }
      throw err;
    }
    const unlock = lockLedgerFile(values.from);
    const source = new Database(values.from, { readonly: true });
    try {
      // The target's schema, by the same migrations the server applies.
      await (await PgLedger.open({ url: values.to, poolSize: 1, statementTimeoutMs: 60_000, leaseS: 30 })).close();
      const target = new pg.Client({ connectionString: values.to });
      await target.connect();
      try {
        const copied = await copy(source, target);
        io.out(`${copied.requests} request records (${copied.skipped} already there), ${copied.refusals} refusals and ${copied.events} alert events copied from ${values.from} to ${describeDatabase(values.to)}.\n`);
      } finally {
        await target.end();
      }
    } finally {
      source.close();
      unlock();
    }
    return 0;
  },
};

async function copy(source: Database.Database, target: pg.Client) {
  await target.query('BEGIN');
  try {
    let requests = 0;
    let skipped = 0;
    const rows = source.prepare(`SELECT ${REQUEST_COLUMNS.join(', ')} FROM requests ORDER BY id`).all() as Record<string, unknown>[];
    for (let i = 0; i < rows.length; i += BATCH) {
      const batch = rows.slice(i, i + BATCH);
      const params: unknown[] = [];
      const tuples = batch.map((row) => {
        const values = REQUEST_COLUMNS.map((c) => (BOOLEAN.has(c) ? row[c] === 1 : row[c]));
        params.push(...values);
        return `(${values.map((_, j) => `$${params.length - values.length + j + 1}`).join(', ')})`;
      });
      const res = await target.query(`INSERT INTO requests (${REQUEST_COLUMNS.join(', ')}) VALUES ${tuples.join(', ')} ON CONFLICT (request_id) DO NOTHING`, params);
      requests += res.rowCount ?? 0;
      skipped += batch.length - (res.rowCount ?? 0);
    }
    const refusals = source.prepare('SELECT ts, team, key_id, provider, model, window, worst_case_nano FROM refusals ORDER BY id').all() as Record<string, unknown>[];
    for (const r of refusals) {
      await target.query('INSERT INTO refusals (ts, team, key_id, provider, model, window_kind, worst_case_nano) VALUES ($1,$2,$3,$4,$5,$6,$7)',
        [r.ts, r.team, r.key_id, r.provider, r.model, r.window, r.worst_case_nano]);
    }
    let events = 0;
    const eventRows = source.prepare('SELECT * FROM alert_events ORDER BY id').all() as Record<string, unknown>[];
    for (const e of eventRows) {
      const inserted = await target.query<{ id: number }>(
        `INSERT INTO alert_events (event, team, budget, window_start, threshold, payload, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7)
         ON CONFLICT (event, team, budget, window_start, threshold) DO NOTHING RETURNING id`,
        [e.event, e.team, e.window, e.window_start, e.threshold, e.payload, e.created_at]);
      const eventId = inserted.rows[0]?.id;
      if (eventId === undefined) continue;
      events++;
      for (const d of source.prepare('SELECT * FROM alert_deliveries WHERE event_id = ? ORDER BY id').all(e.id) as Record<string, unknown>[]) {
        const delivery = await target.query<{ id: number }>(
          `INSERT INTO alert_deliveries (event_id, url, format, state, attempts, next_attempt_at, last_error, delivered_at)
           VALUES ($1,$2,$3,$4,$5,$6,$7,$8) RETURNING id`,
          [eventId, d.url, d.format, d.state, d.attempts, d.next_attempt_at, d.last_error, d.delivered_at]);
        for (const a of source.prepare('SELECT * FROM alert_attempts WHERE delivery_id = ? ORDER BY id').all(d.id) as Record<string, unknown>[]) {
          await target.query('INSERT INTO alert_attempts (delivery_id, at, http_status, error, ok) VALUES ($1,$2,$3,$4,$5)',
            [delivery.rows[0]?.id, a.at, a.http_status, a.error, a.ok === 1]);
        }
      }
    }
    await target.query('COMMIT');
    return { requests, skipped, refusals: refusals.length, events };
  } catch (err) {
    await target.query('ROLLBACK');
    throw err;
  }
}
