/**
 * Price lookup: the config's `prices:` first, then our overrides, then the pinned
 * @pydantic/genai-prices data (which knows dated ids, cached input, cache writes, long-context
 * tiers and price history). Its network auto-update is never enabled: prices change only with
 * a reviewed version bump.
 */
import { calcPrice, type ModelPrice } from '@pydantic/genai-prices';
import type { PriceConfig } from '../config/types.js';
import { globMatch } from '../routing/glob.js';
import { OUTPUT_LIMITS, PRICE_OVERRIDES } from './overrides.js';
import { resolveRates, type Rates, type TieredRates } from './rates.js';

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

/** Our provider names → genai-prices provider ids, where they differ or we want them pinned. */
const PROVIDER_IDS: Record<string, string> = {
  openai: 'openai',
  anthropic: 'anthropic',
  deepseek: 'deepseek',
  mistral: 'mistral',
  google: 'google',
  gemini: 'google',
};

export class PriceTable {
  private readonly cache = new Map<string, PriceQuote | null>();

  constructor(private readonly configPrices: Readonly<Record<string, PriceConfig>>) {}

  lookup(providerName: string, model: string, at: Date = new Date()): PriceQuote | undefined {
    const key = `${providerName}\u0000${model}\u0000${at.toISOString().slice(0, 13)}`;
    let quote = this.cache.get(key);
    if (quote === undefined) {
      quote = this.find(providerName, model, at) ?? null;
      if (this.cache.size > 10_000) this.cache.clear(); // bounded: model ids come from clients
      this.cache.set(key, quote);
    }
    return quote ?? undefined;
  }

  private find(providerName: string, model: string, at: Date): PriceQuote | undefined {
    const maxOutputTokens = outputLimit(model);
    const configured = this.fromConfig(model);
    if (configured) {
      return {
        source: 'config prices',
        rates: { base: resolveRates(configured), tiers: [] },
        maxOutputTokens: configured.maxOutputTokens ?? maxOutputTokens,
      };
    }
    const override = PRICE_OVERRIDES.find((o) => globMatch(o.match, model));
    if (override) {
      return {
        source: `tollgate overrides: ${override.source}, ${override.date}`,
        rates: { base: resolveRates(override), tiers: [] },
        maxOutputTokens,
      };
    }
    return fromGenaiPrices(providerName, model, at, maxOutputTokens);
  }

  private fromConfig(model: string): PriceConfig | undefined {
    // Own keys only: a model named `constructor` must not find Object.prototype.
    const exact = Object.hasOwn(this.configPrices, model) ? this.configPrices[model] : undefined;
    if (exact) return exact;
    const globbed = Object.entries(this.configPrices).find(([k]) => k.includes('*') && globMatch(k, model));
    return globbed?.[1];
  }
}

function outputLimit(model: string): number | undefined {
  return OUTPUT_LIMITS.find((l) => globMatch(l.match, model))?.maxOutputTokens;
}

function fromGenaiPrices(providerName: string, model: string, at: Date, maxOutputTokens: number | undefined): PriceQuote | undefined {
  const providerId = PROVIDER_IDS[providerName];
  let result: ReturnType<typeof calcPrice> = null;
  try {
    result = calcPrice({ input_tokens: 0, output_tokens: 0 }, model, providerId ? { providerId, timestamp: at } : { timestamp: at });
    if (!result && providerId) result = calcPrice({ input_tokens: 0, output_tokens: 0 }, model, { timestamp: at });
  } catch {
    return undefined; // the library throws on some malformed ids; an unknown model is unpriced
  }
  if (!result) return undefined;
  const rates = tieredFrom(result.model_price);
  if (!rates) return undefined;
  return {
    source: `@pydantic/genai-prices ${GENAI_PRICES_VERSION} (data of ${GENAI_PRICES_DATE}): ${result.provider.id}/${result.model.id}`,
    rates,
    maxOutputTokens,
    contextWindow: result.model.context_window,
  };
}

type Tiered = { base: number; tiers: { start: number; price: number }[] };

function tieredFrom(p: ModelPrice): TieredRates | undefined {
  const field = (name: string): number | Tiered | undefined => p[name] as number | Tiered | undefined;
  const input = field('input_mtok');
  if (input === undefined) return undefined;
  const fields = {
    input,
    output: field('output_mtok') ?? 0,
    cachedInput: field('cache_read_mtok'),
    cacheWrite: field('cache_write_mtok'),
    cacheWrite1h: field('cache_write_1h_mtok'),
  };
  const at = (v: number | Tiered | undefined, threshold: number | undefined): number | undefined => {
    if (v === undefined || typeof v === 'number') return v;
    let price = v.base;
    if (threshold !== undefined) for (const t of v.tiers) if (threshold >= t.start) price = t.price;
    return price;
  };
  const ratesAt = (threshold: number | undefined): Rates =>
    resolveRates({
      input: at(fields.input, threshold) ?? 0,
      output: at(fields.output, threshold) ?? 0,
      cachedInput: at(fields.cachedInput, threshold),
      cacheWrite: at(fields.cacheWrite, threshold),
      cacheWrite1h: at(fields.cacheWrite1h, threshold),
    });
  const thresholds = [
    ...new Set(Object.values(fields).flatMap((v) => (v !== undefined && typeof v === 'object' ? v.tiers.map((t) => t.start) : []))),
  ].sort((a, b) => a - b);
  return { base: ratesAt(undefined), tiers: thresholds.map((t) => ({ aboveInputTokens: t, rates: ratesAt(t) })) };
}
