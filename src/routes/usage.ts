/**
 * Reading the ledger (SPEC §6): admin keys see every team, a team key its own team only.
 * Money leaves as JSON numbers derived from the exact integer sums.
 */
import type { FastifyInstance } from 'fastify';
import type { Deps } from '../deps.js';
import { TollgateError } from '../errors.js';
import { GROUP_KEYS, type Counters, type GroupKey, type StoredRecord } from '../ledger/ledger.js';
import { nanoToUsd } from '../pricing/money.js';
import { scopedTeam } from './request-context.js';

type Query = Record<string, string | undefined>;

export function registerUsageRoutes(app: FastifyInstance, deps: Deps): void {
  app.get('/usage', async (req, reply) => {
    const q = req.query as Query;
    const team = scopedTeam(req, q.team);
    const { from, to } = range(q, deps.clock());
    const groupBy = groupKeys(q.group_by);
    const report = await deps.ledger.usage({ from, to, team, groupBy });
    const groups = report.groups.map((g) => ({ ...pick(g, groupBy), ...counters(g) }));
    if (q.format === 'csv') {
      reply.type('text/csv; charset=utf-8');
      return toCsv(groupBy, groupBy.length === 0 ? [counters(report.totals)] : groups);
    }
    if (q.format !== undefined && q.format !== 'json') throw new TollgateError('invalid_query', "'format' must be json or csv.");
    const teams = deps.store.config.teams.filter((t) => team === undefined || t.name === team);
    return {
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      group_by: groupBy,
      totals: { ...counters(report.totals), refused: report.totals.refused },
      groups,
      budgets: (await Promise.all(teams.map((t) => deps.budgets.status(t)))).flat(),
    };
  });

  app.get('/usage/requests', async (req) => {
    const q = req.query as Query;
    const team = scopedTeam(req, q.team);
    const { from, to } = range(q, deps.clock());
    const asked = q.limit === undefined ? 100 : Number(q.limit);
    if (!Number.isInteger(asked) || asked < 1) throw new TollgateError('invalid_query', "'limit' must be a positive integer (at most 1000 are returned).");
    const limit = Math.min(asked, 1000);
    const cursor = q.cursor === undefined || q.cursor === '' ? undefined : decodeCursor(q.cursor);
    const rows = await deps.ledger.requests({ from, to, team, limit: limit + 1, cursor });
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      data: page.map(recordJson),
      next_cursor: rows.length > limit && last ? encodeCursor(last.ts, last.id) : null,
    };
  });

  app.get('/alerts/deliveries', async (req) => {
    const q = req.query as Query;
    const team = scopedTeam(req, q.team);
    const rows = await deps.ledger.deliveries(team, 200);
    // A webhook URL is a credential (Slack's carry their token): only admins see more than its host.
    const admin = req.principal?.kind === 'admin';
    return { data: admin ? rows : rows.map((r) => ({ ...r, url: originOf(r.url) })) };
  });
}

/** Default: the current UTC month up to now; with only `to`, the month that `to` ends in. */
function range(q: Query, now: number): { from: number; to: number } {
  const to = q.to ? parseTime(q.to, 'to') : now + 1; // `to` is exclusive: include a record made this millisecond
  const last = new Date(Math.max(0, to - 1));
  const from = q.from ? parseTime(q.from, 'from') : Date.UTC(last.getUTCFullYear(), last.getUTCMonth(), 1);
  if (to < from) throw new TollgateError('invalid_query', "'to' must not be before 'from'.");
  return { from, to };
}

function parseTime(raw: string, name: string): number {
  // An unencoded '+' in a query string arrives as a space; a time without an offset is UTC (windows are UTC).
  let v = raw.trim().replace(/ (\d{2}:?\d{2})$/, '+$1');
  if (/T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(v)) v += 'Z';
  const ms = /^\d{4}-\d{2}-\d{2}/.test(v) ? Date.parse(v) : NaN;
  if (Number.isNaN(ms)) throw new TollgateError('invalid_query', `'${name}' must be an ISO 8601 time, e.g. 2026-11-01T00:00:00Z.`);
  return ms;
}

function groupKeys(v: string | undefined): GroupKey[] {
  if (v === undefined || v.trim() === '') return [];
  const keys = v.split(',').map((s) => s.trim()).filter(Boolean);
  for (const k of keys) {
    if (!(GROUP_KEYS as readonly string[]).includes(k)) {
      throw new TollgateError('invalid_query', `'group_by' takes a comma list of ${GROUP_KEYS.join(', ')}; '${k}' is not one.`);
    }
  }
  return [...new Set(keys)] as GroupKey[];
}

function pick(g: Partial<Record<GroupKey, string>>, keys: GroupKey[]): Partial<Record<GroupKey, string>> {
  const out: Partial<Record<GroupKey, string>> = {};
  for (const k of keys) out[k] = g[k] ?? '';
  return out;
}

function counters(c: Counters) {
  return {
    requests: c.requests,
    input_tokens: c.input_tokens,
    cached_input_tokens: c.cached_input_tokens,
    cache_write_tokens: c.cache_write_tokens,
    output_tokens: c.output_tokens,
    reasoning_tokens: c.reasoning_tokens,
    audio_input_tokens: c.audio_input_tokens,
    audio_output_tokens: c.audio_output_tokens,
    cost_usd: nanoToUsd(c.cost_nano),
  };
}

const CSV_COUNTERS = [
  'requests', 'input_tokens', 'cached_input_tokens', 'cache_write_tokens', 'output_tokens', 'reasoning_tokens',
  'audio_input_tokens', 'audio_output_tokens', 'cost_usd',
] as const;

function toCsv(keys: GroupKey[], rows: Record<string, unknown>[]): string {
  const header = [...keys, ...CSV_COUNTERS];
  const cell = (v: unknown): string => {
    // Money and counts in plain decimal (never 5e-7): at most 9 decimals, trailing zeros trimmed.
    const s = typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(9).replace(/0+$/, '')) : String(v ?? '');
    // Quote per RFC 4180, and defuse spreadsheet formulas in client-chosen values (model names).
    const safe = /^[=+\-@\t\r]/.test(s) && typeof v === 'string' ? `'${s}` : s;
    return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
  };
  return [header.join(','), ...rows.map((r) => header.map((h) => cell(r[h])).join(','))].join('\n') + '\n';
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '';
  }
}

function encodeCursor(ts: number, id: number): string {
  return Buffer.from(`${ts}:${id}`).toString('base64url');
}

function decodeCursor(c: string): { ts: number; id: number } {
  const m = /^(\d+):(\d+)$/.exec(Buffer.from(c, 'base64url').toString('utf8'));
  if (!m) throw new TollgateError('invalid_query', "'cursor' is not one this server gave out.");
  return { ts: Number(m[1]), id: Number(m[2]) };
}

function recordJson(r: StoredRecord) {
  return {
    id: r.requestId,
    ts: new Date(r.ts).toISOString(),
    time: new Date(r.ts).toISOString(),
    team: r.team,
    key_id: r.keyId,
    provider: r.provider,
    model: r.model,
    endpoint: r.endpoint,
    status: r.status,
    stream: r.stream,
    latency_ms: r.latencyMs,
    input_tokens: r.usage.inputTokens,
    cached_input_tokens: r.usage.cachedInputTokens,
    cache_write_tokens: r.usage.cacheWriteTokens,
    cache_write_1h_tokens: r.usage.cacheWrite1hTokens,
    output_tokens: r.usage.outputTokens,
    reasoning_tokens: r.usage.reasoningTokens,
    audio_input_tokens: r.usage.audioInputTokens,
    audio_output_tokens: r.usage.audioOutputTokens,
    cost_usd: nanoToUsd(r.costNano),
    estimated: r.estimated,
    unpriced: r.unpriced,
    rates: r.rates
      ? {
          input: r.rates.input,
          cached_input: r.rates.cachedInput,
          cache_write: r.rates.cacheWrite,
          cache_write_1h: r.rates.cacheWrite1h,
          output: r.rates.output,
          input_audio: r.rates.inputAudio,
          output_audio: r.rates.outputAudio,
        }
      : null,
    price_source: r.priceSource,
    upstream_request_id: r.upstreamRequestId,
  };
}
