// The bench is a script, not a test: this runs every part of it for about a second with tiny
// settings (BENCH_SMOKE=1) so it cannot rot. No figure is asserted; only that each part reports.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const TSX = createRequire(import.meta.url).resolve('tsx');

it('npm run bench runs end to end (smoke settings)', () => {
  const run = spawnSync(process.execPath, ['--import', TSX, 'bench/run.ts'], {
    cwd: ROOT, encoding: 'utf8', timeout: 180_000, env: { ...process.env, BENCH_SMOKE: '1', BENCH_SOURCE: 'tsx' },
  });
  expect(run.status, run.stderr.slice(-2000)).toBe(0);
  for (const part of ['Throughput and latency, closed loop', 'Added latency at a fixed', 'Stream time to first byte', 'RSS over', '/usage for this month']) {
    expect(run.stdout, part).toContain(part);
  }
  expect(run.stdout).toMatch(/\| JSON, 4 connections +\| \d+/);
}, 200_000);
