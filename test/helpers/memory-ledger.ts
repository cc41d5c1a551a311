/**
 * The ledger's trivial twin: the same interface held in arrays, for unit tests of what sits on the
 * ledger (budgets, alerts) without SQLite, and as proof that nothing above the interface depends
 * on SQL. Reads implement only what those tests use; the rest says so.
 */
import { ZERO_USAGE } from '../../src/metering/usage.js';
import type { WindowKind } from '../../src/config/types.js';
import type {
  AdmitResult, AlertEvent, Delivery, DeliveryView, HardCap, Ledger, LedgerRecord, MetricTotals, Refusal, RequestsQuery, Reservation,
  StoredRecord, UsageQuery, UsageReport, WindowState,
} from '../../src/ledger/ledger.js';
import { LocalAdmission } from '../../src/ledger/local-admission.js';

export class MemoryLedger implements Ledger {
  readonly records: StoredRecord[] = [];
  private readonly local: LocalAdmission;

  constructor(clock: () => number = Date.now) {
    this.local = new LocalAdmission((team, from, to) => this.spentBetween(team, from, to), clock);
  }

  async admit(reservation: Reservation, caps: readonly HardCap[]): Promise<AdmitResult> {
    const result = this.local.check(reservation, caps);
    if (!result.ok) return result;
    this.reserve({ ...reservation, ts: result.ts });
    this.local.hold(reservation);
    return result;
  }

  async windowStates(team: string, windows: readonly WindowKind[], at?: number): Promise<WindowState[]> {
    return windows.map((w) => this.local.state(team, w, at ?? this.local.clock()));
  }

  healthy(): boolean {
    return true;
  }

  readonly reservations = new Map<string, Reservation>();
  readonly refusals: Refusal[] = [];
  readonly alerts: (AlertEvent & { id: number })[] = [];
  readonly deliveryRows: (Delivery & { state: string; nextAttemptAt: number; lastError: string | null })[] = [];

  async settle(record: LedgerRecord, reservationId: string | undefined): Promise<void> {
    this.records.push({ ...record, id: this.records.length + 1 });
    if (reservationId !== undefined) this.reservations.delete(reservationId);
    this.local.settled(record, reservationId);
  }

  reserve(reservation: Reservation): void {
    this.reservations.set(reservation.id, reservation);
  }

  async recoverOpenReservations(): Promise<LedgerRecord[]> {
    const recovered = [...this.reservations.values()].map((r): LedgerRecord => ({
      requestId: r.id, ts: r.ts, team: r.team, keyId: r.keyId, provider: r.provider, model: r.model, endpoint: r.endpoint,
      status: 0, stream: r.stream, latencyMs: 0,
      usage: { ...ZERO_USAGE, inputTokens: r.inputTokens, outputTokens: r.outputTokens },
      costNano: r.worstCaseNano, estimated: true, unpriced: r.unpriced, rates: r.rates, priceSource: r.priceSource, upstreamRequestId: null,
    }));
    for (const r of recovered) await this.settle(r, r.requestId);
    return recovered;
  }

  async recordRefusal(refusal: Refusal): Promise<void> {
    this.refusals.push(refusal);
  }

  private spentBetween(team: string, from: number, to: number | null): number {
    return this.records
      .filter((r) => r.team === team && r.ts >= from && (to === null || r.ts < to))
      .reduce((sum, r) => sum + r.costNano, 0);
  }

  async usage(q: UsageQuery): Promise<UsageReport> {
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

  async metricTotals(): Promise<MetricTotals> {
    throw new Error('MemoryLedger.metricTotals is not implemented in the twin');
  }

  async requests(q: RequestsQuery): Promise<StoredRecord[]> {
    return this.records
      .filter((r) => r.ts >= q.from && r.ts < q.to && (q.team === undefined || r.team === q.team))
      .filter((r) => !q.cursor || r.ts < q.cursor.ts || (r.ts === q.cursor.ts && r.id < q.cursor.id))
      .sort((a, b) => b.ts - a.ts || b.id - a.id)
      .slice(0, q.limit);
  }

  async recordAlert(event: AlertEvent, webhooks: readonly { url: string; format: 'json' | 'slack' }[], now: number): Promise<boolean> {
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

  async firedThresholds(team: string, budget: string, windowStart: number): Promise<number[]> {
    return this.alerts
      .filter((a) => a.event === 'budget.threshold' && a.team === team && a.budget === budget && a.windowStart === windowStart)
      .map((a) => a.threshold);
  }

  async dueDeliveries(now: number, limit: number): Promise<Delivery[]> {
    return this.deliveryRows.filter((d) => d.state === 'pending' && d.nextAttemptAt <= now).slice(0, limit);
  }

  async recordAttempt(
    deliveryId: number,
    _at: number,
    outcome: { ok: boolean; httpStatus?: number; error?: string },
    next: { state: 'pending' | 'delivered' | 'failed'; nextAttemptAt: number },
  ): Promise<void> {
    const d = this.deliveryRows.find((x) => x.id === deliveryId);
    if (!d) return;
    d.attempts += 1;
    d.state = next.state;
    d.nextAttemptAt = next.nextAttemptAt;
    d.lastError = outcome.ok ? null : (outcome.error ?? `HTTP ${outcome.httpStatus}`);
  }

  async deliveries(): Promise<DeliveryView[]> {
    throw new Error('MemoryLedger.deliveries is not implemented in the twin');
  }

  async close(): Promise<void> {}
}
