/**
 * Small tools for the fault, durability and security tests: the whole ledger over HTTP (every
 * page), an independent js-tiktoken count, a port nothing listens on, and a time bound for
 * anything that must never hang.
 */
import { createServer } from 'node:net';
import { getEncoding, type Tiktoken } from 'js-tiktoken';
import { ADMIN_KEY } from './app.js';

export type Row = Record<string, any>;

/** Every row of `/usage/requests` (admin view unless another key is given), following next_cursor. */
export async function allRows(baseUrl: string, key = ADMIN_KEY, query = ''): Promise<Row[]> {
  const rows: Row[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 1000; page++) {
    const q = new URLSearchParams(query);
    q.set('limit', '1000');
    if (cursor) q.set('cursor', cursor);
    const res = await fetch(`${baseUrl}/usage/requests?${q}`, { headers: { authorization: `Bearer ${key}` } });
    if (res.status !== 200) throw new Error(`/usage/requests answered ${res.status}: ${await res.text()}`);
    const body = (await res.json()) as { data: Row[]; next_cursor: string | null };
    rows.push(...body.data);
    cursor = body.next_cursor;
    if (cursor === null) return rows;
  }
  throw new Error('/usage/requests never ended');
}

let o200k: Tiktoken | undefined;
/** Tokens of `text` in o200k_base, counted here, not by Tollgate's code. */
export function o200kCount(text: string): number {
  o200k ??= getEncoding('o200k_base');
  return o200k.encode(text, 'all').length;
}

/**
 * The ledger's estimate of a prompt when the provider reports no usage, as README states it:
 * every value in the body (strings, numbers, true/false/null; not keys) in o200k_base, 3 tokens
 * per object or array (OpenAI's 3 per message), 3 to prime the reply.
 */
export function estimatedPromptTokens(body: unknown): number {
  const walk = (v: unknown): number => {
    if (Array.isArray(v)) return 3 + v.reduce<number>((n, x) => n + walk(x), 0);
    if (v !== null && typeof v === 'object') return 3 + Object.values(v).reduce<number>((n, x) => n + walk(x), 0);
    return o200kCount(String(v));
  };
  return walk(body) + 3;
}

/** A TCP port on 127.0.0.1 that nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', () => resolve()));
  const addr = srv.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/** Rejects when `p` has not settled within `ms`: a stream that must end may not hang the test. */
export function within<T>(ms: number, p: Promise<T>, what = 'operation'): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}

/**
 * Reads a fetch body to its end or its error. Returns the text received and how it ended;
 * never throws.
 */
export async function drain(res: Response): Promise<{ text: string; ended: 'end' | 'error' }> {
  const reader = res.body?.getReader();
  if (!reader) return { text: '', ended: 'end' };
  const dec = new TextDecoder();
  let text = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { text: text + dec.decode(), ended: 'end' };
      text += dec.decode(value, { stream: true });
    }
  } catch {
    return { text, ended: 'error' };
  }
}

/** Reads from `reader` until the accumulated text satisfies `until`; returns everything read so far. */
export async function readUntil(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  soFar: { text: string },
  until: (text: string) => boolean,
): Promise<string> {
  const dec = new TextDecoder();
  while (!until(soFar.text)) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`stream ended before the expected text; got:\n${soFar.text}`);
    soFar.text += dec.decode(value, { stream: true });
  }
  return soFar.text;
}
