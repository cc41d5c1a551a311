/**
 * The composition root: every capability the app uses, built from one config. Tests build their
 * own (a temporary ledger, an injected clock, a log sink) and pass it to `buildApp`.
 */
import { AlertOutbox } from './alerts/outbox.js';
import { BodyAnalyzer } from './body/analyzer.js';
import { BudgetBook, type Clock } from './budget/budget-book.js';
import { ConfigStore } from './config/store.js';
import type { Config } from './config/types.js';
import type { Ledger } from './ledger/ledger.js';
import { SqliteLedger } from './ledger/sqlite-ledger.js';
import { createLogger, type Logger } from './log.js';
import { Metrics } from './metrics/metrics.js';
import { UpstreamPools } from './upstream/pools.js';

export interface Deps {
  store: ConfigStore;
  /** Request bodies: parsed and counted without stalling the event loop. */
  bodies: BodyAnalyzer;
  ledger: Ledger;
  budgets: BudgetBook;
  outbox: AlertOutbox;
  pools: UpstreamPools;
  metrics: Metrics;
  clock: Clock;
  log: Logger;
}

export interface DepsOptions {
  ledger?: Ledger;
  clock?: Clock;
  log?: Logger;
  /** How often the alert outbox looks for due retries. */
  outboxPollMs?: number;
}

export function createDeps(config: Config, opts: DepsOptions = {}): Deps {
  const store = new ConfigStore(config);
  const clock = opts.clock ?? Date.now;
  const log = opts.log ?? createLogger();
  const ledger = opts.ledger ?? new SqliteLedger(config.database.path, { clock });
  const outbox = new AlertOutbox(ledger, {
    webhooks: () => store.config.alerts.webhooks,
    maxAttempts: () => store.config.alerts.maxAttempts,
    backoffBaseMs: () => store.config.alerts.backoffBaseMs,
    clock,
    log,
    ...(opts.outboxPollMs === undefined ? {} : { pollMs: opts.outboxPollMs }),
  });
  let metrics: Metrics | undefined;
  const budgets = new BudgetBook(ledger, clock, outbox, {
    recorded: (r) => metrics?.recorded(r),
    failed: (err, what) => log.error({ err }, what),
  });
  metrics = new Metrics({
    totals: () => ledger.metricTotals(),
    budgetRemaining: async () =>
      (await Promise.all(store.config.teams.map((t) => budgets.status(t)))).flat().map((b) => ({ team: b.team, window: b.window, remainingUsd: b.remaining_usd })),
  });
  const pools = new UpstreamPools({ connectMs: Math.min(10_000, config.server.upstreamTimeoutMs) });
  return { store, bodies: new BodyAnalyzer(), ledger, budgets, outbox, pools, metrics, clock, log };
}
