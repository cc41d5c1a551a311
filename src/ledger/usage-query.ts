/**
 * How a usage report reads the ledger, for both dialects: the whole hours of the range from the
 * hourly rollup (`usage_hourly`, kept by a trigger on every insert), the partial hours at its
 * edges from `requests`, as one row source with the same columns. A month is a few thousand
 * rollup rows and at most two hours of requests, however large the ledger.
 */
import type { UsageQuery } from './ledger.js';

export const HOUR_MS = 3_600_000;

export interface HourSplit {
  /** Whole hours [from, to), read from the rollup; absent when the range holds none. */
  hours: { from: number; to: number } | undefined;
  /** The rest of the range, read from the requests themselves. */
  edges: { from: number; to: number }[];
}

export function splitByHour(from: number, to: number): HourSplit {
  const first = Math.ceil(from / HOUR_MS) * HOUR_MS;
  const last = Math.floor(to / HOUR_MS) * HOUR_MS;
  if (first >= last) return { hours: undefined, edges: from < to ? [{ from, to }] : [] };
  const edges = [{ from, to: first }, { from: last, to }].filter((e) => e.from < e.to);
  return { hours: { from: first, to: last }, edges };
}

/** The counter columns both sources give, by the rollup's names. */
const COUNTERS = ['input_tokens', 'cached_input_tokens', 'cache_write_tokens', 'output_tokens', 'reasoning_tokens',
  'audio_input_tokens', 'audio_output_tokens', 'cost_nano'];

/**
 * One row source (`ts, team, key_id, provider, model, status, requests, <counters>`) for the query's
 * range, with `placeholder(n)` writing the dialect's n-th parameter (1-based).
 */
export function usageSource(q: Pick<UsageQuery, 'from' | 'to' | 'team'>, placeholder: (n: number) => string): { sql: string; params: (string | number)[] } {
  const params: (string | number)[] = [];
  const p = (v: string | number) => {
    params.push(v);
    return placeholder(params.length);
  };
  const split = splitByHour(q.from, q.to);
  const parts: string[] = [];
  const team = () => (q.team === undefined ? '' : ` AND team = ${p(q.team)}`);
  if (split.hours) {
    parts.push(`SELECT hour AS ts, team, key_id, provider, model, status, requests, ${COUNTERS.join(', ')} FROM usage_hourly
      WHERE hour >= ${p(split.hours.from)} AND hour < ${p(split.hours.to)}${team()}`);
  }
  if (split.edges.length > 0 || !split.hours) {
    const ranges = split.edges.map((e) => `(ts >= ${p(e.from)} AND ts < ${p(e.to)})`);
    parts.push(`SELECT ts, team, key_id, provider, model, status, 1 AS requests, ${COUNTERS.join(', ')} FROM requests
      WHERE ${ranges.length > 0 ? `(${ranges.join(' OR ')})` : '1 = 0'}${team()}`);
  }
  return { sql: parts.join('\nUNION ALL\n'), params };
}

/** The team's spend in [from, to) (to absent: from `from` on), over the same row source. */
export function spendSql(team: string, from: number, to: number | null, placeholder: (n: number) => string): { sql: string; params: (string | number)[] } {
  const source = usageSource({ from, to: to ?? Number.MAX_SAFE_INTEGER, team }, placeholder);
  return { sql: `SELECT COALESCE(SUM(cost_nano), 0) AS s FROM (${source.sql}) AS u`, params: source.params };
}
