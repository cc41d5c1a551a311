// Admission against the ledger's in-memory twin: the check and the hold are one step, so holds
// add up across requests in flight, and settling or recovering frees exactly what was held.
import { expect, it } from 'vitest';
import { BudgetBook } from '../../src/budget/budget-book.js';
import type { TeamConfig } from '../../src/config/types.js';
import type { AlertEvent, LedgerRecord, Reservation } from '../../src/ledger/ledger.js';
import { ZERO_USAGE } from '../../src/metering/usage.js';
import { MemoryLedger } from '../helpers/memory-ledger.js';

const NOW = Date.parse('2026-11-15T12:00:00Z');
const team: TeamConfig = { name: 'search', keys: [], models: undefined, budgets: [{ id: 'day', window: 'day', limitUsd: 1, alertAt: [], hardCap: true }] };
const USD = 1e9;

function reservation(id: string, worstCaseNano: number): Reservation {
  return { id, ts: NOW, team: 'search', keyId: 'k', provider: 'openai', model: 'm', endpoint: '/v1/chat/completions', stream: false, worstCaseNano, inputTokens: 1, outputTokens: 1, rates: null, priceSource: null, unpriced: false };
}

function record(id: string, costNano: number): LedgerRecord {
  return { requestId: id, ts: NOW, team: 'search', keyId: 'k', provider: 'openai', model: 'm', endpoint: '/v1/chat/completions', status: 200, stream: false, latencyMs: 1, usage: ZERO_USAGE, costNano, estimated: false, unpriced: false, rates: null, priceSource: null, upstreamRequestId: null };
}

function book() {
  const ledger = new MemoryLedger(() => NOW);
  const events: AlertEvent[] = [];
  return { ledger, events, book: new BudgetBook(ledger, () => NOW, { record: async (e) => void events.push(e) }) };
}

it('holds add up: four 0.25 USD worst cases fit a 1 USD cap, the fifth is refused and recorded once', async () => {
  const { ledger, events, book: b } = book();
  for (let i = 0; i < 4; i++) expect((await b.admit(team, reservation(`r${i}`, 0.25 * USD))).ok).toBe(true);
  const fifth = await b.admit(team, reservation('r4', 1));
  expect(fifth.ok).toBe(false);
  if (!fifth.ok) await b.refused(fifth.refusal, reservation('r4', 1), fifth.ts);
  expect(ledger.reservations.size).toBe(4);
  expect(ledger.refusals).toHaveLength(1);
  expect(events.map((e) => e.event)).toEqual(['budget.exhausted']);
});

it('settling at the real cost frees the rest of the hold', async () => {
  const { ledger, book: b } = book();
  expect((await b.admit(team, reservation('a', 0.9 * USD))).ok).toBe(true);
  expect((await b.admit(team, reservation('b', 0.2 * USD))).ok).toBe(false);
  await b.settle('a', record('a', 0.1 * USD), team);
  expect(ledger.reservations.size).toBe(0);
  expect((await b.admit(team, reservation('b', 0.9 * USD))).ok).toBe(true); // 0.1 spent + 0.9 held = 1.0 ≤ 1.0
  expect((await b.admit(team, reservation('c', 1))).ok).toBe(false);
  expect((await b.status(team))[0]).toMatchObject({ spent_usd: 0.1, reserved_usd: 0.9, remaining_usd: 0 });
});

it('recovers a dead process’s holds at their worst case, counted as spend', async () => {
  const { ledger, book: b } = book();
  ledger.reserve(reservation('orphan', 0.7 * USD)); // left by a killed process
  const recovered = await b.recover(() => team);
  expect(recovered.map((r) => [r.requestId, r.costNano, r.estimated, r.status])).toEqual([['orphan', 0.7 * USD, true, 0]]);
  expect((await b.admit(team, reservation('next', 0.4 * USD))).ok).toBe(false);
  expect((await b.admit(team, reservation('next', 0.3 * USD))).ok).toBe(true);
});

it('keeps the hold when the ledger write fails, and settles when a retry succeeds', async () => {
  const ledger = new MemoryLedger(() => NOW);
  const failures: string[] = [];
  let diskFull = true;
  const write = ledger.settle.bind(ledger);
  ledger.settle = async (record, reservationId) => {
    if (diskFull) throw new Error('SQLITE_FULL: database or disk is full');
    await write(record, reservationId);
  };
  const b = new BudgetBook(ledger, () => NOW, { record: async () => undefined }, {
    recorded: () => undefined,
    failed: (err) => void failures.push((err as Error).message),
  });
  expect((await b.admit(team, reservation('a', 0.6 * USD))).ok).toBe(true);
  await b.settle('a', record('a', 0.1 * USD), team);
  expect(failures).toEqual(['SQLITE_FULL: database or disk is full']);
  // The hold stays: the cap still counts the worst case, and nothing was recorded.
  expect(b.openReservations()).toBe(1);
  expect((await b.admit(team, reservation('b', 0.5 * USD))).ok).toBe(false);
  expect(ledger.records).toHaveLength(0);
  expect(await b.retryUnwritten()).toBe(false);

  diskFull = false;
  expect(await b.retryUnwritten()).toBe(true);
  expect(ledger.records.map((r) => [r.requestId, r.costNano])).toEqual([['a', 0.1 * USD]]);
  expect(b.openReservations()).toBe(0);
  expect((await b.admit(team, reservation('b', 0.9 * USD))).ok).toBe(true);
});
