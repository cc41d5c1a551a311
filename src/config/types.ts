/** The validated, frozen configuration. Only `load.ts` builds one. */
import type { Dated } from '../pricing/schedule.js';
export type WindowKind = 'hour' | 'day' | 'week' | 'month' | 'total';
export const WINDOW_KINDS: readonly WindowKind[] = ['hour', 'day', 'week', 'month', 'total'];

export type ProviderApi = 'openai' | 'anthropic';

export interface ProviderConfig {
  name: string;
  api: ProviderApi;
  /** openai: includes the version path (…/v1); anthropic: the host root. No trailing slash. */
  baseUrl: string;
  /** Undefined when its env var is unset: the provider is then disabled, with a clear error when used. */
  apiKey: string | undefined;
  /** What to set to enable it, for the start-up log and the error message. */
  apiKeyHint: string;
  models: string[];
  /** Ask for usage in OpenAI streams (stream_options.include_usage); some compatible servers reject it. */
  streamIncludeUsage: boolean;
  /** Whose price list applies (SPEC §9): `price_provider`, else the base URL's host, else `api`. */
  priceFamily: string;
  /** Why that family, for the start-up log. */
  priceFamilyReason: string;
}

export interface PriceConfig {
  input: number;
  output: number;
  cachedInput?: number;
  cacheWrite?: number;
  cacheWrite1h?: number;
  inputAudio?: number;
  outputAudio?: number;
  maxOutputTokens?: number;
}

export interface BudgetConfig {
  /** Stable within the team: the window's name, or `month#2` for a second budget on one window. */
  id: string;
  window: WindowKind;
  limitUsd: number;
  alertAt: number[];
  hardCap: boolean;
}

export interface TeamConfig {
  name: string;
  /** Raw keys or `sha256:<hex>`; empty strings (unset env) are dropped with a warning. */
  keys: string[];
  models: string[] | undefined;
  budgets: BudgetConfig[];
}

export interface WebhookConfig {
  url: string;
  format: 'json' | 'slack';
}

/** Ceilings for input a body points at but does not contain (README: worst-case rules). Unset: the default. */
export interface WorstCaseConfig {
  imageTokens?: number;
  contextTokens?: number;
  hostedToolTokens?: number;
  toolDefinitionTokens?: number;
}

export interface FlatRateOption {
  name: string;
  monthlyUsd: number;
  models: string[];
}

export interface Config {
  file: string;
  server: {
    host: string;
    port: number;
    bodyLimitBytes: number;
    upstreamTimeoutMs: number;
    shutdownGraceMs: number;
  };
  /** SQLite at `path` (one instance), or PostgreSQL at `url` (any number of instances, SPEC §10). */
  database: { path: string; url: string | undefined; poolSize: number; statementTimeoutMs: number; leaseS: number };
  adminKeys: string[];
  providers: ProviderConfig[];
  /** Per model (or glob): its price history, each entry in force from its date (SPEC §2). */
  prices: Record<string, Dated<PriceConfig>[]>;
  unpricedModels: 'reject' | 'allow';
  budgetRefusalStatus: 402 | 429;
  /** Output bound for a worst case when neither the request nor the price data gives one. */
  defaultMaxOutputTokens: number;
  worstCase: WorstCaseConfig;
  teams: TeamConfig[];
  alerts: { webhooks: WebhookConfig[]; maxAttempts: number; backoffBaseMs: number };
  flatRateOptions: FlatRateOption[];
  /** Things a user should know at start-up (unset keys); never fatal. */
  warnings: string[];
}
