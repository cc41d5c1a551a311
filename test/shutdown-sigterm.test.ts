// Graceful shutdown (SPEC §1; issue 4 item 4): on SIGTERM the server stops accepting, lets an
// in-flight stream finish, settles it in the ledger, closes the database and exits 0.
import { connect } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  OPENAI_USAGE,
  createGate,
  openaiChatStreamEvents,
  startFakeProvider,
  type FakeProvider,
} from './helpers/fake-provider.js';
import { SECRETS, TEAM_KEY, baseConfig } from './helpers/app.js';
import { drain, readUntil, within } from './helpers/faults.js';
import { spawnServer, writeConfig, type ServerProcess } from './helpers/spawn.js';

let fake: FakeProvider;
let dir: string;
let server: ServerProcess | undefined;

beforeEach(async () => {
  fake = await startFakeProvider();
  dir = mkdtempSync(join(tmpdir(), 'tollgate-shutdown-'));
});

afterEach(async () => {
  if (server && server.proc.exitCode === null && server.proc.signalCode === null) server.proc.kill('SIGKILL');
  if (server) await server.exited;
  server = undefined;
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});

const PARTS = ['Once', ' upon', ' a time', ' there was', ' a proxy.'];

/**
 * What a brand-new connection gets now: refused, or accepted and answered (status), or accepted
 * and closed without an answer.
 */
function probe(port: number): Promise<'refused' | 'closed' | number> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    let data = '';
    sock.setTimeout(2000, () => sock.destroy());
    sock.on('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED' ? 'refused' : 'closed'));
    sock.on('connect', () => sock.write(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`));
    sock.on('data', (c: Buffer) => { data += c.toString('latin1'); });
    sock.on('close', () => {
      const m = /^HTTP\/1\.1 (\d{3})/.exec(data);
      resolve(m ? Number(m[1]) : 'closed');
    });
  });
}

describe('graceful shutdown', () => {
  it('SIGTERM during a stream: stops accepting, the stream completes and is settled, exit 0', async () => {
    const cfg = join(dir, 'tollgate.yaml');
    const db = join(dir, 'ledger.db');
    const raw = baseConfig(fake, db);
    raw.server.shutdown_grace_s = 20; // the grace bound is not what ends this stream
    writeConfig(cfg, raw);
    server = await spawnServer(cfg);
    const port = Number(new URL(server.url).port);

    const gate = createGate();
    fake.enqueue({ kind: 'sse', events: openaiChatStreamEvents({ model: 'gpt-4o', parts: PARTS, includeUsage: true }), gate });
    gate.release(2); // role chunk + PARTS[0]
    const res = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEAM_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'a story' }] }),
    });
    expect(res.status).toBe(200);
    const requestId = res.headers.get('x-tollgate-request-id');
    expect(requestId).toMatch(/\S/);
    const reader = res.body!.getReader();
    const got = { text: '' };
    await readUntil(reader, got, (t) => t.includes(JSON.stringify(PARTS[0])));

    server.proc.kill('SIGTERM');
    // New connections are no longer served: refused, or answered 503 while closing; never proxied.
    await vi.waitFor(async () => {
      const r = await probe(port);
      expect(r === 'refused' || r === 503 || r === 'closed').toBe(true);
    }, { timeout: 3000, interval: 50 });
    const late = await probe(port);
    expect(late === 'refused' || late === 503 || late === 'closed').toBe(true);
    // The process is still alive, holding the stream open.
    expect(server.proc.exitCode).toBeNull();

    gate.releaseAll();
    const rest = await within(5000, (async () => {
      const r = new Response(new ReadableStream({ pull: async (c) => { const { done, value } = await reader.read(); if (done) c.close(); else c.enqueue(value); } }));
      return drain(r);
    })(), 'the drained stream');
    const text = got.text + rest.text;
    expect(rest.ended).toBe('end');
    for (const p of PARTS) expect(text).toContain(JSON.stringify(p));
    expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true);

    // Nothing is in flight any more: the process must exit now, not when the 20 s grace runs out
    // (the client's keep-alive connection, idle since the stream ended, must not hold it open).
    expect(
      await within(5000, server.exited, 'exit after the last stream ended (grace is 20 s; an idle keep-alive connection must not hold the drain)'),
    ).toEqual({ code: 0, signal: null });
    expect(fake.requests).toHaveLength(1);
    // The last line a collector sees says the process stopped (it is flushed before the exit).
    await new Promise((r) => setImmediate(r)); // the pipe's last chunk
    expect(JSON.parse(server.lines.at(-1) ?? '{}')).toMatchObject({ level: 30, msg: 'stopped' });

    // The ledger file, read directly after the process closed it: the stream's row, settled at the
    // provider's reported usage, and no reservation left open.
    const ledger = new Database(db, { readonly: true, fileMustExist: true });
    try {
      const row = ledger.prepare('SELECT * FROM requests WHERE request_id = ?').get(requestId) as Record<string, unknown> | undefined;
      expect(row).toMatchObject({
        status: 200,
        stream: 1,
        estimated: 0,
        input_tokens: OPENAI_USAGE.prompt_tokens,
        output_tokens: OPENAI_USAGE.completion_tokens,
      });
      expect((ledger.prepare('SELECT COUNT(*) AS n FROM reservations').get() as { n: number }).n).toBe(0);
      expect((ledger.prepare('SELECT COUNT(*) AS n FROM requests').get() as { n: number }).n).toBe(1);
    } finally {
      ledger.close();
    }
    const logs = [...server.lines, ...server.stderr].join('\n');
    for (const s of SECRETS) expect(logs).not.toContain(s);
  });

  it('SIGTERM with a stream that outlives shutdown_grace_s: the process still exits 0 within the bound, the row settled', async () => {
    const cfg = join(dir, 'tollgate.yaml');
    const db = join(dir, 'ledger.db');
    const raw = baseConfig(fake, db);
    raw.server.shutdown_grace_s = 0.5;
    writeConfig(cfg, raw);
    server = await spawnServer(cfg);

    const gate = createGate();
    fake.enqueue({ kind: 'sse', events: openaiChatStreamEvents({ model: 'gpt-4o', parts: PARTS, includeUsage: true }), gate });
    gate.release(2);
    const res = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEAM_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'a story' }] }),
    });
    const requestId = res.headers.get('x-tollgate-request-id');
    const reader = res.body!.getReader();
    await readUntil(reader, { text: '' }, (t) => t.includes(JSON.stringify(PARTS[0])));
    const t0 = performance.now();
    server.proc.kill('SIGTERM');
    // The gate is never released: only the grace bound can end this stream.
    expect(await within(12_000, server.exited, 'the server past its grace')).toEqual({ code: 0, signal: null });
    expect(performance.now() - t0).toBeLessThan(10_000); // 0.5 s grace + settling, far below the stream's own (endless) life
    await reader.cancel().catch(() => undefined);
    const ledger = new Database(db, { readonly: true, fileMustExist: true });
    try {
      const row = ledger.prepare('SELECT * FROM requests WHERE request_id = ?').get(requestId) as Record<string, unknown> | undefined;
      expect(row).toMatchObject({ stream: 1, estimated: 1 });
      expect((ledger.prepare('SELECT COUNT(*) AS n FROM reservations').get() as { n: number }).n).toBe(0);
    } finally {
      ledger.close();
    }
  });
});
