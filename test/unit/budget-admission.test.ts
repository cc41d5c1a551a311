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
  const ledger = new MemoryLedger();
  const events: AlertEvent[] = [];
  return { ledger, events, book: new BudgetBook(ledger, () => NOW, { record: (e) => void events.push(e) }) };
}

it('holds add up: four 0.25 USD worst cases fit a 1 USD cap, the fifth is refused and recorded once', () => {
  const { ledger, events, book: b } = book();
  for (let i = 0; i < 4; i++) expect(b.admit(team, reservation(`r${i}`, 0.25 * USD)).ok).toBe(true);
  const fifth = b.admit(team, reservation('r4', 1));
  expect(fifth.ok).toBe(false);
  expect(ledger.reservations.size).toBe(4);
  expect(ledger.refusals).toHaveLength(1);
  expect(events.map((e) => e.event)).toEqual(['budget.exhausted']);
});

it('settling at the real cost frees the rest of the hold', () => {
  const { ledger, book: b } = book();
  expect(b.admit(team, reservation('a', 0.9 * USD)).ok).toBe(true);
  expect(b.admit(team, reservation('b', 0.2 * USD)).ok).toBe(false);
  b.settle('a', record('a', 0.1 * USD), team);
  expect(ledger.reservations.size).toBe(0);
  expect(b.admit(team, reservation('b', 0.9 * USD)).ok).toBe(true); // 0.1 spent + 0.9 held = 1.0 ≤ 1.0
  expect(b.admit(team, reservation('c', 1)).ok).toBe(false);
  expect(b.status(team)[0]).toMatchObject({ spent_usd: 0.1, reserved_usd: 0.9, remaining_usd: 0 });
});

it('recovers a dead process’s holds at their worst case, counted as spend', () => {
  const { ledger, book: b } = book();
  ledger.reserve(reservation('orphan', 0.7 * USD)); // left by a killed process
  const recovered = b.recover(() => team);
  expect(recovered.map((r) => [r.requestId, r.costNano, r.estimated, r.status])).toEqual([['orphan', 0.7 * USD, true, 0]]);
  expect(b.admit(team, reservation('next', 0.4 * USD)).ok).toBe(false);
  expect(b.admit(team, reservation('next', 0.3 * USD)).ok).toBe(true);
});

it('keeps the hold when the ledger write fails, and settles when a retry succeeds', () => {
  const ledger = new MemoryLedger();
  const failures: string[] = [];
  let diskFull = true;
  const write = ledger.settle.bind(ledger);
  ledger.settle = (record, reservationId) => {
    if (diskFull) throw new Error('SQLITE_FULL: database or disk is full');
    write(record, reservationId);
  };
  const b = new BudgetBook(ledger, () => NOW, { record: () => undefined }, {
    recorded: () => undefined,
    refused: () => undefined,
    failed: (err) => void failures.push((err as Error).message),
  });
  expect(b.admit(team, reservation('a', 0.6 * USD)).ok).toBe(true);
  b.settle('a', record('a', 0.1 * USD), team);
  expect(failures).toEqual(['SQLITE_FULL: database or disk is full']);
  // The hold stays: the cap still counts the worst case, and nothing was recorded.
  expect(b.openReservations()).toBe(1);
  expect(b.admit(team, reservation('b', 0.5 * USD)).ok).toBe(false);
  expect(ledger.records).toHaveLength(0);
  expect(b.retryUnwritten()).toBe(false);

  diskFull = false;
  expect(b.retryUnwritten()).toBe(true);
  expect(ledger.records.map((r) => [r.requestId, r.costNano])).toEqual([['a', 0.1 * USD]]);
  expect(b.openReservations()).toBe(0);
  expect(b.admit(team, reservation('b', 0.9 * USD)).ok).toBe(true);
});
