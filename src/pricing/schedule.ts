/**
 * Prices in force at a moment (SPEC §9). A price history is a list of entries, each in force
 * from its `from` (UTC; a date or a full ISO time), some only during daily UTC hours (a
 * time-of-day discount, which may wrap past midnight). At any moment the entry with the latest
 * `from` among those that apply wins, so a discount listed after the standard price beats it
 * inside its hours, and a later price list ends both.
 */
export interface DailyHours {
  /** `HH:MM` UTC; `end` before `start` wraps past midnight (16:30 → 00:30). */
  start: string;
  end: string;
}

export interface Dated<T> {
  from?: string | undefined;
  hours?: DailyHours | undefined;
  value: T;
}

export function inForce<T>(entries: readonly Dated<T>[], at: Date): Dated<T> | undefined {
  const t = at.getTime();
  let pick: Dated<T> | undefined;
  let pickFrom = Number.NEGATIVE_INFINITY;
  for (const e of entries) {
    const from = e.from === undefined ? Number.NEGATIVE_INFINITY : Date.parse(e.from);
    if (from > t || (e.hours && !withinHours(e.hours, at))) continue;
    if (pick === undefined || from >= pickFrom) {
      pick = e;
      pickFrom = from;
    }
  }
  return pick;
}

function minutes(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
}

export function withinHours(hours: DailyHours, at: Date): boolean {
  const now = at.getUTCHours() * 60 + at.getUTCMinutes() + at.getUTCSeconds() / 60;
  const start = minutes(hours.start);
  const end = minutes(hours.end);
  return start <= end ? now >= start && now < end : now >= start || now < end;
}

/** A date or ISO time `from`, and `HH:MM` hours, as config and overrides may write them. */
export const DATE_OR_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?Z)?$/;
export const HOUR_MINUTE = /^([01]\d|2[0-3]):[0-5]\d$/;
