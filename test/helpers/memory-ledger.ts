/**
 * The ledger's trivial twin: the same interface held in arrays, for unit tests of what sits on the
 * ledger (budgets, alerts) without SQLite, and as proof that nothing above the interface depends
 * on SQL. Reads implement only what those tests use; the rest says so.
 */
import { ZERO_USAGE } from '../../src/metering/usage.js';
import type {
  AlertEvent, Delivery, DeliveryView, Ledger, LedgerRecord, Refusal, RequestsQuery, Reservation, StoredRecord,
  UsageQuery, UsageReport,
} from '../../src/ledger/ledger.js';

export class MemoryLedger implements Ledger {
  readonly records: StoredRecord[] = [];
  readonly reservations = new Map<string, Reservation>();
  readonly refusals: Refusal[] = [];
  readonly alerts: (AlertEvent & { id: number })[] = [];
  readonly deliveryRows: (Delivery & { state: string; nextAttemptAt: number; lastError: string | null })[] = [];

  settle(record: LedgerRecord, reservationId: string | undefined): void {
    this.records.push({ ...record, id: this.records.length + 1 });
    if (reservationId !== undefined) this.reservations.delete(reservationId);
  }

  reserve(reservation: Reservation): void {
    this.reservations.set(reservation.id, reservation);
  }

  recoverOpenReservations(): LedgerRecord[] {
    const recovered = [...this.reservations.values()].map((r): LedgerRecord => ({
      requestId: r.id, ts: r.ts, team: r.team, keyId: r.keyId, provider: r.provider, model: r.model, endpoint: r.endpoint,
      status: 0, stream: r.stream, latencyMs: 0,
      usage: { ...ZERO_USAGE, inputTokens: r.inputTokens, outputTokens: r.outputTokens },
      costNano: r.worstCaseNano, estimated: true, unpriced: r.unpriced, rates: r.rates, priceSource: r.priceSource, upstreamRequestId: null,
    }));
    for (const r of recovered) this.settle(r, r.requestId);
    return recovered;
  }

  recordRefusal(refusal: Refusal): void {
    this.refusals.push(refusal);
  }

  spentBetween(team: string, from: number, to: number | null): number {
    return this.records
      .filter((r) => r.team === team && r.ts >= from && (to === null || r.ts < to))
      .reduce((sum, r) => sum + r.costNano, 0);
  }

  usage(q: UsageQuery): UsageReport {
    if (q.groupBy.length > 0) throw new Error('MemoryLedger.usage: group_by is not implemented in the twin');
    const rows = this.records.filter((r) => r.ts >= q.from && r.ts < q.to && (q.team === undefined || r.team === q.team));
    const sum = (f: (r: StoredRecord) => number): number => rows.reduce((s, r) => s + f(r), 0);
    return {
      totals: {
        requests: rows.length, input_tokens: sum((r) => r.usage.inputTokens), cached_input_tokens: sum((r) => r.usage.cachedInputTokens),
        cache_write_tokens: sum((r) => r.usage.cacheWriteTokens), output_tokens: sum((r) => r.usage.outputTokens),
        reasoning_tokens: sum((r) => r.usage.reasoningTokens), audio_input_tokens: sum((r) => r.usage.audioInputTokens),
        audio_output_tokens: sum((r) => r.usage.audioOutputTokens), cost_nano: sum((r) => r.costNano),
        refused: this.refusals.filter((f) => f.ts >= q.from && f.ts < q.to && (q.team === undefined || f.team === q.team)).length,
      },
      groups: [],
    };
  }

  requests(q: RequestsQuery): StoredRecord[] {
    return this.records
      .filter((r) => r.ts >= q.from && r.ts < q.to && (q.team === undefined || r.team === q.team))
      .filter((r) => !q.cursor || r.ts < q.cursor.ts || (r.ts === q.cursor.ts && r.id < q.cursor.id))
      .sort((a, b) => b.ts - a.ts || b.id - a.id)
      .slice(0, q.limit);
  }

  recordAlert(event: AlertEvent, webhooks: readonly { url: string; format: 'json' | 'slack' }[], now: number): boolean {
    const same = (a: AlertEvent): boolean =>
      a.event === event.event && a.team === event.team && a.budget === event.budget && a.windowStart === event.windowStart && a.threshold === event.threshold;
    if (this.alerts.some(same)) return false;
    const id = this.alerts.length + 1;
    this.alerts.push({ ...event, id });
    for (const w of webhooks) {
      this.deliveryRows.push({ id: this.deliveryRows.length + 1, eventId: id, url: w.url, format: w.format, attempts: 0, payload: event.payload, state: 'pending', nextAttemptAt: now, lastError: null });
    }
    return true;
  }

  firedThresholds(team: string, budget: string, windowStart: number): number[] {
    return this.alerts
      .filter((a) => a.event === 'budget.threshold' && a.team === team && a.budget === budget && a.windowStart === windowStart)
      .map((a) => a.threshold);
  }

  dueDeliveries(now: number, limit: number): Delivery[] {
    return this.deliveryRows.filter((d) => d.state === 'pending' && d.nextAttemptAt <= now).slice(0, limit);
  }

  recordAttempt(
    deliveryId: number,
    _at: number,
    outcome: { ok: boolean; httpStatus?: number; error?: string },
    next: { state: 'pending' | 'delivered' | 'failed'; nextAttemptAt: number },
  ): void {
    const d = this.deliveryRows.find((x) => x.id === deliveryId);
    if (!d) return;
    d.attempts += 1;
    d.state = next.state;
    d.nextAttemptAt = next.nextAttemptAt;
    d.lastError = outcome.ok ? null : (outcome.error ?? `HTTP ${outcome.httpStatus}`);
  }

  deliveries(): DeliveryView[] {
    throw new Error('MemoryLedger.deliveries is not implemented in the twin');
  }

  async close(): Promise<void> {}
}
