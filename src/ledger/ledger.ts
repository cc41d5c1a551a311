/**
 * The ledger behind a small interface: the proxy, budgets and readers depend on this, so a
 * shared ledger (PostgreSQL for several instances) can stand in without touching routes.
 * Every write is one short synchronous transaction.
 */
import type { WebhookConfig } from '../config/types.js';
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

export interface Ledger {
  /** Insert the record and close its reservation (if any) in one transaction. */
  settle(record: LedgerRecord, reservationId: string | undefined): void;
  reserve(reservation: Reservation): void;
  /** Reservations a dead process left open: each becomes an estimated record at its worst case. */
  recoverOpenReservations(): LedgerRecord[];
  recordRefusal(refusal: Refusal): void;
  spentBetween(team: string, from: number, to: number | null): number;
  usage(q: UsageQuery): UsageReport;
  requests(q: RequestsQuery): StoredRecord[];
  /** Records the event once; returns false when this team/window/start/threshold already fired. */
  recordAlert(event: AlertEvent, webhooks: readonly WebhookConfig[], now: number): boolean;
  firedThresholds(team: string, budget: string, windowStart: number): number[];
  dueDeliveries(now: number, limit: number): Delivery[];
  recordAttempt(deliveryId: number, at: number, outcome: { ok: boolean; httpStatus?: number; error?: string }, next: { state: 'pending' | 'delivered' | 'failed'; nextAttemptAt: number }): void;
  deliveries(team: string | undefined, limit: number): DeliveryView[];
  close(): Promise<void>;
}
