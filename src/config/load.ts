/**
 * The only reader of the config file and of `process.env` for config values. Everything is
 * validated once, every problem reported with its key path, and the result frozen.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { knownFamily, priceFamilyOf } from '../pricing/families.js';
import { DATE_OR_TIME, type Dated } from '../pricing/schedule.js';
import { interpolateEnv } from './interpolate.js';
import { ConfigReader } from './reader.js';
import {
  WINDOW_KINDS,
  type BudgetConfig,
  type Config,
  type FlatRateOption,
  type PriceConfig,
  type ProviderConfig,
  type TeamConfig,
  type WebhookConfig,
  type WorstCaseConfig,
} from './types.js';

/** Output bound when neither the request nor the price data gives one: as much as any current model writes. */
const DEFAULT_MAX_OUTPUT = 131_072;

export type LoadResult = { ok: true; config: Config } | { ok: false; file: string; problems: string[] };

const TOP_KEYS = [
  'server', 'database', 'admin_keys', 'providers', 'prices', 'unpriced_models', 'budget_refusal_status',
  'default_max_output_tokens', 'worst_case', 'teams', 'alerts', 'flat_rate_options', 'alternatives',
] as const;

/**
 * The version path each known OpenAI-format host needs (SPEC §8: Tollgate appends the endpoint to
 * the base URL): `https://api.openai.com` alone would send `/chat/completions` to a 404.
 */
const VERSION_PATHS: Record<string, string> = {
  'api.openai.com': '/v1',
  'api.mistral.ai': '/v1',
  'generativelanguage.googleapis.com': '/v1beta/openai',
  'openrouter.ai': '/api/v1',
  'api.groq.com': '/openai/v1',
  'api.together.xyz': '/v1',
  'api.x.ai': '/v1',
  'api.fireworks.ai': '/inference/v1',
  'api.anthropic.com': '/v1',
};

export function loadConfigFile(file: string, env: Record<string, string | undefined> = process.env): LoadResult {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    return { ok: false, file: path, problems: [`cannot read file: ${(err as Error).message}`] };
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (err) {
    return { ok: false, file: path, problems: [`not valid YAML: ${(err as Error).message.split('\n')[0]}`] };
  }
  return parseConfig(parsed, path, env);
}

export function parseConfig(raw: unknown, file: string, env: Record<string, string | undefined>): LoadResult {
  const { value, unset } = interpolateEnv(raw ?? {}, env);
  const r = new ConfigReader();
  const root = r.object(value, '(root)') ?? {};
  r.unknownKeys(root, '', TOP_KEYS);
  const warnings: string[] = [];
  const unsetHint = (path: string): string | undefined => unset.get(path)?.join(', ');

  const server = r.object(root.server, 'server') ?? {};
  r.unknownKeys(server, 'server', ['host', 'port', 'body_limit_mb', 'upstream_timeout_s', 'shutdown_grace_s']);
  const database = r.object(root.database, 'database') ?? {};
  r.unknownKeys(database, 'database', ['path', 'url', 'pool_size', 'statement_timeout_ms', 'lease_s']);
  const dbUrl = r.string(database.url, 'database.url');
  if (dbUrl !== undefined && !/^postgres(ql)?:\/\//.test(dbUrl)) r.problem('database.url', 'must be a postgres:// URL');
  if (dbUrl !== undefined && database.path !== undefined) r.problem('database', 'give path (SQLite) or url (PostgreSQL), not both');
  const dbPath = r.string(database.path, 'database.path', { fallback: './data/tollgate.db' }) ?? './data/tollgate.db';

  const adminKeys = keyList(r, root.admin_keys, 'admin_keys', unsetHint, warnings, 'admin reads (/usage of all teams, /metrics)');

  const providers = r.array(root.providers, 'providers').map((p, i) => readProvider(r, p, `providers[${i}]`, unsetHint, warnings));
  const validProviders = providers.filter((p): p is ProviderConfig => p !== undefined);
  duplicates(r, providers.map((p) => p?.name), 'providers', 'name');
  if (validProviders.length === 0) r.problem('providers', 'at least one provider is required');

  const prices: Record<string, Dated<PriceConfig>[]> = {};
  const priceMap = r.object(root.prices, 'prices') ?? {};
  for (const [model, entry] of Object.entries(priceMap)) {
    const history = readPriceHistory(r, entry, `prices.${model}`);
    if (history) prices[model] = history;
  }

  const teams = r.array(root.teams, 'teams').map((t, i) => readTeam(r, t, `teams[${i}]`, unsetHint, warnings));
  const validTeams = teams.filter((t): t is TeamConfig => t !== undefined);
  duplicates(r, teams.map((t) => t?.name), 'teams', 'name');

  const alerts = r.object(root.alerts, 'alerts') ?? {};
  r.unknownKeys(alerts, 'alerts', ['webhooks', 'max_attempts', 'backoff_base_ms']);
  const worstCase = readWorstCase(r, root.worst_case);
  readAlternatives(r, root.alternatives);
  const webhooks = r.array(alerts.webhooks, 'alerts.webhooks').flatMap((w, i): WebhookConfig[] => {
    const path = `alerts.webhooks[${i}]`;
    const o = r.object(w, path);
    if (!o) return [];
    r.unknownKeys(o, path, ['url', 'format']);
    const url = r.string(o.url, `${path}.url`, { required: true });
    if (url !== undefined && !/^https?:\/\//.test(url)) r.problem(`${path}.url`, 'must be an http(s) URL');
    const format = r.oneOf(o.format, `${path}.format`, ['json', 'slack'] as const, 'json');
    return url === undefined ? [] : [{ url, format }];
  });

  const flatRateOptions = r.array(root.flat_rate_options, 'flat_rate_options').flatMap((f, i): FlatRateOption[] => {
    const path = `flat_rate_options[${i}]`;
    const o = r.object(f, path);
    if (!o) return [];
    r.unknownKeys(o, path, ['name', 'monthly_usd', 'models']);
    const name = r.string(o.name, `${path}.name`, { required: true });
    const monthlyUsd = r.number(o.monthly_usd, `${path}.monthly_usd`, { positive: true });
    const models = r.stringList(o.models, `${path}.models`);
    return name === undefined || monthlyUsd === undefined ? [] : [{ name, monthlyUsd, models }];
  });

  const config: Config = {
    file,
    server: {
      host: r.string(server.host, 'server.host', { fallback: '127.0.0.1' }) ?? '127.0.0.1',
      port: r.number(server.port, 'server.port', { fallback: 8787, min: 0, max: 65535, integer: true }) ?? 8787,
      bodyLimitBytes: Math.floor((r.number(server.body_limit_mb, 'server.body_limit_mb', { fallback: 20, positive: true }) ?? 20) * 1024 * 1024),
      upstreamTimeoutMs: Math.round((r.number(server.upstream_timeout_s, 'server.upstream_timeout_s', { fallback: 600, positive: true }) ?? 600) * 1000),
      shutdownGraceMs: Math.round((r.number(server.shutdown_grace_s, 'server.shutdown_grace_s', { fallback: 30, min: 0 }) ?? 30) * 1000),
    },
    database: {
      path: isAbsolute(dbPath) || dbPath === ':memory:' ? dbPath : resolve(process.cwd(), dbPath),
      url: dbUrl,
      poolSize: r.number(database.pool_size, 'database.pool_size', { fallback: 10, min: 1, max: 1000, integer: true }) ?? 10,
      statementTimeoutMs: r.number(database.statement_timeout_ms, 'database.statement_timeout_ms', { fallback: 5000, min: 100, integer: true }) ?? 5000,
      leaseS: r.number(database.lease_s, 'database.lease_s', { fallback: 30, positive: true }) ?? 30,
    },
    adminKeys,
    providers: validProviders,
    prices,
    unpricedModels: r.oneOf(root.unpriced_models, 'unpriced_models', ['reject', 'allow'] as const, 'reject'),
    budgetRefusalStatus: r.oneOf(root.budget_refusal_status, 'budget_refusal_status', [402, 429] as const, 402),
    defaultMaxOutputTokens:
      r.number(root.default_max_output_tokens, 'default_max_output_tokens', { fallback: DEFAULT_MAX_OUTPUT, positive: true, integer: true }) ??
      DEFAULT_MAX_OUTPUT,
    worstCase,
    teams: validTeams,
    alerts: {
      webhooks,
      maxAttempts: r.number(alerts.max_attempts, 'alerts.max_attempts', { fallback: 8, min: 1, integer: true }) ?? 8,
      backoffBaseMs: r.number(alerts.backoff_base_ms, 'alerts.backoff_base_ms', { fallback: 1000, min: 1, integer: true }) ?? 1000,
    },
    flatRateOptions,
    warnings,
  };
  if (r.problems.length > 0) return { ok: false, file, problems: r.problems };
  return { ok: true, config: deepFreeze(config) };
}

function readProvider(
  r: ConfigReader,
  v: unknown,
  path: string,
  unsetHint: (p: string) => string | undefined,
  warnings: string[],
): ProviderConfig | undefined {
  const o = r.object(v, path);
  if (!o) {
    if (v === undefined || v === null) r.problem(path, 'must be a mapping');
    return undefined;
  }
  r.unknownKeys(o, path, ['name', 'api', 'base_url', 'api_key', 'models', 'stream_include_usage', 'price_provider']);
  const name = r.string(o.name, `${path}.name`, { required: true });
  if (name !== undefined && !/^[A-Za-z0-9_.-]+$/.test(name)) r.problem(`${path}.name`, 'may hold only letters, digits, _ . -');
  const api = r.oneOf(o.api, `${path}.api`, ['openai', 'anthropic'] as const, 'openai');
  const baseUrl = r.string(o.base_url, `${path}.base_url`, { required: true });
  if (baseUrl !== undefined) {
    try {
      const u = new URL(baseUrl);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') r.problem(`${path}.base_url`, 'must be an http(s) URL');
      else checkVersionPath(r, `${path}.base_url`, u, o.api === 'anthropic' ? 'anthropic' : 'openai');
    } catch {
      r.problem(`${path}.base_url`, 'must be an http(s) URL');
    }
  }
  const apiKey = r.string(o.api_key, `${path}.api_key`);
  const hint = unsetHint(`${path}.api_key`);
  if (apiKey === undefined && name !== undefined) {
    warnings.push(`provider ${name} is disabled: ${hint ? `set ${hint}` : `set ${path}.api_key`}`);
  }
  const models = r.stringList(o.models, `${path}.models`);
  if (models.length === 0) r.problem(`${path}.models`, 'must list at least one model glob');
  const priceProvider = r.string(o.price_provider, `${path}.price_provider`);
  if (priceProvider !== undefined && knownFamily(priceProvider) === undefined) {
    r.problem(`${path}.price_provider`, `unknown price family '${priceProvider}' (README lists them: openai, anthropic, azure, google, mistral, deepseek, openrouter, …)`);
  }
  if (name === undefined || baseUrl === undefined) return undefined;
  const { family, reason } = priceFamilyOf({ priceProvider, baseUrl, api });
  return {
    priceFamily: family,
    priceFamilyReason: reason,
    name,
    api,
    baseUrl: baseUrl.replace(/\/+$/, ''),
    apiKey,
    apiKeyHint: hint ? `set ${hint}` : `set ${path}.api_key`,
    models,
    streamIncludeUsage: r.boolean(o.stream_include_usage, `${path}.stream_include_usage`, true),
  };
}

/** SPEC §8: an OpenAI-format base URL holds its version path; an Anthropic one is the host root. */
function checkVersionPath(r: ConfigReader, path: string, u: URL, api: 'openai' | 'anthropic'): void {
  const version = VERSION_PATHS[u.hostname];
  const given = u.pathname.replace(/\/+$/, '');
  const root = `${u.protocol}//${u.host}`;
  if (api === 'anthropic') {
    if (given !== '') r.problem(path, `an api: anthropic base_url is the host root (Tollgate appends /v1/messages); use ${root}`);
  } else if (version !== undefined && u.hostname !== 'api.anthropic.com' && given === '') {
    r.problem(path, `${root} has no version path; use ${root}${version} (Tollgate appends /chat/completions and the like to it)`);
  }
}

/** Ceilings for unseen input (README: worst-case rules); each defaults when unset. */
function readWorstCase(r: ConfigReader, v: unknown): WorstCaseConfig {
  const o = r.object(v, 'worst_case') ?? {};
  const keys = { image_tokens: 'imageTokens', context_tokens: 'contextTokens', hosted_tool_tokens: 'hostedToolTokens', tool_definition_tokens: 'toolDefinitionTokens' } as const;
  r.unknownKeys(o, 'worst_case', Object.keys(keys));
  const out: WorstCaseConfig = {};
  for (const [key, field] of Object.entries(keys) as [keyof typeof keys, (typeof keys)[keyof typeof keys]][]) {
    if (o[key] === undefined || o[key] === null) continue;
    const n = r.number(o[key], `worst_case.${key}`, { min: 0, integer: true });
    if (n !== undefined) out[field] = n;
  }
  return out;
}

/** `alternatives:` (model glob → models acceptable in its place) for switch suggestions. */
function readAlternatives(r: ConfigReader, v: unknown): void {
  const o = r.object(v, 'alternatives') ?? {};
  for (const [glob, list] of Object.entries(o)) r.stringList(list, `alternatives.${glob}`);
}

/**
 * A model's price: one set of rates, or a dated history (`- { from: 2026-01-01, input: 1, … }`),
 * each entry in force from its date (UTC) until the next one's.
 */
function readPriceHistory(r: ConfigReader, v: unknown, path: string): Dated<PriceConfig>[] | undefined {
  if (!Array.isArray(v)) {
    const price = readPrice(r, v, path, false);
    return price ? [{ value: price.value }] : undefined;
  }
  const entries = v.flatMap((e, i) => {
    const price = readPrice(r, e, `${path}[${i}]`, true);
    return price ? [{ from: price.from, value: price.value }] : [];
  });
  if (v.length === 0) r.problem(path, 'a dated price list needs at least one entry');
  const froms = entries.map((e) => e.from);
  if (new Set(froms).size !== froms.length) r.problem(path, 'two entries have the same from date');
  return entries.length === v.length ? entries : undefined;
}

function readPrice(r: ConfigReader, v: unknown, path: string, dated: boolean): { from: string | undefined; value: PriceConfig } | undefined {
  const o = r.object(v, path);
  if (!o) {
    if (v === undefined || v === null) r.problem(path, 'must be a mapping');
    return undefined;
  }
  const rateKeys = { cached_input: 'cachedInput', cache_write: 'cacheWrite', cache_write_1h: 'cacheWrite1h', input_audio: 'inputAudio', output_audio: 'outputAudio' } as const;
  r.unknownKeys(o, path, [...(dated ? ['from'] : []), 'input', 'output', ...Object.keys(rateKeys), 'max_output_tokens']);
  let from: string | undefined;
  if (dated) {
    // YAML reads an unquoted 2026-01-01 as a date: take it back as the UTC day it names.
    const raw = o.from instanceof Date ? o.from.toISOString().replace(/T00:00:00\.000Z$/, '') : o.from;
    from = r.string(raw, `${path}.from`, { required: true });
    if (from !== undefined && (!DATE_OR_TIME.test(from) || Number.isNaN(Date.parse(from)))) {
      r.problem(`${path}.from`, 'must be a UTC date (2026-01-01) or time (2026-01-01T16:30:00Z)');
    }
  }
  const input = r.number(o.input, `${path}.input`, { min: 0 });
  // Required: a missing output rate would price output at 0 and let it past every cap.
  const output = r.number(o.output, `${path}.output`, { min: 0 });
  const price: PriceConfig = { input: input ?? 0, output: output ?? 0 };
  for (const [key, field] of Object.entries(rateKeys) as [keyof typeof rateKeys, (typeof rateKeys)[keyof typeof rateKeys]][]) {
    if (o[key] === undefined) continue;
    const rate = r.number(o[key], `${path}.${key}`, { min: 0 });
    if (rate !== undefined) price[field] = rate;
  }
  if (o.max_output_tokens !== undefined) {
    const m = r.number(o.max_output_tokens, `${path}.max_output_tokens`, { positive: true, integer: true });
    if (m !== undefined) price.maxOutputTokens = m;
  }
  return input === undefined ? undefined : { from, value: price };
}

function readTeam(
  r: ConfigReader,
  v: unknown,
  path: string,
  unsetHint: (p: string) => string | undefined,
  warnings: string[],
): TeamConfig | undefined {
  const o = r.object(v, path);
  if (!o) {
    if (v === undefined || v === null) r.problem(path, 'must be a mapping');
    return undefined;
  }
  r.unknownKeys(o, path, ['name', 'keys', 'models', 'budgets']);
  const name = r.string(o.name, `${path}.name`, { required: true });
  const keys = keyList(r, o.keys, `${path}.keys`, unsetHint, warnings, `team ${name ?? path}`);
  const models = o.models === undefined || o.models === null ? undefined : r.stringList(o.models, `${path}.models`);
  const budgets = r.array(o.budgets, `${path}.budgets`).flatMap((b, i): BudgetConfig[] => {
    const bp = `${path}.budgets[${i}]`;
    const bo = r.object(b, bp);
    if (!bo) return [];
    r.unknownKeys(bo, bp, ['window', 'limit_usd', 'alert_at', 'hard_cap']);
    const window = r.oneOf(bo.window, `${bp}.window`, WINDOW_KINDS, 'month');
    if (bo.window === undefined) r.problem(`${bp}.window`, `is required (one of ${WINDOW_KINDS.join(', ')})`);
    const limitUsd = r.number(bo.limit_usd, `${bp}.limit_usd`, { positive: true });
    const alertAt = r.array(bo.alert_at, `${bp}.alert_at`).flatMap((a, j) => {
      const n = r.number(a, `${bp}.alert_at[${j}]`, { min: 0, max: 10 });
      if (n !== undefined && n <= 0) r.problem(`${bp}.alert_at[${j}]`, 'must be a positive fraction such as 0.8');
      return n === undefined ? [] : [n];
    });
    // A limit is a cap unless the budget says it only alerts: the safe reading of `limit_usd`.
    const hardCap = r.boolean(bo.hard_cap, `${bp}.hard_cap`, true);
    return limitUsd === undefined ? [] : [{ id: window, window, limitUsd, alertAt: [...new Set(alertAt)].sort((a, b) => a - b), hardCap }];
  });
  // Several budgets may share a window (a soft one that alerts, a hard one that caps): number the later ones.
  const perWindow = new Map<string, number>();
  for (const b of budgets) {
    const n = (perWindow.get(b.window) ?? 0) + 1;
    perWindow.set(b.window, n);
    if (n > 1) b.id = `${b.window}#${n}`;
  }
  if (name === undefined) return undefined;
  return { name, keys, models, budgets };
}

function keyList(
  r: ConfigReader,
  v: unknown,
  path: string,
  unsetHint: (p: string) => string | undefined,
  warnings: string[],
  what: string,
): string[] {
  const raw = r.array(v, path);
  const keys: string[] = [];
  raw.forEach((item, i) => {
    const key = r.string(item, `${path}[${i}]`);
    const hint = unsetHint(`${path}[${i}]`);
    // A key with an unset variable in it ("team-${SUFFIX}") would be guessable: drop it whole.
    if (key === undefined || hint) {
      if (hint) warnings.push(`${path}[${i}] is not set: set ${hint} to enable ${what}`);
      return;
    }
    if (key.startsWith('sha256:') && !/^sha256:[0-9a-fA-F]{64}$/.test(key)) {
      r.problem(`${path}[${i}]`, 'sha256: keys must be 64 hex digits');
      return;
    }
    keys.push(key);
  });
  return keys;
}

/** `names` keeps each entry's original index (undefined for entries that failed), so paths stay true. */
function duplicates(r: ConfigReader, names: (string | undefined)[], path: string, field: string): void {
  const seen = new Set<string>();
  names.forEach((n, i) => {
    if (n === undefined) return;
    if (seen.has(n)) r.problem(`${path}[${i}].${field}`, `duplicate ${field} '${n}'`);
    seen.add(n);
  });
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
