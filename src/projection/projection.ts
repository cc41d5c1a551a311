/**
 * The flat-rate decision made on a team's own traffic (SPEC §6): project this month's spend at
 * the current run rate, compare each flat-rate option's break-even volume (monthly price ÷ blended
 * per-token rate) with the projected volume, price each model's traffic on cheaper models, and
 * report how much input the cache already serves. Pure: numbers in, report out.
 */
import type { FlatRateOption } from '../config/types.js';
import { costNano } from '../pricing/cost.js';
import { nanoToUsd } from '../pricing/money.js';
import type { Rates } from '../pricing/rates.js';
import { anyGlobMatches } from '../routing/glob.js';

export interface ModelTraffic {
  model: string;
  provider: string;
  requests: number;
  inputTokens: number;
  cachedInputTokens: number;
  cacheWriteTokens: number;
  outputTokens: number;
  costNano: number;
}

export interface Candidate {
  model: string;
  provider: string;
  rates: Rates;
}

export interface ProjectionInput {
  now: number;
  monthStart: number;
  monthEnd: number;
  traffic: ModelTraffic[];
  flatRateOptions: readonly FlatRateOption[];
  candidates: Candidate[];
}

const tokensOf = (t: ModelTraffic): number => t.inputTokens + t.outputTokens;

export function project(input: ProjectionInput) {
  const elapsed = Math.max(1, input.now - input.monthStart);
  const length = input.monthEnd - input.monthStart;
  const scale = length / elapsed; // run rate: the month so far, stretched to the whole month
  const sum = (f: (t: ModelTraffic) => number, ts = input.traffic): number => ts.reduce((s, t) => s + f(t), 0);

  const costSoFar = sum((t) => t.costNano);
  const tokensSoFar = sum(tokensOf);
  const inputSoFar = sum((t) => t.inputTokens);

  const flatRate = input.flatRateOptions.map((option) => {
    const covered = input.traffic.filter((t) => anyGlobMatches(option.models, t.model));
    const tokens = sum(tokensOf, covered);
    const cost = sum((t) => t.costNano, covered);
    const projectedTokens = Math.round(tokens * scale);
    const projectedCost = Math.round(cost * scale);
    // Blended rate: what a token of this traffic has cost on average, per-token pricing.
    const blendedUsdPerToken = tokens > 0 ? cost / 1e9 / tokens : 0;
    const breakEvenTokens = blendedUsdPerToken > 0 ? Math.ceil(option.monthlyUsd / blendedUsdPerToken) : null;
    const flatCheaper = breakEvenTokens !== null && projectedTokens > breakEvenTokens;
    return {
      name: option.name,
      monthly_usd: option.monthlyUsd,
      models: option.models,
      month_to_date_tokens: tokens,
      month_to_date_cost_usd: nanoToUsd(cost),
      blended_rate_usd_per_mtok: Number((blendedUsdPerToken * 1e6).toFixed(6)),
      break_even_tokens_per_month: breakEvenTokens,
      projected_tokens: projectedTokens,
      projected_per_token_cost_usd: nanoToUsd(projectedCost),
      verdict: breakEvenTokens === null ? 'no_traffic' : flatCheaper ? 'flat_rate_cheaper' : 'per_token_cheaper',
      projected_savings_usd: nanoToUsd(Math.abs(projectedCost - option.monthlyUsd * 1e9)),
    };
  });

  const alternatives = input.traffic.map((t) => {
    const usage = {
      inputTokens: t.inputTokens, cachedInputTokens: t.cachedInputTokens, cacheWriteTokens: t.cacheWriteTokens,
      cacheWrite1hTokens: 0, outputTokens: t.outputTokens, reasoningTokens: 0, audioInputTokens: 0, audioOutputTokens: 0,
    };
    const cheaper = input.candidates
      .filter((c) => c.model !== t.model)
      .map((c) => ({ model: c.model, provider: c.provider, cost: costNano(usage, c.rates) }))
      .filter((c) => c.cost < t.costNano)
      .sort((a, b) => a.cost - b.cost)
      .map((c) => ({ model: c.model, provider: c.provider, cost_usd: nanoToUsd(c.cost), savings_usd: nanoToUsd(t.costNano - c.cost) }));
    return { model: t.model, provider: t.provider, requests: t.requests, cost_usd: nanoToUsd(t.costNano), cheaper };
  });

  return {
    month_start: new Date(input.monthStart).toISOString(),
    month_end: new Date(input.monthEnd).toISOString(),
    as_of: new Date(input.now).toISOString(),
    elapsed_fraction: Number(Math.min(1, elapsed / length).toFixed(6)),
    month_to_date: { cost_usd: nanoToUsd(costSoFar), tokens: tokensSoFar },
    projected_month_end: { cost_usd: nanoToUsd(Math.round(costSoFar * scale)), tokens: Math.round(tokensSoFar * scale) },
    flat_rate_options: flatRate,
    alternatives,
    cache: {
      input_tokens: inputSoFar,
      cached_input_tokens: sum((t) => t.cachedInputTokens),
      share_of_input_from_cache: inputSoFar > 0 ? Number((sum((t) => t.cachedInputTokens) / inputSoFar).toFixed(6)) : 0,
    },
  };
}
