// The budget book against a real SQLite ledger: thresholds fire when spend lands exactly on them
// (no float drift), and several budgets on one window keep their own alerts.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { BudgetBook } from '../../src/budget/budget-book.js';
import type { BudgetConfig, TeamConfig } from '../../src/config/types.js';
import type { AlertEvent, LedgerRecord } from '../../src/ledger/ledger.js';
import { SqliteLedger } from '../../src/ledger/sqlite-ledger.js';
import { usage } from '../helpers/usage.js';

const NOW = Date.parse('2026-11-15T12:00:00Z');
let ledger: SqliteLedger;
afterEach(async () => ledger.close());

function setup(budgets: BudgetConfig[]) {
  ledger = new SqliteLedger(join(mkdtempSync(join(tmpdir(), 'tollgate-book-')), 'l.db'), { clock: () => NOW });
  const events: AlertEvent[] = [];
  const book = new BudgetBook(ledger, () => NOW, { record: async (e) => void ((await ledger.recordAlert(e, [], NOW)) && events.push(e)) });
  const team: TeamConfig = { name: 'search', keys: [], models: undefined, budgets };
  return { book, team, events };
}

let n = 0;
async function spend(book: BudgetBook, team: TeamConfig, costNano: number): Promise<void> {
  const id = `r${++n}`;
  await book.admit(team, {
    id, ts: NOW, team: team.name, keyId: 'k', provider: 'openai', model: 'm', endpoint: '/v1/chat/completions', stream: false,
    worstCaseNano: 0, inputTokens: 0, outputTokens: 0, rates: null, priceSource: null, unpriced: false,
  }, false);
  const record: LedgerRecord = {
    requestId: id, ts: NOW, team: team.name, keyId: 'k', provider: 'openai', model: 'm', endpoint: '/v1/chat/completions',
    status: 200, stream: false, latencyMs: 1,
    usage: usage({ inputTokens: 1, outputTokens: 1 }),
    costNano, estimated: false, unpriced: false, rates: null, priceSource: null, upstreamRequestId: null,
  };
  await book.settle(id, record, team);
}

it('fires a threshold when settled spend lands exactly on it (0.55 × $100 = $55)', async () => {
  // In floats 0.55 × 100e9 is 55000000000.00001: a ceil would miss spend of exactly $55.
  const { book, team, events } = setup([{ id: 'month', window: 'month', limitUsd: 100, alertAt: [0.55], hardCap: false }]);
  await spend(book, team, 54_999_999_999);
  expect(events).toHaveLength(0);
  await spend(book, team, 1);
  expect(events.map((e) => [e.event, e.threshold, e.payload.spent_usd])).toEqual([['budget.threshold', 0.55, 55]]);
});

it('keeps the alerts of two budgets on one window apart', async () => {
  const { book, team, events } = setup([
    { id: 'month', window: 'month', limitUsd: 10, alertAt: [0.5], hardCap: false },
    { id: 'month#2', window: 'month', limitUsd: 20, alertAt: [0.5], hardCap: true },
  ]);
  await spend(book, team, 6e9); // 60% of the first, 30% of the second
  await spend(book, team, 5e9); // 55% of the second
  expect(events.map((e) => [e.budget, e.payload.limit_usd, e.payload.window])).toEqual([
    ['month', 10, 'month'],
    ['month#2', 20, 'month'],
  ]);
  const status = await book.status(team);
  expect(status.map((s) => [s.limit_usd, s.alerts_fired])).toEqual([[10, [0.5]], [20, [0.5]]]);
});
