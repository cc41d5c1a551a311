/**
 * Our layer over the pinned @pydantic/genai-prices data: entries it gets wrong or lacks, and the
 * maximum output per model (the price data has none; a worst-case reservation needs it). Every
 * entry names its source and the date it was read. USD per 1M tokens.
 */
export interface PriceOverride {
  /** Glob over the model id the provider is sent. */
  match: string;
  input: number;
  output: number;
  cachedInput?: number;
  cacheWrite?: number;
  cacheWrite1h?: number;
  source: string;
  date: string;
}

export const PRICE_OVERRIDES: readonly PriceOverride[] = [
  // genai-prices 0.1.8 prices DeepSeek at its old off-peak discount (16:30–00:30 UTC) by default;
  // the discount ended 2025-09-05 and the standard V3 rate is what SPEC §4 names.
  {
    match: 'deepseek-chat',
    input: 0.27,
    cachedInput: 0.07,
    output: 1.1,
    source: 'https://api-docs.deepseek.com/quick_start/pricing (deepseek-chat, standard price, cache miss / hit)',
    date: '2025-02-08',
  },
  {
    match: 'deepseek-reasoner',
    input: 0.55,
    cachedInput: 0.14,
    output: 2.19,
    source: 'https://api-docs.deepseek.com/quick_start/pricing (deepseek-reasoner, standard price)',
    date: '2025-02-08',
  },
];

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
