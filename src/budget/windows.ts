/**
 * Calendar budget windows in UTC. `week` starts Monday 00:00; `month` is the calendar month, so
 * leap Februaries and December → January fall out of Date.UTC's own arithmetic.
 */
import type { WindowKind } from '../config/types.js';

export interface WindowBounds {
  /** Inclusive start, ms since epoch (0 for `total`). */
  start: number;
  /** Exclusive end = when the window resets; null for `total`, which never resets. */
  resetsAt: number | null;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export function windowAt(kind: WindowKind, now: number): WindowBounds {
  const d = new Date(now);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  switch (kind) {
    case 'hour': {
      const start = Math.floor(now / HOUR) * HOUR;
      return { start, resetsAt: start + HOUR };
    }
    case 'day': {
      const start = Date.UTC(y, m, d.getUTCDate());
      return { start, resetsAt: start + DAY };
    }
    case 'week': {
      const sinceMonday = (d.getUTCDay() + 6) % 7; // getUTCDay: Sunday = 0
      const start = Date.UTC(y, m, d.getUTCDate() - sinceMonday);
      return { start, resetsAt: start + 7 * DAY };
    }
    case 'month':
      return { start: Date.UTC(y, m, 1), resetsAt: Date.UTC(y, m + 1, 1) };
    case 'total':
      return { start: 0, resetsAt: null };
  }
}

export function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}
