/**
 * Prometheus metrics (GET /metrics, admin key). Requests, tokens, cost and refusals are read from
 * the ledger at scrape time, so every instance on a shared ledger reports the same totals (to the
 * nano-dollar: cost is summed as integers and published once); budget remaining too. Upstream
 * latency is this instance's own (a histogram of what it forwarded).
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { LedgerRecord, MetricTotals } from '../ledger/ledger.js';
import { nanoToUsd } from '../pricing/money.js';

export interface MetricSources {
  totals(): Promise<MetricTotals>;
  budgetRemaining(): Promise<{ team: string; window: string; remainingUsd: number }[]>;
}

const TOKEN_KINDS = [
  ['input', 'input_tokens'], ['cached_input', 'cached_input_tokens'], ['cache_write', 'cache_write_tokens'],
  ['output', 'output_tokens'], ['reasoning', 'reasoning_tokens'], ['audio_input', 'audio_input_tokens'],
  ['audio_output', 'audio_output_tokens'],
] as const;

export class Metrics {
  readonly registry = new Registry();
  private readonly latency: Histogram<'provider'>;

  constructor(sources: MetricSources) {
    const registers = [this.registry];
    // One ledger read per scrape, shared by the counters collected in it.
    let scrape: Promise<MetricTotals> | undefined;
    const totals = (): Promise<MetricTotals> => {
      scrape ??= sources.totals().finally(() => setImmediate(() => (scrape = undefined)));
      return scrape;
    };
    new Counter({
      name: 'tollgate_requests_total', help: 'Forwarded requests (ledger rows)', labelNames: ['team', 'model', 'provider', 'status'], registers,
      async collect() {
        const t = await totals();
        this.reset();
        for (const r of t.requests) this.inc({ team: r.team, model: r.model, provider: r.provider, status: String(r.status) }, r.requests);
      },
    });
    new Counter({
      name: 'tollgate_tokens_total', help: 'Tokens metered, by kind', labelNames: ['team', 'model', 'kind'], registers,
      async collect() {
        const t = await totals();
        this.reset();
        for (const r of t.requests) {
          for (const [kind, field] of TOKEN_KINDS) if (r[field] > 0) this.inc({ team: r.team, model: r.model, kind }, r[field]);
        }
      },
    });
    new Counter({
      name: 'tollgate_cost_usd_total', help: 'Cost in USD (sums of exact integer amounts)', labelNames: ['team', 'model'], registers,
      async collect() {
        const t = await totals();
        this.reset();
        const nano = new Map<string, { team: string; model: string; n: number }>();
        for (const r of t.requests) {
          const key = `${r.team}\u0000${r.model}`;
          const e = nano.get(key) ?? { team: r.team, model: r.model, n: 0 };
          e.n += r.cost_nano;
          nano.set(key, e);
        }
        for (const e of nano.values()) if (e.n > 0) this.inc({ team: e.team, model: e.model }, nanoToUsd(e.n));
      },
    });
    new Counter({
      name: 'tollgate_budget_refusals_total', help: 'Requests refused before forwarding for budget', labelNames: ['team', 'window'], registers,
      async collect() {
        const t = await totals();
        this.reset();
        for (const r of t.refusals) this.inc({ team: r.team, window: r.window }, r.refusals);
      },
    });
    this.latency = new Histogram({
      name: 'tollgate_upstream_latency_seconds',
      help: 'Time from forwarding to the end of the provider response (this instance)',
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
        const remaining = await sources.budgetRemaining();
        this.reset();
        for (const b of remaining) this.set({ team: b.team, window: b.window }, b.remainingUsd);
      },
    });
  }

  recorded(r: LedgerRecord): void {
    this.latency.observe({ provider: r.provider }, r.latencyMs / 1000);
  }
}
