// No input may stall the process (SPEC §5, issue 7). Tollgate runs as its own process. One team
// sends 20 MB bodies of hostile text (whitespace runs, one-character-class runs, CJK, emoji) at
// a tiny cap, so each is parsed and counted before its refusal; meanwhile another team's client
// times ordinary requests. Rounds alternate between that client alone and that client beside the
// hostile one, so whatever else the machine does falls on both. The figure is a ratio of medians,
// never an absolute time: before the fix, one 25,000-space prompt held the event loop for 54 s.
import { request } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeProvider, type FakeProvider } from './helpers/fake-provider.js';
import { baseConfig, OTHER_TEAM_KEY, TEAM_KEY } from './helpers/app.js';
import { spawnServer, writeConfig, type ServerProcess } from './helpers/spawn.js';

const MB = 1024 * 1024;
const body = (content: string) => Buffer.from(JSON.stringify({ model: 'gpt-4o-mini', max_tokens: 16, messages: [{ role: 'user', content }] }));
/** Just under the 20 MB limit once wrapped in JSON; each a single tokenizer piece or its worst mix. */
const HOSTILE = [
  body(' '.repeat(19 * MB)),
  body('\n\t '.repeat(3.8 * MB)), // \n and \t are two bytes each in JSON
  body('a'.repeat(19 * MB)),
  body('漢字'.repeat(3 * MB)),
  body('😀'.repeat(4 * MB)),
  body('!?'.repeat(9 * MB)),
  body('a1 漢😀\n'.repeat(1.6 * MB)),
];

let fake: FakeProvider;
let server: ServerProcess;
let port: number;

function post(key: string, payload: Buffer): Promise<{ status: number; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, method: 'POST', path: '/v1/chat/completions', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'content-length': payload.length } },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - t0 }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

beforeAll(async () => {
  fake = await startFakeProvider();
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-stall-'));
  const raw = baseConfig(fake, join(dir, 'ledger.db'));
  raw.server.body_limit_mb = 20;
  raw.server.upstream_timeout_s = 30;
  raw.teams[1].budgets = [{ window: 'day', limit_usd: 0.001 }]; // 'ads': the hostile team
  writeConfig(join(dir, 'tollgate.yaml'), raw);
  server = await spawnServer(join(dir, 'tollgate.yaml'));
  port = Number(new URL(server.url).port);
});

afterAll(async () => {
  if (server) {
    server.proc.kill('SIGTERM');
    // A stalled process cannot even handle SIGTERM: never leave one behind.
    const timer = setTimeout(() => server.proc.kill('SIGKILL'), 10_000);
    await server.exited;
    clearTimeout(timer);
  }
  await fake.close();
});

describe('hostile bodies do not stall other teams', () => {
  it('an ordinary client keeps its median latency while another team sends 20 MB of hostile text', async () => {
    const ordinary = body('What is the capital of France?');
    // Paced, so a round spans several hostile bodies' upload, parse and count.
    const timeRound = async (n: number) => {
      const ms: number[] = [];
      for (let i = 0; i < n; i++) {
        const r = await post(TEAM_KEY, ordinary);
        expect(r.status).toBe(200);
        ms.push(r.ms);
        await new Promise((resolve) => setTimeout(resolve, 30));
      }
      return ms;
    };
    await timeRound(10); // warm both ends

    const idle: number[] = [];
    const beside: number[] = [];
    const refusals: number[] = [];
    for (let round = 0; round < 3; round++) {
      idle.push(...(await timeRound(25)));
      let stop = false;
      let sent = 0;
      // Two hostile connections, each sending the next body as soon as the last is refused.
      const attackers = [0, 1].map(async () => {
        while (!stop) {
          const r = await post(OTHER_TEAM_KEY, HOSTILE[sent++ % HOSTILE.length] as Buffer);
          refusals.push(r.status);
        }
      });
      // Let the first hostile bodies arrive and be in work before timing.
      await new Promise((r) => setTimeout(r, 150));
      beside.push(...(await timeRound(25)));
      stop = true;
      await Promise.all(attackers);
    }

    // Every hostile body was refused at the cap (parsed and counted, never forwarded); each round
    // overlapped several of them (how many depends on the machine: at least two a round).
    expect(refusals.length).toBeGreaterThanOrEqual(6);
    const errors = server.lines.filter((l) => /"level":(50|60)/.test(l));
    expect(errors.map((l) => l.slice(0, 600))).toEqual([]);
    expect(new Set(refusals)).toEqual(new Set([402]));
    expect(fake.requests.every((r) => r.headers.authorization !== `Bearer ${OTHER_TEAM_KEY}`)).toBe(true);
    const ratio = median(beside) / median(idle);
    console.log(`median latency: alone ${median(idle).toFixed(2)} ms, beside 20 MB hostile bodies ${median(beside).toFixed(2)} ms (×${ratio.toFixed(2)}); ${refusals.length} hostile bodies refused`);
    expect(ratio).toBeLessThan(3);
  });
});
