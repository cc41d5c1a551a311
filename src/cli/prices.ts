/**
 * `tollgate prices show MODEL` and `tollgate prices check --against FILE`: the effective price
 * table (config prices, our dated overrides, the pinned price data) as the proxy uses it, and an
 * audit of it against an independent reference in LiteLLM's model_prices_and_context_window.json
 * format.
 */
import { existsSync, readFileSync } from 'node:fs';
import { findProvider } from '@pydantic/genai-prices';
import { chooseConfigFile } from '../config/config-path.js';
import { loadConfigFile } from '../config/load.js';
import type { ProviderConfig } from '../config/types.js';
import { knownFamily } from '../pricing/families.js';
import { PriceTable, type ConfigPrices, type PriceQuote } from '../pricing/price-table.js';
import { RATE_KINDS, type RateKind, type Rates } from '../pricing/rates.js';
import { providerFor } from '../routing/route-model.js';
import { parse, UsageError, type Command, type Io } from './command.js';

/** What the commands price with: the config's prices and providers when there is a config. */
interface Setup {
  table: PriceTable;
  providers: readonly ProviderConfig[];
  configFile: string | undefined;
}

function setup(configOption: string | undefined): Setup {
  const choice = configOption ? { ok: true as const, file: configOption } : chooseConfigFile([], process.env);
  const file = choice.ok && (configOption !== undefined || existsSync(choice.file)) ? choice.file : undefined;
  if (file === undefined) return { table: new PriceTable({}), providers: [], configFile: undefined };
  const loaded = loadConfigFile(file);
  if (!loaded.ok) throw new UsageError(`invalid config ${loaded.file}:\n${loaded.problems.map((p) => `  ${p}`).join('\n')}`);
  return { table: new PriceTable(loaded.config.prices as ConfigPrices), providers: loaded.config.providers, configFile: file };
}

/** `--provider` as a configured provider's name or a family id; else whoever routing picks, else the model's maker. */
function familyFor(model: string, provider: string | undefined, s: Setup): string {
  if (provider !== undefined) {
    const configured = s.providers.find((p) => p.name === provider);
    if (configured) return configured.priceFamily;
    const family = knownFamily(provider);
    if (!family) throw new UsageError(`'${provider}' is neither a provider in the config nor a known price family`);
    return family;
  }
  return providerFor(model, s.providers)?.priceFamily ?? findProvider({ modelId: model })?.id ?? 'openai';
}

function parseAt(at: string | undefined, io: Io): Date {
  if (at === undefined) return new Date(io.now());
  const iso = /^\d{4}-\d{2}-\d{2}$/.test(at) ? `${at}T00:00:00Z` : at;
  const t = Date.parse(iso);
  if (Number.isNaN(t) || !/^\d{4}-\d{2}-\d{2}/.test(at)) throw new UsageError(`--at must be an ISO date or time (2025-05-14 or 2025-05-14T20:00:00Z), not '${at}'`);
  return new Date(t);
}

const KIND_LABEL: Record<RateKind, string> = {
  input: 'input',
  cachedInput: 'cached input',
  cacheWrite: 'cache write (5 min)',
  cacheWrite1h: 'cache write (1 hour)',
  output: 'output (reasoning included)',
  inputAudio: 'audio input',
  outputAudio: 'audio output',
};

const SNAKE: Record<RateKind, string> = {
  input: 'input',
  cachedInput: 'cached_input',
  cacheWrite: 'cache_write',
  cacheWrite1h: 'cache_write_1h',
  output: 'output',
  inputAudio: 'input_audio',
  outputAudio: 'output_audio',
};

const snakeRates = (r: Rates) => Object.fromEntries(RATE_KINDS.map((k) => [SNAKE[k], r[k]]));
const usd = (n: number) => `$${Number(n.toPrecision(12))}`;

export const pricesShow: Command = {
  help: `Usage: tollgate prices show MODEL [--provider NAME] [--at TIME] [--config FILE] [--format text|json]

The rates MODEL is billed at, per 1M tokens, and where they come from.
  --provider NAME   a provider in the config, or a price family (openai, anthropic, azure, deepseek…);
                    default: the provider routing picks, else the model's maker
  --at TIME         the moment to price at (UTC date or ISO time); default: now
  --config FILE     the config whose prices: and providers apply; default: as the server finds it
  --format FORMAT   text (default) or json
`,
  async run(args, io) {
    const { values, positionals } = parse(args, {
      provider: { type: 'string' }, at: { type: 'string' }, config: { type: 'string' }, format: { type: 'string' },
    });
    if (values.help) {
      io.out(this.help);
      return 0;
    }
    const [model, ...extra] = positionals;
    if (model === undefined || extra.length > 0) throw new UsageError('name one model');
    const format = values.format ?? 'text';
    if (format !== 'text' && format !== 'json') throw new UsageError('--format must be text or json');
    const s = setup(values.config);
    const family = familyFor(model, values.provider, s);
    const at = parseAt(values.at, io);
    const quote = s.table.lookup(family, model, at);
    if (!quote) {
      io.err(`${model} has no price for ${family} at ${at.toISOString()}. Add it under prices: in the config, e.g.\n  prices:\n    "${model}": { input: 1.0, output: 2.0 }   # USD per 1M tokens\n`);
      return 1;
    }
    io.out(format === 'json' ? `${JSON.stringify(showJson(model, family, at, quote), null, 2)}\n` : showText(model, family, at, quote));
    return 0;
  },
};

function showJson(model: string, family: string, at: Date, q: PriceQuote) {
  return {
    model, family, at: at.toISOString(), source: q.source, rates: snakeRates(q.rates.base),
    tiers: q.rates.tiers.map((t) => ({ above_input_tokens: t.aboveInputTokens, rates: snakeRates(t.rates) })),
    max_output_tokens: q.maxOutputTokens ?? null, context_window: q.contextWindow ?? null,
  };
}

function showText(model: string, family: string, at: Date, q: PriceQuote): string {
  const lines = [`${model} — ${family} prices at ${at.toISOString()}`, `source: ${q.source}`, 'USD per 1M tokens:'];
  for (const k of RATE_KINDS) lines.push(`  ${KIND_LABEL[k].padEnd(28)} ${usd(q.rates.base[k])}`);
  for (const t of q.rates.tiers) {
    lines.push(`past ${t.aboveInputTokens.toLocaleString('en-US')} input tokens (the whole prompt):`);
    for (const k of RATE_KINDS) lines.push(`  ${KIND_LABEL[k].padEnd(28)} ${usd(t.rates[k])}`);
  }
  if (q.maxOutputTokens !== undefined) lines.push(`max output: ${q.maxOutputTokens.toLocaleString('en-US')} tokens`);
  if (q.contextWindow !== undefined) lines.push(`context window: ${q.contextWindow.toLocaleString('en-US')} tokens`);
  return `${lines.join('\n')}\n`;
}

/** LiteLLM's `litellm_provider` → our price family. */
const LITELLM_FAMILIES: Record<string, string> = {
  openai: 'openai', text_completion_openai: 'openai', anthropic: 'anthropic', deepseek: 'deepseek', mistral: 'mistral',
  codestral: 'mistral', gemini: 'google', azure: 'azure', xai: 'x-ai', groq: 'groq', together_ai: 'together',
  fireworks_ai: 'fireworks', cohere_chat: 'cohere', cohere: 'cohere', perplexity: 'perplexity', openrouter: 'openrouter',
};

/** LiteLLM's per-token price keys for each of our kinds. */
const LITELLM_KEYS: [RateKind, string][] = [
  ['input', 'input_cost_per_token'],
  ['cachedInput', 'cache_read_input_token_cost'],
  ['cacheWrite', 'cache_creation_input_token_cost'],
  ['cacheWrite1h', 'cache_creation_input_token_cost_above_1hr'],
  ['output', 'output_cost_per_token'],
  ['inputAudio', 'input_cost_per_audio_token'],
  ['outputAudio', 'output_cost_per_audio_token'],
];

const TEXT_MODES = new Set(['chat', 'completion', 'embedding', 'responses', undefined]);

export interface Disagreement {
  model: string;
  family: string;
  kind: RateKind | 'price';
  ours: number | null;
  theirs: number | null;
}

/** Every kind the reference prices where our effective rate differs (by more than float noise). */
export function compareWithLiteLLM(reference: Record<string, unknown>, table: PriceTable, at: Date) {
  const disagreements: Disagreement[] = [];
  let compared = 0;
  for (const [key, raw] of Object.entries(reference)) {
    if (raw === null || typeof raw !== 'object') continue;
    const entry = raw as Record<string, unknown>;
    const family = LITELLM_FAMILIES[String(entry.litellm_provider)];
    if (!family || !TEXT_MODES.has(entry.mode as string | undefined) || typeof entry.input_cost_per_token !== 'number') continue;
    const slash = key.indexOf('/');
    const prefix = key.slice(0, slash);
    const model = slash > 0 && (prefix === entry.litellm_provider || knownFamily(prefix) === family) ? key.slice(slash + 1) : key;
    const quote = table.lookup(family, model, at);
    compared++;
    if (!quote) {
      disagreements.push({ model, family, kind: 'price', ours: null, theirs: perMillion(entry.input_cost_per_token) });
      continue;
    }
    for (const [kind, field] of LITELLM_KEYS) {
      const theirs = entry[field];
      if (typeof theirs !== 'number') continue;
      const ours = quote.rates.base[kind];
      const t = perMillion(theirs);
      if (Math.abs(ours - t) > 1e-9 * Math.max(1, Math.abs(t))) disagreements.push({ model, family, kind, ours, theirs: t });
    }
  }
  return { compared, disagreements };
}

function perMillion(perToken: number): number {
  return Number((perToken * 1e6).toPrecision(12));
}

export const pricesCheck: Command = {
  help: `Usage: tollgate prices check --against FILE [--at TIME] [--config FILE] [--format text|json|csv]

Compares the effective price table with a LiteLLM-format model_prices_and_context_window.json and
lists every disagreement: model, kind, ours, theirs (USD per 1M tokens). Models the file prices and
we do not are listed with kind "price". Exit 0 when all agree, 1 when any disagree.
  --against FILE    the reference file (required)
  --at TIME         the moment whose prices to compare; default: now
  --config FILE     include the config's prices:; default: as the server finds it
  --format FORMAT   text (default), json or csv
`,
  async run(args, io) {
    const { values, positionals } = parse(args, {
      against: { type: 'string' }, at: { type: 'string' }, config: { type: 'string' }, format: { type: 'string' },
    });
    if (values.help) {
      io.out(this.help);
      return 0;
    }
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    if (!values.against) throw new UsageError('--against FILE is required');
    const format = values.format ?? 'text';
    if (!['text', 'json', 'csv'].includes(format)) throw new UsageError('--format must be text, json or csv');
    let reference: Record<string, unknown>;
    try {
      reference = JSON.parse(readFileSync(values.against, 'utf8')) as Record<string, unknown>;
    } catch (err) {
      io.err(`tollgate prices check: cannot read ${values.against}: ${(err as Error).message}\n`);
      return 2;
    }
    const at = parseAt(values.at, io);
    const { compared, disagreements } = compareWithLiteLLM(reference, setup(values.config).table, at);
    const show = (n: number | null) => (n === null ? '-' : String(n));
    if (format === 'json') io.out(`${JSON.stringify({ at: at.toISOString(), compared, disagreements }, null, 2)}\n`);
    else if (format === 'csv') {
      io.out(['model,family,kind,ours,theirs', ...disagreements.map((d) => [d.model, d.family, d.kind, show(d.ours), show(d.theirs)].join(','))].join('\n') + '\n');
    } else {
      const rows = disagreements.map((d) => [d.model, d.family, d.kind === 'price' ? 'price (we have none)' : KIND_LABEL[d.kind], show(d.ours), show(d.theirs)]);
      const header = ['model', 'family', 'kind', 'ours', 'theirs'];
      const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
      const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ').trimEnd();
      io.out(`${[line(header), ...rows.map(line)].join('\n')}\n${compared} models compared at ${at.toISOString()}; ${disagreements.length} disagreement(s) (USD per 1M tokens)\n`);
    }
    return disagreements.length === 0 ? 0 : 1;
  },
};
