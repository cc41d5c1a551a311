/**
 * The ledger behind a small interface: the proxy, budgets and readers depend on this, so a
 * shared ledger (PostgreSQL for several instances) can stand in without touching routes.
 * Every write is one short synchronous transaction.
 */
import type { WebhookConfig, WindowKind } from '../config/types.js';
import type { Usage } from '../metering/usage.js';
import type { Rates } from '../pricing/rates.js';

/** What a request is, known before it is forwarded: shared by its reservation and its record. */
export interface RequestFacts {
  ts: number;
  team: string;
  keyId: string;
  provider: string;
  model: string;
  endpoint: string;
  stream: boolean;
  rates: Rates | null;
  priceSource: string | null;
  unpriced: boolean;
}

export interface LedgerRecord extends RequestFacts {
  requestId: string;
  status: number;
  latencyMs: number;
  usage: Usage;
  costNano: number;
  estimated: boolean;
  upstreamRequestId: string | null;
}

export interface Reservation extends RequestFacts {
  id: string;
  worstCaseNano: number;
  /** The worst case's own token bounds, so a recovered row shows what it assumed. */
  inputTokens: number;
  outputTokens: number;
}

export interface Refusal {
  ts: number;
  team: string;
  keyId: string;
  provider: string;
  model: string;
  window: string;
  worstCaseNano: number;
}

export interface UsageQuery {
  from: number;
  to: number;
  team: string | undefined;
  groupBy: GroupKey[];
}

export const GROUP_KEYS = ['team', 'model', 'provider', 'key', 'day', 'hour'] as const;
export type GroupKey = (typeof GROUP_KEYS)[number];

export interface Counters {
  requests: number;
  input_tokens: number;
  cached_input_tokens: number;
  cache_write_tokens: number;
  output_tokens: number;
  reasoning_tokens: number;
  audio_input_tokens: number;
  audio_output_tokens: number;
  cost_nano: number;
}

export interface UsageReport {
  totals: Counters & { refused: number };
  groups: (Partial<Record<GroupKey, string>> & Counters)[];
}

export interface RequestsQuery {
  from: number;
  to: number;
  team: string | undefined;
  limit: number;
  cursor: { ts: number; id: number } | undefined;
}

/** All-time totals for /metrics: per team, model, provider and status; refusals per team and window. */
export interface MetricTotals {
  requests: ({ team: string; model: string; provider: string; status: number } & Counters)[];
  refusals: { team: string; window: string; refusals: number }[];
}

export interface StoredRecord extends LedgerRecord {
  id: number;
}

export interface AlertEvent {
  event: 'budget.threshold' | 'budget.exhausted';
  team: string;
  /** The budget's id within its team (its window, or `month#2`): part of the once-only key. */
  budget: string;
  windowStart: number;
  threshold: number;
  payload: Record<string, unknown>;
}

export interface Delivery {
  id: number;
  eventId: number;
  url: string;
  format: 'json' | 'slack';
  attempts: number;
  payload: Record<string, unknown>;
}

export interface DeliveryView {
  id: number;
  event: string;
  team: string;
  window: string;
  threshold: number;
  url: string;
  state: string;
  attempts: number;
  last_error: string | null;
  delivered_at: string | null;
}

/** A hard cap to hold a reservation against: the budget's id within its team, its window and limit. */
export interface HardCap {
  budgetId: string;
  window: WindowKind;
  limitNano: number;
}

/** Spend and holds in one window of a team, as the ledger sees them now. */
export interface WindowState {
  window: WindowKind;
  windowStart: number;
  resetsAt: number | null;
  spentNano: number;
  /** Every open reservation of the team counts against every one of its windows. */
  reservedNano: number;
}

export type AdmitResult =
  /** Held. `ts` is the request's time by the ledger's clock (the database's, with several instances). */
  | { ok: true; ts: number }
  | { ok: false; ts: number; cap: HardCap; state: WindowState };

export interface Ledger {
  /**
   * Hold the reservation if `spent + reserved + worst ≤ limit` for every cap, as one atomic step
   * where the truth lives (one process's memory beside SQLite; the database with several). With
   * no caps it is always held (so a crash never loses it).
   */
  admit(reservation: Reservation, caps: readonly HardCap[]): Promise<AdmitResult>;
  /** Insert the record and close its reservation (if any) in one transaction. */
  settle(record: LedgerRecord, reservationId: string | undefined): Promise<void>;
  /** Reservations a dead process left open: each becomes an estimated record at its worst case, once. */
  recoverOpenReservations(): Promise<LedgerRecord[]>;
  recordRefusal(refusal: Refusal): Promise<void>;
  /** Spend and holds of a team in each window kind, at `at` (default: the ledger's now). */
  windowStates(team: string, windows: readonly WindowKind[], at?: number): Promise<WindowState[]>;
  usage(q: UsageQuery): Promise<UsageReport>;
  metricTotals(): Promise<MetricTotals>;
  requests(q: RequestsQuery): Promise<StoredRecord[]>;
  /** Records the event once; returns false when this team/window/start/threshold already fired. */
  recordAlert(event: AlertEvent, webhooks: readonly WebhookConfig[], now: number): Promise<boolean>;
  firedThresholds(team: string, budget: string, windowStart: number): Promise<number[]>;
  /** Due deliveries, each handed to one sender only (claimed until it records an attempt). */
  dueDeliveries(now: number, limit: number): Promise<Delivery[]>;
  recordAttempt(deliveryId: number, at: number, outcome: { ok: boolean; httpStatus?: number; error?: string }, next: { state: 'pending' | 'delivered' | 'failed'; nextAttemptAt: number }): Promise<void>;
  deliveries(team: string | undefined, limit: number): Promise<DeliveryView[]>;
  /** Whether the ledger answers now (for /healthz). */
  healthy(): boolean;
  /**
   * A shared ledger: how often to look for holds whose instance died (every instance looks, so
   * any one left settles them). Absent for a ledger one process owns: it recovers at start.
   */
  readonly recoveryIntervalMs?: number;
  close(): Promise<void>;
}
