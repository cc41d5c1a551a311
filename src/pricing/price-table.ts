/**
 * Price lookup by (family, model, time) (SPEC §9), never by a provider's free-form name:
 *   1 the config's `prices:` (dated entries)
 *   2 a fine-tuned id (`ft:<base>:…`) at its base model's fine-tuned rates
 *   3 an alias (`mistral-large-latest`) resolved to the model it served at that time
 *   4 our dated overrides for the family, then the pinned @pydantic/genai-prices data (which knows
 *     dated ids, cached and cache-write rates, audio, long-context tiers and price history);
 *     a model its family's list does not know is looked up in its maker's list
 *   5 a `-latest` id nobody lists, as the id without `-latest`
 * The data's network auto-update is never enabled: prices change only with a reviewed bump.
 */
import { calcPrice, findProvider, type ModelPrice } from '@pydantic/genai-prices';
import type { PriceConfig } from '../config/types.js';
import { globMatch } from '../routing/glob.js';
import { ALIASES, FINE_TUNED, OUTPUT_LIMITS, PRICE_OVERRIDES, type PriceEntry } from './overrides.js';
import { resolveRates, type PartialRates, type Rates, type TieredRates } from './rates.js';
import { inForce, type Dated } from './schedule.js';

export const GENAI_PRICES_VERSION = '0.1.8';
/** When that version's data was published: the "when" of every bundled price. */
export const GENAI_PRICES_DATE = '2026-09-23';

export interface PriceQuote {
  /** Where the price came from, kept with every ledger record. */
  source: string;
  rates: TieredRates;
  /** The model's maximum output, when known: bounds a worst case when the request sets none. */
  maxOutputTokens: number | undefined;
  /** The model's context window, when known: bounds input the provider adds from stored context. */
  contextWindow?: number | undefined;
}

export type ConfigPrices = Readonly<Record<string, readonly Dated<PriceConfig>[]>>;

export class PriceTable {
  private readonly cache = new Map<string, PriceQuote | null>();

  constructor(private readonly configPrices: ConfigPrices) {}

  lookup(family: string, model: string, at: Date = new Date()): PriceQuote | undefined {
    // Minute precision: dated entries and time-of-day discounts change on the minute at most.
    const key = `${family}\u0000${model}\u0000${at.toISOString().slice(0, 16)}`;
    let quote = this.cache.get(key);
    if (quote === undefined) {
      quote = this.find(family, model, at) ?? null;
      if (this.cache.size > 10_000) this.cache.clear(); // bounded: model ids come from clients
      this.cache.set(key, quote);
    }
    return quote ?? undefined;
  }

  private find(family: string, model: string, at: Date): PriceQuote | undefined {
    const configured = this.fromConfig(model, at);
    if (configured) {
      const { value, from } = configured;
      return {
        source: `config prices${from ? ` (from ${from})` : ''}`,
        rates: { base: resolveRates(value), tiers: [] },
        maxOutputTokens: value.maxOutputTokens ?? outputLimit(model),
      };
    }
    if (model.startsWith('ft:')) return fineTuned(family, model);
    const resolved = resolveAlias(family, model, at);
    const quote = bundled(family, resolved, at);
    if (quote) return resolved === model ? quote : { ...quote, source: `${quote.source} (${model} → ${resolved})` };
    if (model.endsWith('-latest')) {
      const base = model.slice(0, -'-latest'.length);
      const q = bundled(family, base, at);
      return q ? { ...q, source: `${q.source} (${model} read as ${base})` } : undefined;
    }
    return undefined;
  }

  private fromConfig(model: string, at: Date): Dated<PriceConfig> | undefined {
    // Own keys only: a model named `constructor` must not find Object.prototype.
    const history = Object.hasOwn(this.configPrices, model)
      ? this.configPrices[model]
      : Object.entries(this.configPrices).find(([k]) => k.includes('*') && globMatch(k, model))?.[1];
    return history ? inForce(history, at) : undefined;
  }
}

/** The family's own list (overrides, then the price data), else the list of the model's maker. */
function bundled(family: string, model: string, at: Date): PriceQuote | undefined {
  const own = fromOverrides(family, model, at) ?? fromGenaiPrices(family, model, at);
  if (own) return own;
  const maker = findProvider({ modelId: model })?.id;
  if (maker === undefined || maker === family) return undefined;
  return fromOverrides(maker, model, at) ?? fromGenaiPrices(maker, model, at);
}

export function resolveAlias(family: string, model: string, at: Date): string {
  const alias = ALIASES.find((a) => a.family === family && a.alias === model) ?? ALIASES.find((a) => a.alias === model);
  return (alias && inForce(alias.targets, at)?.value) ?? model;
}

function fromOverrides(family: string, model: string, at: Date): PriceQuote | undefined {
  const override = PRICE_OVERRIDES.find((o) => o.family === family && o.match.some((m) => globMatch(m, model)));
  const entry = override ? inForce(override.history, at) : undefined;
  if (!override || !entry) return undefined;
  return {
    source: `tollgate overrides: ${override.source}${entry.from ? `, in force from ${entry.from}` : ''}${entry.hours ? ` during ${entry.hours.start}–${entry.hours.end} UTC` : ''} (read ${override.read})`,
    rates: tiered(entry.value),
    maxOutputTokens: outputLimit(model),
    contextWindow: findProvider({ providerId: family }) ? contextWindowOf(family, model, at) : undefined,
  };
}

function tiered(e: PriceEntry): TieredRates {
  return { base: resolveRates(e), tiers: (e.tiers ?? []).map((t) => ({ aboveInputTokens: t.aboveInputTokens, rates: resolveRates(t.rates) })) };
}

function fineTuned(family: string, model: string): PriceQuote | undefined {
  const base = model.split(':')[1] ?? '';
  if (family !== FINE_TUNED.family && family !== 'azure') return undefined;
  const row = FINE_TUNED.bases.find((b) => globMatch(b.base, base));
  if (!row) return undefined;
  return {
    source: `tollgate overrides: ${FINE_TUNED.source} (fine-tuned ${base}; read ${FINE_TUNED.read})`,
    rates: { base: resolveRates(row.rates), tiers: [] },
    maxOutputTokens: outputLimit(base),
  };
}

function outputLimit(model: string): number | undefined {
  return OUTPUT_LIMITS.find((l) => globMatch(l.match, model))?.maxOutputTokens;
}

function calc(family: string, model: string, at: Date): ReturnType<typeof calcPrice> {
  try {
    return calcPrice({ input_tokens: 0, output_tokens: 0 }, model, { providerId: family, timestamp: at });
  } catch {
    return null; // the library throws on some malformed ids; an unknown model is unpriced
  }
}

function contextWindowOf(family: string, model: string, at: Date): number | undefined {
  return calc(family, model, at)?.model.context_window;
}

function fromGenaiPrices(family: string, model: string, at: Date): PriceQuote | undefined {
  if (!findProvider({ providerId: family })) return undefined;
  const result = calc(family, model, at);
  if (!result) return undefined;
  const rates = tieredFrom(result.model_price);
  if (!rates) return undefined;
  return {
    source: `@pydantic/genai-prices ${GENAI_PRICES_VERSION} (data of ${GENAI_PRICES_DATE}): ${result.provider.id}/${result.model.id}`,
    rates,
    maxOutputTokens: outputLimit(model),
    contextWindow: result.model.context_window,
  };
}

type Tiered = { base: number; tiers: { start: number; price: number }[] };

/** The data's price keys for each of our rate kinds. */
const DATA_KEYS: Record<keyof PartialRates, string> = {
  input: 'input_mtok',
  output: 'output_mtok',
  cachedInput: 'cache_read_mtok',
  cacheWrite: 'cache_write_mtok',
  cacheWrite1h: 'cache_write_1h_mtok',
  inputAudio: 'input_audio_mtok',
  outputAudio: 'output_audio_mtok',
};

function tieredFrom(p: ModelPrice): TieredRates | undefined {
  const fields = Object.fromEntries(
    Object.entries(DATA_KEYS).map(([kind, key]) => [kind, p[key] as number | Tiered | undefined]),
  ) as Record<keyof PartialRates, number | Tiered | undefined>;
  if (fields.input === undefined) return undefined;
  const at = (v: number | Tiered | undefined, threshold: number | undefined): number | undefined => {
    if (v === undefined || typeof v === 'number') return v;
    let price = v.base;
    if (threshold !== undefined) for (const t of v.tiers) if (threshold >= t.start) price = t.price;
    return price;
  };
  const ratesAt = (threshold: number | undefined): Rates => {
    const r = Object.fromEntries(Object.entries(fields).map(([kind, v]) => [kind, at(v, threshold)])) as Record<keyof PartialRates, number | undefined>;
    return resolveRates({ ...r, input: r.input ?? 0, output: r.output ?? 0 });
  };
  const thresholds = [
    ...new Set(Object.values(fields).flatMap((v) => (v !== undefined && typeof v === 'object' ? v.tiers.map((t) => t.start) : []))),
  ].sort((a, b) => a - b);
  return { base: ratesAt(undefined), tiers: thresholds.map((t) => ({ aboveInputTokens: t, rates: ratesAt(t) })) };
}
