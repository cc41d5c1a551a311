/**
 * Budgets: which caps apply to a request, refusals and their messages, thresholds and alert
 * events. The atomic "hold this much if it fits" and the settlement live behind the ledger's
 * interface (SQLite: one process's memory beside the file; PostgreSQL: one statement in the
 * database), so the cap holds however many instances share the ledger.
 */
import type { BudgetConfig, TeamConfig, WindowKind } from '../config/types.js';
import type { AlertEvent, HardCap, Ledger, LedgerRecord, Reservation, WindowState } from '../ledger/ledger.js';
import { nanoToUsd, usdToNano } from '../pricing/money.js';
import { isoOrNull } from './windows.js';

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

/** Admitted at the ledger's time `ts` (the request's time from then on), or refused. */
export type Admission = { ok: true; ts: number } | { ok: false; ts: number; refusal: BudgetRefusal };

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
  record(event: AlertEvent): Promise<void>;
}

/** Observers of what the book records (metrics); never able to fail a request. */
export interface BookObserver {
  recorded(record: LedgerRecord): void;
  /** Something after the request failed (a ledger write, an alert): logged, never thrown at it. */
  failed(err: unknown, what: string): void;
}

/** How often a settlement whose ledger write failed is tried again. */
const RETRY_MS = 1000;

export class BudgetBook {
  /** Reservations held by requests in flight in this process. */
  private readonly open = new Set<string>();
  private readonly fired = new Map<string, Set<number>>();
  private unwritten: { reservationId: string; record: LedgerRecord; team: TeamConfig | undefined }[] = [];
  private retryTimer: NodeJS.Timeout | undefined;
  private retrying: Promise<boolean> | undefined;

  constructor(
    private readonly ledger: Ledger,
    private readonly clock: Clock,
    private readonly alerting: Alerting,
    private readonly observer?: BookObserver,
  ) {}

  /**
   * Hold the worst case if every hard cap of the team fits. Every forwarded request holds a
   * reservation (so a crash never loses it); `enforce` is false for free endpoints, which are
   * recorded but never refused. A refusal has no side effect here: `refused` records it, once
   * the caller knows it is final (a tighter count may still fit).
   */
  async admit(team: TeamConfig, reservation: Reservation, enforce = true): Promise<Admission> {
    const caps: HardCap[] = enforce
      ? team.budgets.filter((b) => b.hardCap).map((b) => ({ budgetId: b.id, window: b.window, limitNano: usdToNano(b.limitUsd) }))
      : [];
    const result = await this.ledger.admit(reservation, caps);
    if (result.ok) {
      this.open.add(reservation.id);
      return result;
    }
    const budget = team.budgets.find((b) => b.id === result.cap.budgetId) as BudgetConfig;
    const s = result.state;
    return {
      ok: false,
      ts: result.ts,
      refusal: {
        team: team.name, budget, window: budget.window, limitNano: result.cap.limitNano, spentNano: s.spentNano,
        reservedNano: s.reservedNano, worstCaseNano: reservation.worstCaseNano, windowStart: s.windowStart, resetsAt: s.resetsAt,
      },
    };
  }

  /** A final refusal: counted, and the window's first sends `budget.exhausted`. */
  async refused(refusal: BudgetRefusal, reservation: Reservation, ts: number): Promise<void> {
    try {
      await this.ledger.recordRefusal({
        ts, team: refusal.team, keyId: reservation.keyId, provider: reservation.provider, model: reservation.model,
        window: refusal.window, worstCaseNano: reservation.worstCaseNano,
      });
      await this.alerting.record(exhaustedEvent(refusal, this.clock()));
    } catch (err) {
      this.observer?.failed(err, 'recording a refusal failed');
    }
  }

  /**
   * Write the record, close its reservation, count its cost and fire any threshold it crosses.
   * If the write fails (disk full, database down), the hold stays in place and the write is tried
   * again: spend is never forgotten, and a cap never loosens because a write failed. A process
   * that dies first leaves the reservation row, settled at worst case by recovery.
   */
  async settle(reservationId: string, record: LedgerRecord, team: TeamConfig | undefined): Promise<void> {
    if (!(await this.tryWrite(reservationId, record, team))) {
      this.unwritten.push({ reservationId, record, team });
      this.retryTimer ??= setInterval(() => void this.retryUnwritten(), RETRY_MS).unref();
    }
  }

  /** Write settlements that failed before; true when none is left. One pass at a time. */
  retryUnwritten(): Promise<boolean> {
    this.retrying ??= (async () => {
      const pending = this.unwritten;
      this.unwritten = [];
      for (const u of pending) if (!(await this.tryWrite(u.reservationId, u.record, u.team))) this.unwritten.push(u);
      if (this.unwritten.length === 0 && this.retryTimer) {
        clearInterval(this.retryTimer);
        this.retryTimer = undefined;
      }
      return this.unwritten.length === 0;
    })().finally(() => {
      this.retrying = undefined;
    });
    return this.retrying;
  }

  /** Settlements kept in memory until the ledger takes them. */
  unwrittenCount(): number {
    return this.unwritten.length;
  }

  private async tryWrite(reservationId: string, record: LedgerRecord, team: TeamConfig | undefined): Promise<boolean> {
    try {
      await this.ledger.settle(record, reservationId);
    } catch (err) {
      this.observer?.failed(err, 'ledger write failed; the reservation is held and the write retried');
      return false;
    }
    this.open.delete(reservationId);
    await this.counted(record, team);
    return true;
  }

  /** A written record counts in metrics and against each alert threshold. */
  private async counted(record: LedgerRecord, team: TeamConfig | undefined): Promise<void> {
    try {
      this.observer?.recorded(record);
      if (team) await this.checkThresholds(team, record.ts);
    } catch (err) {
      this.observer?.failed(err, 'recording an alert failed');
    }
  }

  /**
   * Records that a dead process left open, settled at their worst case by the ledger; their
   * spend counts and fires thresholds like any other.
   */
  async recover(teamNamed: (name: string) => TeamConfig | undefined): Promise<LedgerRecord[]> {
    const records = await this.ledger.recoverOpenReservations();
    for (const r of records) await this.counted(r, teamNamed(r.team));
    return records;
  }

  /**
   * With a shared ledger, keep settling the holds of instances that died (every instance looks,
   * so any one left does it). Returns the stop function.
   */
  keepRecovering(teamNamed: (name: string) => TeamConfig | undefined): () => void {
    const every = this.ledger.recoveryIntervalMs;
    if (every === undefined) return () => undefined;
    let running = false;
    const timer = setInterval(() => {
      if (running) return;
      running = true;
      this.recover(teamNamed)
        .catch((err: unknown) => this.observer?.failed(err, 'recovering expired reservations failed'))
        .finally(() => {
          running = false;
        });
    }, every);
    timer.unref();
    return () => clearInterval(timer);
  }

  openReservations(): number {
    return this.open.size;
  }

  async status(team: TeamConfig): Promise<BudgetStatus[]> {
    const states = await this.ledger.windowStates(team.name, team.budgets.map((b) => b.window));
    return Promise.all(
      team.budgets.map(async (b, i) => {
        const s = states[i] as WindowState;
        const limit = usdToNano(b.limitUsd);
        return {
          team: team.name,
          window: b.window,
          limit_usd: b.limitUsd,
          spent_usd: nanoToUsd(s.spentNano),
          reserved_usd: nanoToUsd(s.reservedNano),
          remaining_usd: nanoToUsd(Math.max(0, limit - s.spentNano - s.reservedNano)),
          window_start: new Date(s.windowStart).toISOString(),
          resets_at: isoOrNull(s.resetsAt),
          hard_cap: b.hardCap,
          alerts_fired: [...(await this.firedFor(team.name, b.id, s.windowStart))].sort((x, y) => x - y),
        };
      }),
    );
  }

  private async firedFor(team: string, budgetId: string, start: number): Promise<Set<number>> {
    const key = `${team}\u0000${budgetId}\u0000${start}`;
    let set = this.fired.get(key);
    if (!set) {
      set = new Set(await this.ledger.firedThresholds(team, budgetId, start));
      this.fired.set(key, set);
    }
    return set;
  }

  private async checkThresholds(team: TeamConfig, ts: number): Promise<void> {
    const alerting = team.budgets.filter((b) => b.alertAt.length > 0);
    if (alerting.length === 0) return;
    const states = await this.ledger.windowStates(team.name, alerting.map((b) => b.window), ts);
    for (const [i, budget] of alerting.entries()) {
      const s = states[i] as WindowState;
      const limit = usdToNano(budget.limitUsd);
      const fired = await this.firedFor(team.name, budget.id, s.windowStart);
      for (const threshold of budget.alertAt) {
        // A threshold is crossed when settled spend first reaches threshold × limit (SPEC §8).
        if (fired.has(threshold) || s.spentNano < Math.round(threshold * limit)) continue;
        fired.add(threshold);
        await this.alerting.record({
          event: 'budget.threshold', team: team.name, budget: budget.id, windowStart: s.windowStart, threshold,
          payload: {
            event: 'budget.threshold', team: team.name, window: budget.window, threshold, limit_usd: budget.limitUsd,
            spent_usd: nanoToUsd(s.spentNano), window_start: new Date(s.windowStart).toISOString(), at: new Date(this.clock()).toISOString(),
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
