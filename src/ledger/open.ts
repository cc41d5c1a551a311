/** The ledger a config asks for: PostgreSQL when `database.url` is set, else SQLite at `database.path`. */
import type { Config } from '../config/types.js';
import type { Ledger } from './ledger.js';
import { PgLedger } from './pg-ledger.js';
import { SqliteLedger } from './sqlite-ledger.js';

export async function openLedger(
  config: Config,
  opts: { clock: () => number; log?: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void } },
): Promise<Ledger> {
  const db = config.database;
  if (db.url !== undefined) {
    return PgLedger.open({ url: db.url, poolSize: db.poolSize, statementTimeoutMs: db.statementTimeoutMs, leaseS: db.leaseS, ...(opts.log ? { log: opts.log } : {}) });
  }
  return new SqliteLedger(db.path, { clock: opts.clock });
}
