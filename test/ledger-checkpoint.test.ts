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

it('keeps the WAL bounded under writes that never pause (the log starts over)', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'tollgate-ckpt-')), 'ledger.db');
  const ledger = new SqliteLedger(path, { checkpointIntervalMs: 200 });
  // Sixteen requests at a time, each a reservation then a record, as the proxy writes them: the
  // writer commits every turn, so the worker's checkpoint alone never catches up with it.
  const total = 40_000;
  let next = 0;
  let walMax = 0;
  await Promise.all(Array.from({ length: 16 }, async () => {
    while (next < total) {
      const i = next++;
      const r = record(i);
      await ledger.admit({ ...r, id: r.requestId, worstCaseNano: 5000, inputTokens: 10, outputTokens: 5 }, []);
      await ledger.settle(r, r.requestId);
      if (i % 1000 === 0) walMax = Math.max(walMax, statSync(`${path}-wal`).size);
    }
  }));
  await ledger.close();
  // A log that never started over holds every page written: well over 100 MB here.
  expect(walMax).toBeLessThan(64 * 1024 * 1024);
  const db = new Database(path, { readonly: true });
  expect((db.prepare('SELECT COUNT(*) AS n FROM requests').get() as { n: number }).n).toBe(total);
  db.close();
});
