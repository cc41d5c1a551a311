// The process itself: starts from a config file, serves, and exits 0 on SIGTERM; a bad config
// exits non-zero naming the file and each key path.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startFakeProvider, type FakeProvider } from './helpers/fake-provider.js';
import { baseConfig, TEAM_KEY } from './helpers/app.js';
import { spawnServer, writeConfig } from './helpers/spawn.js';
import { closedPort } from './helpers/faults.js';

const TSX = createRequire(import.meta.url).resolve('tsx');
const ROOT = fileURLToPath(new URL('../', import.meta.url));
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

  it('the compiled build (as in the image) serves without tsx, large bodies included, and flushes its last line on SIGTERM', async () => {
    const build = spawnSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    expect(build.status, build.stderr).toBe(0);
    // tsx is a dev dependency, left out of the image: here any import of it fails loudly.
    const block = join(dir, 'no-tsx.mjs');
    writeFileSync(block, `import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(\`export async function resolve(s, c, next) {
  if (s === 'tsx' || s.startsWith('tsx/')) throw new Error('tsx imported at run time: ' + s);
  return next(s, c);
}\`));`);
    const cfg = join(dir, 'tollgate.yaml');
    writeConfig(cfg, baseConfig(fake, join(dir, 'ledger.db')));
    const server = await spawnServer(cfg, {}, 30_000, ['--import', block, 'dist/server.js']);
    // Over 256 KB: parsed and counted in the body worker, which must load from the build too.
    const big = 'lorem ipsum '.repeat(40_000);
    const res = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEAM_KEY}` },
      body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: big }] }),
    });
    expect(res.status).toBe(200);
    server.proc.kill('SIGTERM');
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(server.stderr.join('')).not.toContain('tsx imported');
    await new Promise((r) => setImmediate(r));
    expect(JSON.parse(server.lines.at(-1) ?? '{}')).toMatchObject({ msg: 'stopped' });
  }, 150_000);

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

  it('a port already in use is a sentence and exit 1, not a stack trace', async () => {
    const cfg = join(dir, 'tollgate.yaml');
    writeConfig(cfg, baseConfig(fake, join(dir, 'ledger.db')));
    const first = await spawnServer(cfg);
    const port = Number(new URL(first.url).port);
    const second = baseConfig(fake, join(dir, 'other.db'));
    second.server.port = port;
    writeConfig(join(dir, 'second.yaml'), second);
    const run = spawnSync(process.execPath, ['--import', TSX, 'src/server.ts', '--config', join(dir, 'second.yaml')], { encoding: 'utf8', timeout: 20_000 });
    first.proc.kill('SIGTERM');
    await first.exited;
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`tollgate: cannot listen on 127.0.0.1:${port}: the address is already in use`);
    expect(run.stderr).not.toMatch(/\n\s+at /); // no stack frames
  });

  it('a second process on the same SQLite ledger refuses to start and points to PostgreSQL; the first keeps serving', async () => {
    const cfg = join(dir, 'tollgate.yaml');
    writeConfig(cfg, baseConfig(fake, join(dir, 'ledger.db')));
    const first = await spawnServer(cfg);
    const run = spawnSync(process.execPath, ['--import', TSX, 'src/server.ts', '--config', cfg], { encoding: 'utf8', timeout: 20_000 });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`is in use by another Tollgate process (pid ${first.proc.pid})`);
    expect(run.stderr).toContain('PostgreSQL');
    // The first is untouched and serving.
    expect((await fetch(`${first.url}/healthz`)).status).toBe(200);
    first.proc.kill('SIGTERM');
    expect(await first.exited).toEqual({ code: 0, signal: null });
    // Once it is gone, the ledger opens again.
    const again = await spawnServer(cfg);
    again.proc.kill('SIGTERM');
    expect(await again.exited).toEqual({ code: 0, signal: null });
  });

  it('`npm start --config FILE` typed without `--` still starts on FILE, and says how to pass it', async () => {
    const cfg = join(dir, 'via-npm.yaml');
    const raw = baseConfig(fake, join(dir, 'ledger.db'));
    raw.teams[0].name = 'from-npm-config';
    writeConfig(cfg, raw);
    // What npm hands the script for `npm start --config FILE`: npm_config_config=true, FILE as an argument.
    const proc = spawn(process.execPath, ['--import', TSX, 'src/server.ts', cfg], { env: { ...process.env, npm_config_config: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout.on('data', (c: Buffer) => { out += c.toString(); });
    await vi.waitFor(() => expect(out).toContain('tollgate ready'), { timeout: 20_000 });
    proc.kill('SIGTERM');
    await new Promise((r) => proc.once('exit', r));
    expect(out).toContain('npm passed --config to itself');
    expect(out).toContain(`"config":"${cfg}"`);
  });

  it('a PostgreSQL ledger that does not answer at start: exit 1 naming the database (never its password)', async () => {
    const port = await closedPort();
    const raw = baseConfig(fake, join(dir, 'unused.db'));
    raw.database = { url: `postgres://tollgate:s3cretpw@127.0.0.1:${port}/ledger`, statement_timeout_ms: 1000 };
    writeConfig(join(dir, 'pg.yaml'), raw);
    const run = spawnSync(process.execPath, ['--import', TSX, 'src/server.ts', '--config', join(dir, 'pg.yaml')], { encoding: 'utf8', timeout: 20_000 });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`tollgate: cannot use the PostgreSQL ledger at postgres://tollgate@127.0.0.1:${port}/ledger`);
    expect(run.stderr + run.stdout).not.toContain('s3cretpw');
  });
});

