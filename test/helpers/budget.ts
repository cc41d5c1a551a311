/**
 * Shared pieces of the budget and alert tests: a price and provider usage that make each request
 * cost exactly one cent, and small readers for /usage, /usage/requests and /alerts/deliveries.
 */
import type { DeliveryView } from '../../src/ledger/ledger.js';
import type { FakeProvider, Reply } from './fake-provider.js';
import { ADMIN_KEY, TEAM_KEY, type RawConfig } from './app.js';

/** my-finetune at $1 input / $10 output per 1M tokens, so PENNY_USAGE costs exactly $0.01. */
export const PENNY_PRICE = { input: 1, output: 10 };
/** 10 × 1,000 + 999 × 10,000 nano-dollars = 10,000,000 nano = $0.01. */
export const PENNY_USAGE = { prompt_tokens: 10, completion_tokens: 999, total_tokens: 1009 };
export const PENNY_NANO = 10_000_000;

/** Give the fake's chat endpoint the one-cent usage (non-streaming replies). */
export function replyWithPennyUsage(fake: FakeProvider): void {
  fake.setHandler((req): Reply | undefined => {
    if (req.path !== '/v1/chat/completions') return undefined;
    return {
      kind: 'json',
      body: {
        id: 'chatcmpl-penny',
        object: 'chat.completion',
        created: 1_700_000_000,
        model: req.body?.model ?? 'my-finetune',
        choices: [{ index: 0, message: { role: 'assistant', content: 'ok', refusal: null }, logprobs: null, finish_reason: 'stop' }],
        usage: PENNY_USAGE,
      },
    };
  });
}

/** The request the alert tests send: my-finetune with max_tokens 1000 (worst case ≈ $0.0101). */
export const PENNY_BODY = JSON.stringify({ model: 'my-finetune', max_tokens: 1000, messages: [{ role: 'user', content: 'hi' }] });

export function usePennyPrice(raw: RawConfig): void {
  raw.prices = { ...raw.prices, 'my-finetune': PENNY_PRICE };
}

export async function chat(baseUrl: string, body: string = PENNY_BODY): Promise<{ status: number; headers: Headers; body: any }> {
  const res = await fetch(`${baseUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TEAM_KEY}`, 'content-type': 'application/json' },
    body,
  });
  const text = await res.text();
  let parsed: any;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = text;
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

async function adminGet(baseUrl: string, path: string): Promise<any> {
  const res = await fetch(`${baseUrl}${path}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
  if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

/** As `/alerts/deliveries` answers it. */
export type DeliveryRow = DeliveryView;

export async function deliveries(baseUrl: string): Promise<DeliveryRow[]> {
  return ((await adminGet(baseUrl, '/alerts/deliveries')) as { data: DeliveryRow[] }).data;
}

export async function usageReport(baseUrl: string, query = ''): Promise<{ totals: Record<string, number>; budgets: Record<string, any>[] }> {
  return adminGet(baseUrl, `/usage${query}`);
}

export async function ledgerRows(baseUrl: string, query = ''): Promise<Record<string, any>[]> {
  return ((await adminGet(baseUrl, `/usage/requests${query}`)) as { data: Record<string, any>[] }).data;
}

export function monthStartIso(ms = Date.now()): string {
  const d = new Date(ms);
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1)).toISOString();
}
