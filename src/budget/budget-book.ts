/**
 * Budgets: admit or refuse before forwarding, then settle exactly once. Admission and the
 * reservation happen in one synchronous step (no await between the check and the hold), so
 * hundreds of concurrent requests cannot all pass the same check: spend never passes a hard cap.
 * Spend per window is read from the ledger once and then kept in memory alongside it.
 */
import { WINDOW_KINDS, type BudgetConfig, type TeamConfig, type WindowKind } from '../config/types.js';
import type { AlertEvent, Ledger, LedgerRecord, Reservation } from '../ledger/ledger.js';
import { nanoToUsd, usdToNano } from '../pricing/money.js';
import { isoOrNull, windowAt, type WindowBounds } from './windows.js';

function spendKey(team: string, kind: WindowKind, start: number): string {
  return `${team}\u0000${kind}\u0000${start}`;
}

export type Clock = () => number;

export interface BudgetRefusal {
  team: string;
  budget: BudgetConfig;
  window: WindowKind;
  limitNano: number;
  spentNano: number;
  reservedNano: number;
  worstCaseNano: number;
  windowStart: number;
  resetsAt: number | null;
}

export type Admission = { ok: true } | { ok: false; refusal: BudgetRefusal };

export interface BudgetStatus {
  team: string;
  window: WindowKind;
  limit_usd: number;
  spent_usd: number;
  reserved_usd: number;
  remaining_usd: number;
  window_start: string;
  resets_at: string | null;
  hard_cap: boolean;
  alerts_fired: number[];
}

export interface Alerting {
  /** Record the event once (idempotent) and queue its deliveries. */
  record(event: AlertEvent): void;
}

/** Observers of what the book records (metrics); never able to fail a request. */
export interface BookObserver {
  recorded(record: LedgerRecord): void;
  refused(team: string, window: string): void;
  /** Something after the request failed (a ledger write, an alert): logged, never thrown at it. */
  failed(err: unknown, what: string): void;
}

/** How often a settlement whose ledger write failed is tried again. */
const RETRY_MS = 1000;

export class BudgetBook {
  private readonly spent = new Map<string, number>();
  private readonly open = new Map<string, { team: string; amount: number }>();
  private readonly reservedByTeam = new Map<string, number>();
  private readonly fired = new Map<string, Set<number>>();
  private unwritten: { reservationId: string; record: LedgerRecord; team: TeamConfig | undefined }[] = [];
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ledger: Ledger,
    private readonly clock: Clock,
    private readonly alerting: Alerting,
    private readonly observer?: BookObserver,
  ) {}

  /** Whether a worst case fits every hard cap now; no side effects. */
  fits(team: TeamConfig, worstCaseNano: number): boolean {
    return this.firstExceeded(team, worstCaseNano) === undefined;
  }

  /**
   * Check every hard cap of the team and, when all fit, hold the worst case; one synchronous
   * step. Every forwarded request holds a reservation (so a crash never loses it); `enforce`
   * is false for free endpoints, which are recorded but never refused.
   */
  admit(team: TeamConfig, reservation: Reservation, enforce = true): Admission {
    const now = this.clock();
    const refusal = enforce ? this.firstExceeded(team, reservation.worstCaseNano) : undefined;
    if (refusal) {
      this.ledger.recordRefusal({
          ts: now, team: team.name, keyId: reservation.keyId, provider: reservation.provider, model: reservation.model,
        window: refusal.window, worstCaseNano: reservation.worstCaseNano,
      });
      this.alerting.record(exhaustedEvent(refusal, now));
      this.observer?.refused(team.name, refusal.window);
      return { ok: false, refusal };
    }
    this.ledger.reserve(reservation);
    this.open.set(reservation.id, { team: team.name, amount: reservation.worstCaseNano });
    this.reservedByTeam.set(team.name, (this.reservedByTeam.get(team.name) ?? 0) + reservation.worstCaseNano);
    return { ok: true };
  }

  private firstExceeded(team: TeamConfig, worstCaseNano: number): BudgetRefusal | undefined {
    const now = this.clock();
    const reserved = this.reservedByTeam.get(team.name) ?? 0;
    for (const budget of team.budgets) {
      if (!budget.hardCap) continue;
      const { w, spent, limit } = this.windowSpend(team.name, budget, now);
      if (spent + reserved + worstCaseNano > limit) {
        return {
          team: team.name, budget, window: budget.window, limitNano: limit, spentNano: spent, reservedNano: reserved,
          worstCaseNano, windowStart: w.start, resetsAt: w.resetsAt,
        };
      }
    }
    return undefined;
  }

  /** Write the record, close its reservation, count its cost and fire any threshold it crosses. */
  /**
   * If the write fails (disk full, I/O error), the hold stays in place and the write is tried
   * again: spend is never forgotten, and a cap never loosens because a write failed. A process
   * that dies first leaves the reservation row, settled at worst case at the next start.
   */
  settle(reservationId: string, record: LedgerRecord, team: TeamConfig | undefined): void {
    if (!this.tryWrite(reservationId, record, team)) {
      this.unwritten.push({ reservationId, record, team });
      this.retryTimer ??= setInterval(() => this.retryUnwritten(), RETRY_MS).unref();
    }
  }

  /** Write settlements that failed before; true when none is left. */
  retryUnwritten(): boolean {
    this.unwritten = this.unwritten.filter((u) => !this.tryWrite(u.reservationId, u.record, u.team));
    if (this.unwritten.length === 0 && this.retryTimer) {
      clearInterval(this.retryTimer);
      this.retryTimer = undefined;
    }
    return this.unwritten.length === 0;
  }

  private tryWrite(reservationId: string, record: LedgerRecord, team: TeamConfig | undefined): boolean {
    try {
      this.ledger.settle(record, reservationId);
    } catch (err) {
      this.observer?.failed(err, 'ledger write failed; the reservation is held and the write retried');
      return false;
    }
    this.release(reservationId);
    this.counted(record, team);
    return true;
  }

  /** A written record counts: as spend, in metrics, and against each alert threshold. */
  private counted(record: LedgerRecord, team: TeamConfig | undefined): void {
    this.addSpend(record);
    try {
      this.observer?.recorded(record);
      if (team) this.checkThresholds(team, record.ts);
    } catch (err) {
      this.observer?.failed(err, 'recording an alert failed');
    }
  }

  /**
   * Records that a dead process left open, settled at their worst case by the ledger; their
   * spend counts and fires thresholds like any other.
   */
  recover(teamNamed: (name: string) => TeamConfig | undefined): LedgerRecord[] {
    const records = this.ledger.recoverOpenReservations();
    for (const r of records) this.counted(r, teamNamed(r.team));
    return records;
  }

  openReservations(): number {
    return this.open.size;
  }

  status(team: TeamConfig): BudgetStatus[] {
    const now = this.clock();
    const reserved = this.reservedByTeam.get(team.name) ?? 0;
    return team.budgets.map((b) => {
      const { w, spent, limit } = this.windowSpend(team.name, b, now);
      return {
        team: team.name,
        window: b.window,
        limit_usd: b.limitUsd,
        spent_usd: nanoToUsd(spent),
        reserved_usd: nanoToUsd(reserved),
        remaining_usd: nanoToUsd(Math.max(0, limit - spent - reserved)),
        window_start: new Date(w.start).toISOString(),
        resets_at: isoOrNull(w.resetsAt),
        hard_cap: b.hardCap,
        alerts_fired: [...this.firedFor(team.name, b.id, w.start)].sort((a, b2) => a - b2),
      };
    });
  }

  private release(reservationId: string): void {
    const held = this.open.get(reservationId);
    if (!held) return;
    this.open.delete(reservationId);
    this.reservedByTeam.set(held.team, (this.reservedByTeam.get(held.team) ?? 0) - held.amount);
  }

  /** A budget's window at `at`, its settled spend there and its limit, all in nano-dollars. */
  private windowSpend(team: string, budget: BudgetConfig, at: number): { w: WindowBounds; spent: number; limit: number } {
    const w = windowAt(budget.window, at);
    const key = spendKey(team, budget.window, w.start);
    let spent = this.spent.get(key);
    if (spent === undefined) {
      spent = this.ledger.spentBetween(team, w.start, w.resetsAt);
      this.spent.set(key, spent);
    }
    return { w, spent, limit: usdToNano(budget.limitUsd) };
  }

  /** Only windows already read from the ledger are kept here; the others will read this record there. */
  private addSpend(record: LedgerRecord): void {
    if (record.costNano === 0) return;
    for (const kind of WINDOW_KINDS) {
      const key = spendKey(record.team, kind, windowAt(kind, record.ts).start);
      const cached = this.spent.get(key);
      if (cached !== undefined) this.spent.set(key, cached + record.costNano);
    }
  }

  private firedFor(team: string, budgetId: string, start: number): Set<number> {
    const key = `${team}\u0000${budgetId}\u0000${start}`;
    let set = this.fired.get(key);
    if (!set) {
      set = new Set(this.ledger.firedThresholds(team, budgetId, start));
      this.fired.set(key, set);
    }
    return set;
  }

  private checkThresholds(team: TeamConfig, ts: number): void {
    for (const budget of team.budgets) {
      if (budget.alertAt.length === 0) continue;
      const { w, spent, limit } = this.windowSpend(team.name, budget, ts);
      const fired = this.firedFor(team.name, budget.id, w.start);
      for (const threshold of budget.alertAt) {
        // A threshold is crossed when settled spend first reaches threshold × limit (SPEC §8).
        if (fired.has(threshold) || spent < Math.round(threshold * limit)) continue;
        fired.add(threshold);
        this.alerting.record({
          event: 'budget.threshold', team: team.name, budget: budget.id, windowStart: w.start, threshold,
          payload: {
            event: 'budget.threshold', team: team.name, window: budget.window, threshold, limit_usd: budget.limitUsd,
            spent_usd: nanoToUsd(spent), window_start: new Date(w.start).toISOString(), at: new Date(this.clock()).toISOString(),
          },
        });
      }
    }
  }
}

function exhaustedEvent(r: BudgetRefusal, now: number): AlertEvent {
  return {
    event: 'budget.exhausted', team: r.team, budget: r.budget.id, windowStart: r.windowStart, threshold: 1,
    payload: {
      event: 'budget.exhausted', team: r.team, window: r.window, threshold: 1, limit_usd: r.budget.limitUsd,
      spent_usd: nanoToUsd(r.spentNano), window_start: new Date(r.windowStart).toISOString(), at: new Date(now).toISOString(),
      request_worst_case_usd: nanoToUsd(r.worstCaseNano),
    },
  };
}

export function refusalMessage(r: BudgetRefusal): string {
  const usd = (n: number): string => `$${nanoToUsd(n).toFixed(6).replace(/0{1,4}$/, '')}`;
  const reset = r.resetsAt === null ? 'never resets (total budget)' : `resets at ${new Date(r.resetsAt).toISOString()}`;
  return (
    `Budget exceeded for team '${r.team}': ${r.window} budget limit ${usd(r.limitNano)}, spent ${usd(r.spentNano)}` +
    `, reserved in flight ${usd(r.reservedNano)}, this request could cost up to ${usd(r.worstCaseNano)}; the window ${reset}.`
  );
}
