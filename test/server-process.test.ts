// The process itself: starts from a config file, serves, and exits 0 on SIGTERM; a bad config
// exits non-zero naming the file and each key path.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeProvider, type FakeProvider } from './helpers/fake-provider.js';
import { baseConfig, TEAM_KEY } from './helpers/app.js';
import { spawnServer, writeConfig } from './helpers/spawn.js';

let fake: FakeProvider;
let dir: string;

beforeEach(async () => {
  fake = await startFakeProvider();
  dir = mkdtempSync(join(tmpdir(), 'tollgate-proc-'));
});
afterEach(async () => {
  await fake.close();
});

describe('the server process', () => {
  it('serves from a config file and exits 0 on SIGTERM', async () => {
    const cfg = join(dir, 'tollgate.yaml');
    writeConfig(cfg, baseConfig(fake, join(dir, 'ledger.db')));
    const server = await spawnServer(cfg);
    const health = await fetch(`${server.url}/healthz`);
    expect(await health.json()).toEqual({ status: 'ok' });
    const res = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEAM_KEY}` },
      body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.status).toBe(200);
    server.proc.kill('SIGTERM');
    expect(await server.exited).toEqual({ code: 0, signal: null });
  });

  it('refuses a bad config with the file, every key path and a non-zero exit', () => {
    const cfg = join(dir, 'bad.yaml');
    const raw = baseConfig(fake, join(dir, 'ledger.db'));
    raw.teams[1].budgets = [{ window: 'fortnight', limit_usd: -5 }];
    raw.server.port = 'eighty';
    writeConfig(cfg, raw);
    const tsx = createRequire(import.meta.url).resolve('tsx');
    const run = spawnSync(process.execPath, ['--import', tsx, 'src/server.ts', '--config', cfg], { encoding: 'utf8', timeout: 15_000 });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain(cfg);
    expect(run.stderr).toContain('teams[1].budgets[0].limit_usd: must be a positive number');
    expect(run.stderr).toContain('teams[1].budgets[0].window: must be one of hour, day, week, month, total');
    expect(run.stderr).toContain('server.port: must be an integer from 0 to 65535');
  });
});
