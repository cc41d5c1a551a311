// Calendar budget windows in UTC (SPEC §5, §8): weeks start Monday 00:00 UTC, months are calendar
// months, `total` never resets.
import { describe, expect, it } from 'vitest';
import type { WindowKind } from '../../src/config/types.js';
import { isoOrNull, windowAt } from '../../src/budget/windows.js';

const ms = (iso: string) => Date.parse(iso);

function bounds(kind: WindowKind, nowIso: string): { start: string; resetsAt: string | null } {
  const w = windowAt(kind, ms(nowIso));
  return { start: new Date(w.start).toISOString(), resetsAt: w.resetsAt === null ? null : new Date(w.resetsAt).toISOString() };
}

describe('hour', () => {
  it('runs from the top of the hour to the next', () => {
    expect(bounds('hour', '2025-03-14T15:27:31.123Z')).toEqual({ start: '2025-03-14T15:00:00.000Z', resetsAt: '2025-03-14T16:00:00.000Z' });
  });

  it('starts a new window exactly on the hour', () => {
    expect(bounds('hour', '2025-03-14T16:00:00.000Z')).toEqual({ start: '2025-03-14T16:00:00.000Z', resetsAt: '2025-03-14T17:00:00.000Z' });
    expect(bounds('hour', '2025-03-14T15:59:59.999Z')).toEqual({ start: '2025-03-14T15:00:00.000Z', resetsAt: '2025-03-14T16:00:00.000Z' });
  });

  it('crosses midnight at 23:xx', () => {
    expect(bounds('hour', '2025-12-31T23:30:00.000Z')).toEqual({ start: '2025-12-31T23:00:00.000Z', resetsAt: '2026-01-01T00:00:00.000Z' });
  });
});

describe('day', () => {
  it('runs from 00:00 UTC to the next 00:00 UTC', () => {
    expect(bounds('day', '2025-03-14T15:27:31.123Z')).toEqual({ start: '2025-03-14T00:00:00.000Z', resetsAt: '2025-03-15T00:00:00.000Z' });
    expect(bounds('day', '2025-03-14T00:00:00.000Z')).toEqual({ start: '2025-03-14T00:00:00.000Z', resetsAt: '2025-03-15T00:00:00.000Z' });
    expect(bounds('day', '2025-03-14T23:59:59.999Z')).toEqual({ start: '2025-03-14T00:00:00.000Z', resetsAt: '2025-03-15T00:00:00.000Z' });
  });

  it('ends a leap day on 1 March', () => {
    expect(bounds('day', '2028-02-29T08:00:00.000Z')).toEqual({ start: '2028-02-29T00:00:00.000Z', resetsAt: '2028-03-01T00:00:00.000Z' });
  });
});

describe('week (Monday 00:00 UTC)', () => {
  it('a Sunday 23:59 belongs to the week that started the Monday before', () => {
    expect(new Date('2025-03-16T23:59:00Z').getUTCDay()).toBe(0); // fixture check: a Sunday
    expect(bounds('week', '2025-03-16T23:59:59.999Z')).toEqual({ start: '2025-03-10T00:00:00.000Z', resetsAt: '2025-03-17T00:00:00.000Z' });
  });

  it('a Monday 00:00 starts a new week', () => {
    expect(new Date('2025-03-17T00:00:00Z').getUTCDay()).toBe(1); // fixture check: a Monday
    expect(bounds('week', '2025-03-17T00:00:00.000Z')).toEqual({ start: '2025-03-17T00:00:00.000Z', resetsAt: '2025-03-24T00:00:00.000Z' });
  });

  it('every day of one week maps to the same window', () => {
    for (const day of ['10', '11', '12', '13', '14', '15', '16']) {
      expect(bounds('week', `2025-03-${day}T12:00:00.000Z`), day).toEqual({ start: '2025-03-10T00:00:00.000Z', resetsAt: '2025-03-17T00:00:00.000Z' });
    }
  });

  it('a week may start in the previous month and year', () => {
    expect(bounds('week', '2025-01-01T09:00:00.000Z')).toEqual({ start: '2024-12-30T00:00:00.000Z', resetsAt: '2025-01-06T00:00:00.000Z' });
  });
});

describe('month', () => {
  it('runs from the 1st 00:00 UTC to the next 1st', () => {
    expect(bounds('month', '2025-03-14T15:27:31.123Z')).toEqual({ start: '2025-03-01T00:00:00.000Z', resetsAt: '2025-04-01T00:00:00.000Z' });
  });

  it('29 Feb 2028 (leap) is in February, which resets on 1 March', () => {
    expect(bounds('month', '2028-02-29T23:59:59.999Z')).toEqual({ start: '2028-02-01T00:00:00.000Z', resetsAt: '2028-03-01T00:00:00.000Z' });
  });

  it('February 2027 (not leap) ends after the 28th', () => {
    expect(bounds('month', '2027-02-28T23:59:59.999Z')).toEqual({ start: '2027-02-01T00:00:00.000Z', resetsAt: '2027-03-01T00:00:00.000Z' });
    expect(bounds('month', '2027-03-01T00:00:00.000Z')).toEqual({ start: '2027-03-01T00:00:00.000Z', resetsAt: '2027-04-01T00:00:00.000Z' });
  });

  it('31 December resets on 1 January of the next year', () => {
    expect(bounds('month', '2025-12-31T23:59:59.999Z')).toEqual({ start: '2025-12-01T00:00:00.000Z', resetsAt: '2026-01-01T00:00:00.000Z' });
  });

  it('a 31-day month is 31 days long', () => {
    const w = windowAt('month', ms('2025-01-31T12:00:00Z'));
    expect((w.resetsAt! - w.start) / 86_400_000).toBe(31);
  });
});

describe('total', () => {
  it('starts at 0 and never resets', () => {
    expect(windowAt('total', ms('2025-03-14T15:27:31.123Z'))).toEqual({ start: 0, resetsAt: null });
    expect(isoOrNull(windowAt('total', Date.now()).resetsAt)).toBeNull();
  });
});

describe('isoOrNull', () => {
  it('formats a reset time as ISO 8601', () => {
    expect(isoOrNull(ms('2026-01-01T00:00:00Z'))).toBe('2026-01-01T00:00:00.000Z');
  });
});
