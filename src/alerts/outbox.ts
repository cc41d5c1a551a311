/**
 * Delivers alert events from the persisted outbox in the background: each due delivery is POSTed,
 * every attempt recorded, failures retried with exponential backoff up to a bounded number of
 * attempts. Nothing here is awaited by a proxied request; pending rows survive a restart.
 */
import { request } from 'undici';
import type { Alerting } from '../budget/budget-book.js';
import type { WebhookConfig } from '../config/types.js';
import type { AlertEvent, Delivery, Ledger } from '../ledger/ledger.js';
import type { Clock } from '../budget/budget-book.js';
import { webhookBody } from './format.js';

export interface OutboxOptions {
  webhooks: () => readonly WebhookConfig[];
  maxAttempts: () => number;
  backoffBaseMs: () => number;
  clock: Clock;
  log: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void };
  /** How often to look for due retries when nothing wakes the sender. */
  pollMs?: number;
  timeoutMs?: number;
}

const MAX_BACKOFF_MS = 3_600_000;

export class AlertOutbox implements Alerting {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private stopped = false;
  private rerun = false;
  private inFlight: Promise<void> | undefined;
  /** Deliveries being POSTed now: a delivery is never sent twice at once. */
  private readonly sending = new Set<number>();

  constructor(private readonly ledger: Ledger, private readonly opts: OutboxOptions) {}

  async record(event: AlertEvent): Promise<void> {
    if (await this.ledger.recordAlert(event, this.opts.webhooks(), this.opts.clock())) {
      this.opts.log.info({ event: event.event, team: event.team, budget: event.budget, threshold: event.threshold }, 'budget alert recorded');
      this.wake();
    }
  }

  start(): void {
    this.stopped = false;
    this.wake();
  }

  /** Run a delivery pass soon, off the caller's stack. */
  wake(): void {
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.inFlight;
  }

  /** At most one pass runs at a time; a request for another while one runs is remembered. */
  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.running) {
      this.rerun = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.inFlight = this.pass();
    }, ms);
    this.timer.unref();
  }

  private async pass(): Promise<void> {
    this.running = true;
    try {
      for (;;) {
        const due = (await this.ledger.dueDeliveries(this.opts.clock(), 50)).filter((d) => !this.sending.has(d.id));
        if (due.length === 0) break;
        await Promise.all(due.map((d) => this.deliver(d)));
        if (this.stopped) return;
      }
    } catch (err) {
      this.opts.log.warn({ err }, 'alert outbox pass failed');
    } finally {
      this.running = false;
    }
    const again = this.rerun;
    this.rerun = false;
    this.schedule(again ? 0 : (this.opts.pollMs ?? 1000));
  }

  private async deliver(d: Delivery): Promise<void> {
    this.sending.add(d.id);
    try {
      await this.attempt(d);
    } finally {
      this.sending.delete(d.id);
    }
  }

  private async attempt(d: Delivery): Promise<void> {
    const at = this.opts.clock();
    let outcome: { ok: boolean; httpStatus?: number; error?: string };
    try {
      const res = await request(d.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'tollgate-alerts' },
        body: webhookBody(d.format, d.payload),
        headersTimeout: this.opts.timeoutMs ?? 5000,
        bodyTimeout: this.opts.timeoutMs ?? 5000,
      });
      await res.body.dump();
      const ok = res.statusCode >= 200 && res.statusCode < 300;
      outcome = ok ? { ok, httpStatus: res.statusCode } : { ok, httpStatus: res.statusCode, error: `HTTP ${res.statusCode}` };
    } catch (err) {
      outcome = { ok: false, error: (err as Error).message || String(err) };
    }
    const attempts = d.attempts + 1;
    if (outcome.ok) {
      await this.ledger.recordAttempt(d.id, at, outcome, { state: 'delivered', nextAttemptAt: at });
      return;
    }
    const exhausted = attempts >= this.opts.maxAttempts();
    const backoff = Math.min(MAX_BACKOFF_MS, this.opts.backoffBaseMs() * 2 ** (attempts - 1));
    await this.ledger.recordAttempt(d.id, at, outcome, { state: exhausted ? 'failed' : 'pending', nextAttemptAt: at + backoff });
    this.opts.log.warn({ delivery: d.id, attempts, error: outcome.error, gaveUp: exhausted }, 'alert delivery failed');
  }
}
