/**
 * Prometheus metrics (GET /metrics, admin key): requests, tokens and cost per team/model, budget
 * refusals, upstream latency, and budget remaining (read at scrape time from the budget book).
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { LedgerRecord } from '../ledger/ledger.js';
import { nanoToUsd } from '../pricing/money.js';

export class Metrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'team' | 'model' | 'provider' | 'status'>;
  private readonly tokens: Counter<'team' | 'model' | 'kind'>;
  /** Cost is kept as exact integer nano-dollars and published as one float per scrape. */
  private readonly costNano = new Map<string, { team: string; model: string; nano: number }>();
  private readonly refused: Counter<'team' | 'window'>;
  private readonly latency: Histogram<'provider'>;

  constructor(budgetRemaining: () => Promise<{ team: string; window: string; remainingUsd: number }[]>) {
    const registers = [this.registry];
    this.requests = new Counter({ name: 'tollgate_requests_total', help: 'Forwarded requests (ledger rows)', labelNames: ['team', 'model', 'provider', 'status'], registers });
    this.tokens = new Counter({ name: 'tollgate_tokens_total', help: 'Tokens metered, by kind', labelNames: ['team', 'model', 'kind'], registers });
    const costs = this.costNano;
    new Counter({
      name: 'tollgate_cost_usd_total',
      help: 'Cost in USD (sums of exact integer amounts)',
      labelNames: ['team', 'model'],
      registers,
      collect() {
        this.reset();
        for (const c of costs.values()) this.inc({ team: c.team, model: c.model }, nanoToUsd(c.nano));
      },
    });
    this.refused = new Counter({ name: 'tollgate_budget_refusals_total', help: 'Requests refused before forwarding for budget', labelNames: ['team', 'window'], registers });
    this.latency = new Histogram({
      name: 'tollgate_upstream_latency_seconds',
      help: 'Time from forwarding to the end of the provider response',
      labelNames: ['provider'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers,
    });
    new Gauge({
      name: 'tollgate_budget_remaining_usd',
      help: 'Budget remaining in the current window (limit - spent - reserved)',
      labelNames: ['team', 'window'],
      registers,
      async collect() {
        const remaining = await budgetRemaining();
        this.reset();
        for (const b of remaining) this.set({ team: b.team, window: b.window }, b.remainingUsd);
      },
    });
  }

  recorded(r: LedgerRecord): void {
    this.requests.inc({ team: r.team, model: r.model, provider: r.provider, status: String(r.status) });
    const u = r.usage;
    for (const [kind, n] of [
      ['input', u.inputTokens], ['cached_input', u.cachedInputTokens], ['cache_write', u.cacheWriteTokens],
      ['output', u.outputTokens], ['reasoning', u.reasoningTokens], ['audio_input', u.audioInputTokens],
      ['audio_output', u.audioOutputTokens],
    ] as const) {
      if (n > 0) this.tokens.inc({ team: r.team, model: r.model, kind }, n);
    }
    if (r.costNano > 0) {
      const key = `${r.team}\u0000${r.model}`;
      const entry = this.costNano.get(key) ?? { team: r.team, model: r.model, nano: 0 };
      entry.nano += r.costNano;
      this.costNano.set(key, entry);
    }
    this.latency.observe({ provider: r.provider }, r.latencyMs / 1000);
  }

  refusedFor(team: string, window: string): void {
    this.refused.inc({ team, window });
  }
}
