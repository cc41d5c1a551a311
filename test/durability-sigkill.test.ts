// Durability (SPEC §4; issue 4 item 3): each ledger record is committed before (or as) its response
// ends, so after a SIGKILL under concurrent load, every response a client received is in the ledger
// when the server comes back on the same database file.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultReply, startFakeProvider, type FakeProvider } from './helpers/fake-provider.js';
import { ADMIN_KEY, SECRETS, TEAM_KEY, baseConfig } from './helpers/app.js';
import { allRows, within } from './helpers/faults.js';
import { spawnServer, writeConfig, type ServerProcess } from './helpers/spawn.js';

let fake: FakeProvider;
let dir: string;
const procs: ServerProcess[] = [];

beforeEach(async () => {
  fake = await startFakeProvider();
  dir = mkdtempSync(join(tmpdir(), 'tollgate-durability-'));
});

afterEach(async () => {
  for (const p of procs.splice(0)) {
    if (p.proc.exitCode === null && p.proc.signalCode === null) p.proc.kill('SIGKILL');
    await p.exited;
  }
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});

const CLIENTS = 8;
const LOAD_MS = 1500;
const MAX_REQUESTS = 4000; // a bound on the whole run, whatever the machine's speed

describe('durability', () => {
  it('after SIGKILL under load, every answered request is in the ledger after restart', async () => {
    // The provider answers after 0–25 ms, so requests are always in flight when the kill lands.
    fake.setHandler((req) => ({ kind: 'delay', ms: Math.floor(Math.random() * 25), then: defaultReply(req) }));
    const cfg = join(dir, 'tollgate.yaml');
    const db = join(dir, 'ledger.db');
    writeConfig(cfg, baseConfig(fake, db));
    const first = await spawnServer(cfg);
    procs.push(first);

    const answered: string[] = [];
    let started = 0;
    let inFlight = 0;
    let stop = false;
    const loop = async (client: number) => {
      while (!stop && started < MAX_REQUESTS) {
        started++;
        inFlight++;
        try {
          const res = await fetch(`${first.url}/v1/chat/completions`, {
            method: 'POST',
            headers: { authorization: `Bearer ${TEAM_KEY}`, 'content-type': 'application/json' },
            body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `client ${client} request ${started}` }] }),
          });
          const body = (await res.json()) as { choices?: { message: { content: string } }[] };
          // Received in full: status, the id header and the provider's whole body.
          if (res.status === 200 && body.choices?.[0]?.message.content === 'Hello world!') {
            const id = res.headers.get('x-tollgate-request-id');
            expect(id).toMatch(/\S/);
            answered.push(id!);
          }
        } catch {
          // the server died under this request: it was not answered
        } finally {
          inFlight--;
        }
      }
    };
    const loops = Array.from({ length: CLIENTS }, (_, i) => loop(i));

    await new Promise((r) => setTimeout(r, LOAD_MS));
    const inFlightAtKill = inFlight;
    const answeredAtKill = answered.length;
    first.proc.kill('SIGKILL');
    expect(await within(5000, first.exited, 'the killed server')).toEqual({ code: null, signal: 'SIGKILL' });
    stop = true;
    await within(10_000, Promise.all(loops), 'the client loops');

    expect(inFlightAtKill).toBeGreaterThan(0);
    expect(answeredAtKill).toBeGreaterThan(20);
    const forwarded = fake.requests.length;

    const second = await spawnServer(cfg);
    procs.push(second);
    const rows = await allRows(second.url, ADMIN_KEY);
    const ids = new Set(rows.map((r) => r.id as string));
    expect(ids.size).toBe(rows.length); // one row per request, none twice
    const missing = answered.filter((id) => !ids.has(id));
    expect(missing).toEqual([]);
    // Every request that reached the provider holds a row (answered, or settled from its reservation).
    expect(rows.length).toBeGreaterThanOrEqual(forwarded);
    for (const id of answered.slice(0, 50)) {
      expect(rows.find((r) => r.id === id)).toMatchObject({ status: 200, estimated: false, input_tokens: 1200, output_tokens: 300 });
    }

    second.proc.kill('SIGTERM');
    expect(await within(10_000, second.exited, 'the restarted server')).toEqual({ code: 0, signal: null });
    const logs = [...first.lines, ...second.lines, ...first.stderr, ...second.stderr].join('\n');
    for (const s of SECRETS) expect(logs).not.toContain(s);
  });
});
