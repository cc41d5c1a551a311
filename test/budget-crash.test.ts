// No vanishing spend (issue 3 §3): reservations are persisted before forwarding, so when the
// server process is SIGKILLed with requests in flight, the next process on the same ledger settles
// each open reservation at its worst case, flags it estimated, and counts it against the budget.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { OPENAI_USAGE, createGate, openaiChatStreamEvents, startFakeProvider, type FakeProvider } from './helpers/fake-provider.js';
import { TEAM_KEY, baseConfig, type RawConfig } from './helpers/app.js';
import { chat, ledgerRows, usageReport } from './helpers/budget.js';
import { spawnServer, writeConfig, type ServerProcess } from './helpers/spawn.js';

// my-finetune (baseConfig): $3 input, $1.50 cached, $12 output per 1M → 3000 / 1500 / 12000 nano per token.
const SETTLED_NANO =
  (OPENAI_USAGE.prompt_tokens - OPENAI_USAGE.prompt_tokens_details.cached_tokens) * 3000 +
  OPENAI_USAGE.prompt_tokens_details.cached_tokens * 1500 +
  OPENAI_USAGE.completion_tokens * 12000; // $0.0069
const LIMIT_USD = 0.055;
/** The worst case Tollgate reserves while the budget has room: body bytes as prompt tokens + max_tokens. */
const worstNano = (body: string, maxTokens: number) => Buffer.byteLength(body, 'utf8') * 3000 + maxTokens * 12000;

let fake: FakeProvider;
let dir: string;
let configPath: string;
const servers: ServerProcess[] = [];

beforeEach(async () => {
  fake = await startFakeProvider();
  dir = mkdtempSync(join(tmpdir(), 'tollgate-crash-'));
  configPath = join(dir, 'tollgate.yaml');
  const raw: RawConfig = baseConfig(fake, join(dir, 'ledger.db'));
  raw.teams[0].budgets = [{ window: 'month', limit_usd: LIMIT_USD, hard_cap: true }];
  writeConfig(configPath, raw);
});

afterEach(async () => {
  for (const s of servers.splice(0)) {
    if (s.proc.exitCode === null && s.proc.signalCode === null) s.proc.kill('SIGKILL');
    await s.exited;
  }
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});

async function spawn(): Promise<ServerProcess> {
  const s = await spawnServer(configPath);
  servers.push(s);
  return s;
}

function body(content: string, maxTokens: number, stream = false): string {
  return JSON.stringify({ model: 'my-finetune', max_tokens: maxTokens, ...(stream ? { stream: true } : {}), messages: [{ role: 'user', content }] });
}

describe('SIGKILL with requests in flight', () => {
  it('settles every open reservation at its worst case at the next start, and the budget counts it', async () => {
    const first = await spawn();
    expect((await chat(first.url, body('settled normally', 100))).status).toBe(200);

    // From now on the provider never finishes: non-streaming calls hang, streams stop after one event.
    const gate = createGate();
    fake.setHandler((req) =>
      req.body?.stream
        ? { kind: 'sse', gate, events: openaiChatStreamEvents({ model: req.body.model, includeUsage: true }) }
        : { kind: 'hang' },
    );
    gate.release(1);
    const inFlight = [
      { body: body('crash a', 1000), maxTokens: 1000 },
      { body: body('crash b, streamed', 2000, true), maxTokens: 2000 },
      { body: body('crash c', 500), maxTokens: 500 },
    ];
    const responses = inFlight.map((r) =>
      fetch(`${first.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TEAM_KEY}`, 'content-type': 'application/json' },
        body: r.body,
      }),
    );
    // The non-streaming calls hang until the kill; their clients then see the connection die.
    const hung = Promise.allSettled([responses[0]!, responses[2]!].map((p) => p.then((res) => res.text())));
    await vi.waitFor(() => expect(fake.requests).toHaveLength(1 + inFlight.length));
    // The stream is really mid-way: its first chunk reached the client.
    const streamed = await responses[1]!;
    expect(streamed.status).toBe(200);
    const reader = streamed.body!.getReader();
    const firstChunk = await reader.read();
    expect(new TextDecoder().decode(firstChunk.value)).toContain('chat.completion.chunk');

    first.proc.kill('SIGKILL');
    expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });
    await hung;
    await Promise.allSettled([reader.read()]); // the stream's client sees its connection end too

    const second = await spawn();
    expect(second.lines.some((l) => l.includes('settled reservations left open') && l.includes('"count":3'))).toBe(true);

    const rows = await ledgerRows(second.url);
    expect(rows).toHaveLength(4);
    const recovered = rows.filter((r) => r.estimated === true);
    expect(recovered).toHaveLength(3);
    for (const r of inFlight) {
      const row = recovered.find((x) => x.output_tokens === r.maxTokens);
      expect(row).toMatchObject({
        team: 'search',
        model: 'my-finetune',
        endpoint: '/v1/chat/completions',
        estimated: true,
        input_tokens: Buffer.byteLength(r.body, 'utf8'),
        output_tokens: r.maxTokens,
        cost_usd: worstNano(r.body, r.maxTokens) / 1e9,
      });
    }
    expect(rows.filter((r) => r.estimated === false).map((r) => r.cost_usd)).toEqual([SETTLED_NANO / 1e9]);

    const spentNano = SETTLED_NANO + inFlight.reduce((n, r) => n + worstNano(r.body, r.maxTokens), 0);
    const report = await usageReport(second.url);
    expect(report.totals.cost_usd).toBe(spentNano / 1e9);
    expect(report.budgets[0]).toMatchObject({
      window: 'month',
      spent_usd: spentNano / 1e9,
      reserved_usd: 0,
      remaining_usd: Number(((LIMIT_USD * 1e9 - spentNano) / 1e9).toFixed(9)),
    });

    // And the cap acts on it: a call that would fit next to the settled spend alone is refused now.
    const next = body('after the crash', 1000);
    expect(SETTLED_NANO + worstNano(next, 1000)).toBeLessThan(LIMIT_USD * 1e9);
    expect((await chat(second.url, next)).status).toBe(402);
    expect(fake.requests).toHaveLength(4);

    // Recovery happens once: a third start finds nothing left open and the same four rows.
    second.proc.kill('SIGTERM');
    expect(await second.exited).toEqual({ code: 0, signal: null });
    const third = await spawn();
    expect(third.lines.some((l) => l.includes('settled reservations left open'))).toBe(false);
    expect(await ledgerRows(third.url)).toHaveLength(4);
    expect((await usageReport(third.url)).budgets[0]).toMatchObject({ spent_usd: spentNano / 1e9 });
  });

  it('a recovered worst case that crosses an alert threshold fires that threshold', async () => {
    // Same $0.055 month budget, now alerting at 50% ($0.0275). One hung call with max_tokens 3000
    // reserves ≈ $0.036; settled at that worst case on recovery, it takes settled spend past 50%.
    const raw: RawConfig = baseConfig(fake, join(dir, 'ledger.db'));
    raw.teams[0].budgets = [{ window: 'month', limit_usd: LIMIT_USD, alert_at: [0.5], hard_cap: true }];
    writeConfig(configPath, raw);
    const first = await spawn();
    fake.setHandler(() => ({ kind: 'hang' }));
    const hung = body('hung until the kill', 3000);
    const pending = fetch(`${first.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEAM_KEY}`, 'content-type': 'application/json' },
      body: hung,
    }).then((r) => r.text(), () => undefined);
    await vi.waitFor(() => expect(fake.requests).toHaveLength(1));
    first.proc.kill('SIGKILL');
    await first.exited;
    await pending.catch(() => undefined);

    const second = await spawn();
    const budget = (await usageReport(second.url)).budgets[0];
    expect(budget).toMatchObject({ spent_usd: worstNano(hung, 3000) / 1e9 });
    expect(worstNano(hung, 3000)).toBeGreaterThanOrEqual(0.5 * LIMIT_USD * 1e9);
    // Settled spend crossed 50% when the reservation was settled at recovery: the alert is recorded.
    expect(budget).toMatchObject({ alerts_fired: [0.5] });
  });
});
