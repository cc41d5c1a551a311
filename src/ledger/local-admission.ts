/**
 * Admission for a ledger that one process owns (SQLite, and the tests' twin): spend per window is
 * read from the store once and then kept in memory beside it, holds are kept per team, and the
 * check and the hold happen in one synchronous step (no await between them), so hundreds of
 * concurrent requests cannot all pass the same check.
 */
import { windowAt } from '../budget/windows.js';
import { WINDOW_KINDS, type WindowKind } from '../config/types.js';
import type { AdmitResult, HardCap, LedgerRecord, Reservation, WindowState } from './ledger.js';

export class LocalAdmission {
  private readonly spent = new Map<string, number>();
  private readonly held = new Map<string, { team: string; amount: number }>();
  private readonly reservedByTeam = new Map<string, number>();

  constructor(
    /** Settled spend of a team in [from, to) (to null: no end), from the store. */
    private readonly spentBetween: (team: string, from: number, to: number | null) => number,
    readonly clock: () => number,
  ) {}

  /** The check; on success the caller writes the hold in the same synchronous step, then calls `hold`. */
  check(reservation: Reservation, caps: readonly HardCap[]): AdmitResult {
    const ts = this.clock();
    for (const cap of caps) {
      const state = this.state(reservation.team, cap.window, ts);
      if (state.spentNano + state.reservedNano + reservation.worstCaseNano > cap.limitNano) return { ok: false, ts, cap, state };
    }
    return { ok: true, ts };
  }

  hold(reservation: Reservation): void {
    this.held.set(reservation.id, { team: reservation.team, amount: reservation.worstCaseNano });
    this.reservedByTeam.set(reservation.team, (this.reservedByTeam.get(reservation.team) ?? 0) + reservation.worstCaseNano);
  }

  /** A hold whose reservation could not be written: the request is not forwarded. */
  released(reservationId: string): void {
    const held = this.held.get(reservationId);
    if (!held) return;
    this.held.delete(reservationId);
    this.reservedByTeam.set(held.team, (this.reservedByTeam.get(held.team) ?? 0) - held.amount);
  }

  /** A record is written: its hold is released and its cost counts in every window already read. */
  settled(record: LedgerRecord, reservationId: string | undefined): void {
    if (reservationId !== undefined) this.released(reservationId);
    if (record.costNano === 0) return;
    for (const kind of WINDOW_KINDS) {
      const key = spendKey(record.team, kind, windowAt(kind, record.ts).start);
      const cached = this.spent.get(key);
      if (cached !== undefined) this.spent.set(key, cached + record.costNano);
    }
  }

  state(team: string, kind: WindowKind, at: number): WindowState {
    const w = windowAt(kind, at);
    const key = spendKey(team, kind, w.start);
    let spent = this.spent.get(key);
    if (spent === undefined) {
      spent = this.spentBetween(team, w.start, w.resetsAt);
      this.spent.set(key, spent);
    }
    return { window: kind, windowStart: w.start, resetsAt: w.resetsAt, spentNano: spent, reservedNano: this.reservedByTeam.get(team) ?? 0 };
  }
}

function spendKey(team: string, kind: WindowKind, start: number): string {
  return `${team}\u0000${kind}\u0000${start}`;
}
