/**
 * Our layer over the pinned @pydantic/genai-prices data: prices it gets wrong or lacks for models
 * users call, as dated histories (SPEC §9), each with its source and the date we read it; aliases
 * that move from model to model over time; fine-tuned rates by base model; and each model's
 * maximum output (the price data has none; a worst-case reservation needs it). USD per 1M tokens.
 * Audit them with `npx tollgate prices check --against model_prices_and_context_window.json`.
 */
import type { Dated } from './schedule.js';
import type { PartialRates } from './rates.js';

export interface PriceEntry extends PartialRates {
  /** Long-context steps: past `aboveInputTokens` prompt tokens, these rates apply to all tokens. */
  tiers?: { aboveInputTokens: number; rates: PartialRates }[];
}

export interface PriceOverride {
  /** The price family whose list this corrects (families.ts). */
  family: string;
  /** Globs over the model id sent to the provider; the first override that matches wins. */
  match: readonly string[];
  history: readonly Dated<PriceEntry>[];
  source: string;
  /** When we read the source. */
  read: string;
}

const DEEPSEEK_PRICING = 'api-docs.deepseek.com/quick_start/pricing and its news pages (V3 2024-12-26, off-peak 2025-02-26, V3.1 2025-09-05, V3.2 2025-09-29)';
const DEEPSEEK_OFF_PEAK = { start: '16:30', end: '00:30' } as const;
/** deepseek-chat and deepseek-reasoner share one price list since V3.1. */
const DEEPSEEK_V31 = { from: '2025-09-05T16:00:00Z', value: { input: 0.56, cachedInput: 0.07, output: 1.68 } };
const DEEPSEEK_V32 = { from: '2025-09-29', value: { input: 0.28, cachedInput: 0.028, output: 0.42 } };

const SONNET_4_LONG_CONTEXT = { input: 6, cachedInput: 0.6, cacheWrite: 7.5, cacheWrite1h: 12, output: 22.5 };
const SONNET_4 = { input: 3, cachedInput: 0.3, cacheWrite: 3.75, cacheWrite1h: 6, output: 15 };

export const PRICE_OVERRIDES: readonly PriceOverride[] = [
  {
    // The price data has the 2025 off-peak discount at every date (and nothing after it), so
    // without this deepseek-chat bills the retired peak rate by day and half of it by night.
    family: 'deepseek',
    match: ['deepseek-chat'],
    history: [
      { value: { input: 0.14, cachedInput: 0.014, output: 0.28 } }, // V2.5, then V3's launch price
      { from: '2025-02-08T16:00:00Z', value: { input: 0.27, cachedInput: 0.07, output: 1.1 } },
      { from: '2025-02-26T16:30:00Z', hours: DEEPSEEK_OFF_PEAK, value: { input: 0.135, cachedInput: 0.035, output: 0.55 } },
      DEEPSEEK_V31,
      DEEPSEEK_V32,
    ],
    source: DEEPSEEK_PRICING,
    read: '2026-12-03',
  },
  {
    family: 'deepseek',
    match: ['deepseek-reasoner'],
    history: [
      { value: { input: 0.55, cachedInput: 0.14, output: 2.19 } }, // R1, from 2025-01-20
      { from: '2025-02-26T16:30:00Z', hours: DEEPSEEK_OFF_PEAK, value: { input: 0.135, cachedInput: 0.035, output: 0.55 } },
      DEEPSEEK_V31,
      DEEPSEEK_V32,
    ],
    source: DEEPSEEK_PRICING,
    read: '2026-12-03',
  },
  {
    // o3's cached input was $2.50 until the 2025-06-10 price cut (the data has $0.50 throughout).
    family: 'openai',
    match: ['o3', 'o3-2025-04-16'],
    history: [
      { value: { input: 10, cachedInput: 2.5, output: 40 } },
      { from: '2025-06-10', value: { input: 2, cachedInput: 0.5, output: 8 } },
    ],
    source: 'platform.openai.com/docs/pricing (o3 at launch 2025-04-16; 80% price cut 2025-06-10)',
    read: '2026-12-03',
  },
  {
    // Audio tokens are billed apart from text, at many times its rate; the data has text rates only.
    family: 'openai',
    match: ['gpt-4o-audio-preview-2024-10-01'],
    history: [{ value: { input: 2.5, output: 10, inputAudio: 100, outputAudio: 200 } }],
    source: 'platform.openai.com/docs/pricing (gpt-4o-audio-preview-2024-10-01, audio tokens)',
    read: '2026-12-03',
  },
  {
    family: 'openai',
    match: ['gpt-4o-audio-preview-*'],
    history: [{ value: { input: 2.5, output: 10, inputAudio: 40, outputAudio: 80 } }],
    source: 'platform.openai.com/docs/pricing (gpt-4o-audio-preview-2024-12-17 and later, audio tokens)',
    read: '2026-12-03',
  },
  {
    family: 'openai',
    match: ['gpt-4o-audio-preview'],
    history: [
      { value: { input: 2.5, output: 10, inputAudio: 100, outputAudio: 200 } },
      { from: '2024-12-17', value: { input: 2.5, output: 10, inputAudio: 40, outputAudio: 80 } },
    ],
    source: 'openai.com/index/o1-and-new-tools-for-developers (2024-12-17: audio 60% cheaper); platform.openai.com/docs/pricing',
    read: '2026-12-03',
  },
  {
    family: 'openai',
    match: ['gpt-4o-mini-audio-preview', 'gpt-4o-mini-audio-preview-*'],
    history: [{ value: { input: 0.15, output: 0.6, inputAudio: 10, outputAudio: 20 } }],
    source: 'platform.openai.com/docs/pricing (gpt-4o-mini-audio-preview, audio tokens)',
    read: '2026-12-03',
  },
  {
    // The 1M-context beta (2025-08-12 until its retirement) billed prompts over 200k at these
    // rates; the data has the base rates only.
    family: 'anthropic',
    match: ['claude-sonnet-4', 'claude-sonnet-4-0', 'claude-sonnet-4-2025*', 'claude-sonnet-4@*', 'claude-4-sonnet*'],
    history: [
      { value: SONNET_4 },
      { from: '2025-08-12', value: { ...SONNET_4, tiers: [{ aboveInputTokens: 200_000, rates: SONNET_4_LONG_CONTEXT }] } },
    ],
    source: 'docs.anthropic.com/en/docs/build-with-claude/context-windows#1m-token-context-window (long context pricing, from 2025-08-12)',
    read: '2026-12-03',
  },
];

export interface ModelAlias {
  family: string;
  alias: string;
  /** Which model the alias served from when. */
  targets: readonly Dated<string>[];
  source: string;
  read: string;
}

export const ALIASES: readonly ModelAlias[] = [
  {
    family: 'mistral',
    alias: 'mistral-large-latest',
    targets: [{ value: 'mistral-large-2411' }, { from: '2026-03-02', value: 'mistral-large-2512' }],
    source: 'docs.mistral.ai/getting-started/models (mistral-large-latest → Mistral Large 3, 2026-03-02)',
    read: '2026-12-03',
  },
  {
    family: 'google',
    alias: 'gemini-flash-latest',
    targets: [
      { from: '2025-09-25', value: 'gemini-2.5-flash-preview-09-2025' },
      { from: '2025-12-17', value: 'gemini-3-flash-preview' },
      { from: '2026-05-19', value: 'gemini-3.5-flash' },
    ],
    source: 'ai.google.dev/gemini-api/docs/models (latest aliases, 2025-09-25); Gemini 3 Flash (2025-12-17); Gemini 3.5 Flash GA (2026-05-19)',
    read: '2026-12-03',
  },
];

export interface FineTunedRates {
  /** Glob over the base model of `ft:<base>:<org>:…`; first match wins. */
  base: string;
  rates: PartialRates;
}

/** OpenAI's fine-tuned inference rates (per 1M tokens, cached input included). */
export const FINE_TUNED: { family: string; source: string; read: string; bases: readonly FineTunedRates[] } = {
  family: 'openai',
  source: "platform.openai.com/docs/pricing (fine-tuning); LiteLLM's model_prices_and_context_window.json ft: entries",
  read: '2026-12-03',
  bases: [
    { base: 'gpt-4o-mini*', rates: { input: 0.3, cachedInput: 0.15, output: 1.2 } },
    { base: 'gpt-4o-*', rates: { input: 3.75, cachedInput: 1.875, output: 15 } },
    { base: 'gpt-4.1-mini*', rates: { input: 0.8, cachedInput: 0.2, output: 3.2 } },
    { base: 'gpt-4.1-nano*', rates: { input: 0.2, cachedInput: 0.05, output: 0.8 } },
    { base: 'gpt-4.1-*', rates: { input: 3, cachedInput: 0.75, output: 12 } },
    { base: 'o4-mini*', rates: { input: 4, cachedInput: 1, output: 16 } },
    { base: 'gpt-4-0613', rates: { input: 30, output: 60 } },
    { base: 'gpt-3.5-turbo*', rates: { input: 3, output: 6 } },
  ],
};

export interface OutputLimit {
  match: string;
  maxOutputTokens: number;
  source: string;
}

/** First match wins, so specific globs stand before general ones. */
export const OUTPUT_LIMITS: readonly OutputLimit[] = [
  { match: 'gpt-4o-mini*', maxOutputTokens: 16_384, source: 'platform.openai.com/docs/models/gpt-4o-mini (2025-06)' },
  { match: 'gpt-4o*', maxOutputTokens: 16_384, source: 'platform.openai.com/docs/models/gpt-4o (2025-06)' },
  { match: 'gpt-4.1*', maxOutputTokens: 32_768, source: 'platform.openai.com/docs/models/gpt-4.1 (2025-06)' },
  { match: 'gpt-5*', maxOutputTokens: 128_000, source: 'platform.openai.com/docs/models/gpt-5 (2025-08)' },
  { match: 'o1-mini*', maxOutputTokens: 65_536, source: 'platform.openai.com/docs/models/o1-mini (2025-06)' },
  { match: 'o1*', maxOutputTokens: 100_000, source: 'platform.openai.com/docs/models/o1 (2025-06)' },
  { match: 'o3*', maxOutputTokens: 100_000, source: 'platform.openai.com/docs/models/o3 (2025-06)' },
  { match: 'o4-mini*', maxOutputTokens: 100_000, source: 'platform.openai.com/docs/models/o4-mini (2025-06)' },
  { match: 'gpt-4-turbo*', maxOutputTokens: 4_096, source: 'platform.openai.com/docs/models/gpt-4-turbo (2025-06)' },
  { match: 'gpt-3.5-turbo*', maxOutputTokens: 4_096, source: 'platform.openai.com/docs/models/gpt-3.5-turbo (2025-06)' },
  { match: 'gpt-4', maxOutputTokens: 8_192, source: 'platform.openai.com/docs/models/gpt-4 (2025-06)' },
  { match: 'text-embedding-*', maxOutputTokens: 0, source: 'embeddings produce no output tokens' },
  { match: 'claude-opus-4-1*', maxOutputTokens: 32_000, source: 'docs.anthropic.com/en/docs/about-claude/models/overview (2025-08)' },
  { match: 'claude-opus-4-0*', maxOutputTokens: 32_000, source: 'docs.anthropic.com/en/docs/about-claude/models/overview (2025-08)' },
  { match: 'claude-opus-4-2*', maxOutputTokens: 32_000, source: 'docs.anthropic.com/en/docs/about-claude/models/overview (2025-08)' },
  { match: 'claude-opus-4*', maxOutputTokens: 64_000, source: 'docs.anthropic.com/en/docs/about-claude/models/overview (2025-11)' },
  { match: 'claude-sonnet-4*', maxOutputTokens: 64_000, source: 'docs.anthropic.com/en/docs/about-claude/models/overview (2025-08)' },
  { match: 'claude-3-7-sonnet*', maxOutputTokens: 64_000, source: 'docs.anthropic.com/en/docs/about-claude/models/overview (2025-06)' },
  { match: 'claude-haiku-4*', maxOutputTokens: 64_000, source: 'docs.anthropic.com/en/docs/about-claude/models/overview (2025-10)' },
  { match: 'claude-3-5-*', maxOutputTokens: 8_192, source: 'docs.anthropic.com/en/docs/about-claude/models/overview (2025-06)' },
  { match: 'claude-3-*', maxOutputTokens: 4_096, source: 'docs.anthropic.com/en/docs/about-claude/models/overview (2025-06)' },
  { match: 'deepseek-chat', maxOutputTokens: 8_192, source: 'api-docs.deepseek.com/quick_start/pricing (2025-02)' },
  { match: 'deepseek-reasoner', maxOutputTokens: 65_536, source: 'api-docs.deepseek.com/quick_start/pricing (2025-09)' },
  { match: 'gemini-2.5-*', maxOutputTokens: 65_536, source: 'ai.google.dev/gemini-api/docs/models (2025-06)' },
  { match: 'gemini-2.0-*', maxOutputTokens: 8_192, source: 'ai.google.dev/gemini-api/docs/models (2025-06)' },
];
