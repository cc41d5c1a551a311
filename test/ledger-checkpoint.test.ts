// WAL checkpoints run in a worker, never inside a request's commit: the main file still receives
// the ledger's pages while the writer's own automatic checkpoint is off.
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect, it, vi } from 'vitest';
import { SqliteLedger } from '../src/ledger/sqlite-ledger.js';
import type { LedgerRecord } from '../src/ledger/ledger.js';
import { usage } from './helpers/usage.js';

function record(i: number): LedgerRecord {
  return {
    requestId: `req-${i}`, ts: 1_700_000_000_000 + i, team: 'search', keyId: 'key_abc', provider: 'openai', model: 'gpt-4o',
    endpoint: '/v1/chat/completions', status: 200, stream: false, latencyMs: 3,
    usage: usage({ inputTokens: 10, outputTokens: 5 }),
    costNano: 1000 + i, estimated: false, unpriced: false, rates: null, priceSource: 'test', upstreamRequestId: null,
  };
}

it('checkpoints the WAL into the main file from a worker', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'tollgate-ckpt-')), 'ledger.db');
  const ledger = new SqliteLedger(path, { checkpointIntervalMs: 50 });
  const sizeAfterMigrations = statSync(path).size;
  for (let i = 0; i < 3000; i++) ledger.settle(record(i), undefined);
  // The writer never checkpoints by itself now; only the worker moves pages into the main file.
  await vi.waitFor(() => expect(statSync(path).size).toBeGreaterThan(sizeAfterMigrations + 100 * 1024), { timeout: 5000 });
  await ledger.close();
  const db = new Database(path, { readonly: true });
  const row = db.prepare('SELECT COUNT(*) AS n, SUM(cost_nano) AS s FROM requests').get() as { n: number; s: number };
  db.close();
  expect(row.n).toBe(3000);
  expect(row.s).toBe(3000 * 1000 + (2999 * 3000) / 2);
});
