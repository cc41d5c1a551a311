// Hot reload of budgets on a real server process (SPEC §1, issue 3 §7): a lowered cap takes effect
// for the very next request, a stream already in flight keeps its reservation, finishes and is
// settled, and an invalid new file is refused with a log line while the old config keeps serving.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { OPENAI_USAGE, createGate, openaiChatStreamEvents, startFakeProvider, type FakeProvider } from './helpers/fake-provider.js';
import { TEAM_KEY, baseConfig, type RawConfig } from './helpers/app.js';
import { chat, ledgerRows, usageReport } from './helpers/budget.js';
import { spawnServer, writeConfig, type ServerProcess } from './helpers/spawn.js';

// my-finetune (baseConfig) at the fake's default usage: $0.0069 per request.
const COST_NANO =
  (OPENAI_USAGE.prompt_tokens - OPENAI_USAGE.prompt_tokens_details.cached_tokens) * 3000 +
  OPENAI_USAGE.prompt_tokens_details.cached_tokens * 1500 +
  OPENAI_USAGE.completion_tokens * 12000;

let fake: FakeProvider;
let dir: string;
let configPath: string;
let server: ServerProcess | undefined;

beforeEach(async () => {
  fake = await startFakeProvider();
  dir = mkdtempSync(join(tmpdir(), 'tollgate-reload-'));
  configPath = join(dir, 'tollgate.yaml');
  writeConfig(configPath, config(10));
});

afterEach(async () => {
  if (server) {
    if (server.proc.exitCode === null && server.proc.signalCode === null) server.proc.kill('SIGKILL');
    await server.exited;
    server = undefined;
  }
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});

function config(limitUsd: number): RawConfig {
  const raw = baseConfig(fake, join(dir, 'ledger.db'));
  raw.teams[0].budgets = [{ window: 'month', limit_usd: limitUsd, hard_cap: true }];
  return raw;
}

/** Log lines (pino JSON) with this message and, optionally, these fields. */
function logged(s: ServerProcess, msg: string, fields: Record<string, unknown> = {}): Record<string, any>[] {
  return s.lines
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, any>];
      } catch {
        return [];
      }
    })
    .filter((l) => typeof l.msg === 'string' && l.msg.includes(msg) && Object.entries(fields).every(([k, v]) => l[k] === v));
}

/**
 * spawnServer resolves on "Server listening"; the signal handlers are installed just after, with
 * "tollgate ready". The functional tests below wait for that line so that they test reloading,
 * not start-up (the start-up window has its own test at the end).
 */
async function spawnReady(): Promise<ServerProcess> {
  const s = await spawnServer(configPath);
  server = s;
  await vi.waitFor(() => expect(logged(s, 'tollgate ready')).toHaveLength(1));
  return s;
}

const SMALL = JSON.stringify({ model: 'my-finetune', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] });

describe('hot reload of budgets', () => {
  it('SIGHUP with a lowered cap refuses the next request; an in-flight stream finishes and is settled', async () => {
    const s = await spawnReady();

    // A stream that is mid-way when the config changes: the provider holds it after its first event.
    const gate = createGate();
    fake.setHandler((req) =>
      req.body?.stream
        ? { kind: 'sse', gate, events: openaiChatStreamEvents({ model: req.body.model, includeUsage: true }) }
        : undefined,
    );
    gate.release(1);
    const streamBody = JSON.stringify({ model: 'my-finetune', max_tokens: 1000, stream: true, messages: [{ role: 'user', content: 'long answer please' }] });
    const res = await fetch(`${s.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEAM_KEY}`, 'content-type': 'application/json' },
      body: streamBody,
    });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let received = decoder.decode((await reader.read()).value, { stream: true });
    expect(received).toContain('chat.completion.chunk');
    const heldNano = Buffer.byteLength(streamBody) * 3000 + 1000 * 12000;
    expect((await usageReport(s.url)).budgets[0]).toMatchObject({ limit_usd: 10, reserved_usd: heldNano / 1e9 });

    // Lower the cap below any worst case and signal the process.
    writeConfig(configPath, config(0.001));
    s.proc.kill('SIGHUP');
    await vi.waitFor(() => expect(logged(s, 'config reloaded', { why: 'SIGHUP' })).toHaveLength(1));

    const refused = await chat(s.url, SMALL);
    expect(refused.status).toBe(402);
    expect(refused.body.error.message).toContain('$0.001');
    expect(fake.requests).toHaveLength(1); // the refused call was not forwarded

    // The new limit shows at once, and the in-flight stream still holds its reservation.
    expect((await usageReport(s.url)).budgets[0]).toMatchObject({ limit_usd: 0.001, spent_usd: 0, reserved_usd: heldNano / 1e9, remaining_usd: 0 });

    // The stream runs to its end for the client ...
    gate.releaseAll();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      received += decoder.decode(value, { stream: true });
    }
    expect(received).toContain('"content":"!"');
    expect(received.trimEnd().endsWith('data: [DONE]')).toBe(true);

    // ... and is settled at its real cost: one row, nothing held any more.
    const rows = await ledgerRows(s.url);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ stream: true, status: 200, estimated: false, output_tokens: 300, cost_usd: COST_NANO / 1e9 });
    expect((await usageReport(s.url)).budgets[0]).toMatchObject({
      limit_usd: 0.001,
      spent_usd: COST_NANO / 1e9,
      reserved_usd: 0,
      remaining_usd: 0,
    });
  });

  it('a change of the config file alone (no signal) also reloads the cap', async () => {
    const s = await spawnReady();
    expect((await chat(s.url, SMALL)).status).toBe(200);
    writeConfig(configPath, config(0.001));
    await vi.waitFor(() => expect(logged(s, 'config reloaded', { why: 'file changed' }).length).toBeGreaterThanOrEqual(1), { timeout: 5_000 });
    expect((await chat(s.url, SMALL)).status).toBe(402);
    expect(fake.requests).toHaveLength(1);
  });

  it('an invalid new file is refused with a log line naming the problem; the old config keeps serving', async () => {
    const s = await spawnReady();
    const bad = config(10);
    bad.teams[0].budgets[0].limit_usd = -5;
    writeConfig(configPath, bad);
    s.proc.kill('SIGHUP');

    await vi.waitFor(() => expect(logged(s, 'config reload refused').length).toBeGreaterThanOrEqual(1));
    const line = logged(s, 'config reload refused')[0]!;
    expect(line.file).toBe(configPath);
    expect(JSON.stringify(line.problems)).toContain('teams[0].budgets[0].limit_usd');
    expect(logged(s, 'config reloaded')).toHaveLength(0);

    // Still running, still on the old $10 cap: requests are served.
    expect(s.proc.exitCode).toBeNull();
    expect((await chat(s.url, SMALL)).status).toBe(200);
    expect((await usageReport(s.url)).budgets[0]).toMatchObject({ limit_usd: 10, spent_usd: COST_NANO / 1e9 });
  });

  it('a reload with a typo (budget: for budgets:) is refused with the suggestion; the cap stays', async () => {
    const s = await spawnReady();
    const typo = config(10);
    typo.teams[0].budget = typo.teams[0].budgets;
    delete typo.teams[0].budgets;
    writeConfig(configPath, typo);
    s.proc.kill('SIGHUP');

    await vi.waitFor(() => expect(logged(s, 'config reload refused').length).toBeGreaterThanOrEqual(1));
    expect(logged(s, 'config reload refused')[0]!.problems).toEqual(['teams[0].budget: unknown key; did you mean budgets?']);
    expect(logged(s, 'config reloaded')).toHaveLength(0);
    // The $10 cap is still in force.
    expect((await usageReport(s.url)).budgets[0]).toMatchObject({ limit_usd: 10, hard_cap: true });
  });

  // A supervisor may reload as soon as the server says it is listening (or /healthz answers).
  // SIGHUP's default action is to terminate, so the handler must be installed before the server
  // reports itself up. Several servers are raced to make the window visible on a quiet machine.
  it('a SIGHUP sent the moment the server reports listening reloads it and does not kill it', async () => {
    const RACERS = 4;
    const spawned = await Promise.all(
      Array.from({ length: RACERS }, async (_, i) => {
        // Each its own config and ledger: no two processes share a database.
        const own = join(dir, `racer-${i}.yaml`);
        writeConfig(own, { ...config(10), database: { path: join(dir, `racer-${i}.db`) } });
        const s = await spawnServer(own);
        s.proc.kill('SIGHUP');
        return s;
      }),
    );
    try {
      const outcomes = await Promise.all(
        spawned.map(async (s) => {
          const died = s.exited.then((e) => `died: ${JSON.stringify(e)}`);
          const reloaded = vi
            .waitFor(() => expect(logged(s, 'config reloaded', { why: 'SIGHUP' })).toHaveLength(1), { timeout: 5_000 })
            .then(() => 'reloaded', () => 'no reload logged');
          return Promise.race([died, reloaded]);
        }),
      );
      expect(outcomes).toEqual(Array.from({ length: RACERS }, () => 'reloaded'));
    } finally {
      for (const s of spawned) {
        if (s.proc.exitCode === null && s.proc.signalCode === null) s.proc.kill('SIGKILL');
        await s.exited;
      }
    }
  });
});
