// `npx tollgate prices show` and `prices check` (issue 8): the commands as a user runs them, through
// the package's bin, against a small LiteLLM-format fixture whose disagreements are known: the
// fixture's gpt-4o-mini output, and DeepSeek and Mistral prices from before their price changes.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const FIXTURE = 'test/fixtures/litellm-prices.json';
const NO_CONFIG = { ...process.env, TOLLGATE_CONFIG: 'test/fixtures/none.yaml' }; // bundled prices only

function tollgate(args: string[], env: NodeJS.ProcessEnv = NO_CONFIG): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, ['bin/tollgate.js', ...args], { cwd: ROOT, env, encoding: 'utf8', timeout: 30_000 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('tollgate prices check --against FILE', () => {
  it('lists every disagreement (model, kind, ours, theirs) and exits 1', () => {
    const run = tollgate(['prices', 'check', '--against', FIXTURE, '--at', '2026-12-03T12:00:00Z', '--format', 'json']);
    expect(run.status, run.stderr).toBe(1);
    const report = JSON.parse(run.stdout) as { compared: number; disagreements: unknown[] };
    expect(report.compared).toBe(8); // the text models of known families; sample_spec and dall-e-3 are skipped
    expect(report.disagreements).toEqual([
      { model: 'gpt-4o-mini', family: 'openai', kind: 'output', ours: 0.6, theirs: 0.65 },
      { model: 'deepseek-chat', family: 'deepseek', kind: 'input', ours: 0.28, theirs: 0.27 },
      { model: 'deepseek-chat', family: 'deepseek', kind: 'cachedInput', ours: 0.028, theirs: 0.07 },
      { model: 'deepseek-chat', family: 'deepseek', kind: 'output', ours: 0.42, theirs: 1.1 },
      { model: 'mistral-large-latest', family: 'mistral', kind: 'input', ours: 0.5, theirs: 2 },
      { model: 'mistral-large-latest', family: 'mistral', kind: 'output', ours: 1.5, theirs: 6 },
      { model: 'gpt-unheard-of-1', family: 'openai', kind: 'price', ours: null, theirs: 1 },
    ]);
  });

  it('compares the prices in force at --at: DeepSeek and Mistral agree in May 2025 by day', () => {
    const run = tollgate(['prices', 'check', '--against', FIXTURE, '--at', '2025-05-14T12:00:00Z', '--format', 'csv']);
    expect(run.stdout.trim().split('\n')).toEqual([
      'model,family,kind,ours,theirs',
      'gpt-4o-mini,openai,output,0.6,0.65',
      'gpt-unheard-of-1,openai,price,-,1',
    ]);
  });

  it('prints a readable table by default', () => {
    const run = tollgate(['prices', 'check', '--against', FIXTURE, '--at', '2026-12-03T12:00:00Z']);
    const lines = run.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^model\s+family\s+kind\s+ours\s+theirs$/);
    expect(lines).toContainEqual(expect.stringMatching(/^gpt-4o-mini\s+openai\s+output \(reasoning included\)\s+0\.6\s+0\.65$/));
    expect(lines.at(-1)).toBe('8 models compared at 2026-12-03T12:00:00.000Z; 7 disagreement(s) (USD per 1M tokens)');
  });

  it('exits 0 when everything agrees', () => {
    const run = tollgate(['prices', 'check', '--against', 'test/fixtures/litellm-agree.json']);
    expect(run.status, run.stdout + run.stderr).toBe(0);
  });

  it('says what is wrong with a bad call, with the command’s help, exit 2', () => {
    const missing = tollgate(['prices', 'check']);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('--against FILE is required');
    expect(missing.stderr).toContain('Usage: tollgate prices check');
    const unknown = tollgate(['prices', 'check', '--against', FIXTURE, '--colour']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/Unknown option '--colour'/);
  });
});

describe('tollgate prices show MODEL', () => {
  it('prints every rate kind and its source', () => {
    const run = tollgate(['prices', 'show', 'deepseek-chat', '--at', '2025-05-14T20:00:00Z']);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain('deepseek-chat — deepseek prices at 2025-05-14T20:00:00.000Z');
    expect(run.stdout).toMatch(/source: tollgate overrides: api-docs\.deepseek\.com.* during 16:30–00:30 UTC/);
    expect(run.stdout).toMatch(/\n {2}input\s+\$0\.135\n/);
    expect(run.stdout).toMatch(/\n {2}cached input\s+\$0\.035\n/);
    expect(run.stdout).toMatch(/\n {2}output \(reasoning included\)\s+\$0\.55\n/);
  });

  it('--format json, a provider by family, a long-context tier', () => {
    const run = tollgate(['prices', 'show', 'claude-sonnet-4-20250514', '--provider', 'anthropic', '--at', '2025-10-01', '--format', 'json']);
    const shown = JSON.parse(run.stdout);
    expect(shown).toMatchObject({
      model: 'claude-sonnet-4-20250514', family: 'anthropic', at: '2025-10-01T00:00:00.000Z',
      rates: { input: 3, cached_input: 0.3, cache_write: 3.75, cache_write_1h: 6, output: 15 },
      tiers: [{ above_input_tokens: 200_000, rates: { input: 6, output: 22.5 } }],
      max_output_tokens: 64_000,
    });
  });

  it('--provider names a configured provider: its price family applies', () => {
    const run = tollgate(['prices', 'show', 'text-embedding-3-small', '--provider', 'azure-east', '--config', 'test/fixtures/families.yaml', '--format', 'json']);
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ family: 'azure', rates: { input: 0.02 } });
  });

  it('an unpriced model: exit 1 and how to add it under prices:', () => {
    const run = tollgate(['prices', 'show', 'my-private-model']);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('my-private-model has no price');
    expect(run.stderr).toContain('"my-private-model": { input: 1.0, output: 2.0 }');
  });

  it('--help', () => {
    const run = tollgate(['prices', 'show', '--help']);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('Usage: tollgate prices show MODEL');
  });
});
