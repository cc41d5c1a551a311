// Config: `${VAR}` / `${VAR:-default}` from the environment, validated once with every problem
// reported by key path, then frozen (SPEC §1, §2). An unset key disables what needs it, never the start.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { interpolateEnv } from '../../src/config/interpolate.js';
import { loadConfigFile, parseConfig, type LoadResult } from '../../src/config/load.js';
import type { Config } from '../../src/config/types.js';

const HEX64 = 'a'.repeat(32) + '0123456789abcdef0123456789ABCDEF';

const VALID = `
server: { host: 127.0.0.1, port: "\${PORT:-8080}" }
admin_keys: ["\${TOLLGATE_ADMIN_KEY}"]
providers:
  - name: openai
    api: openai
    base_url: https://api.openai.com/v1/
    api_key: \${OPENAI_API_KEY}
    models: ["gpt-*", "o3*"]
  - name: anthropic
    api: anthropic
    base_url: https://api.anthropic.com
    api_key: \${ANTHROPIC_API_KEY}
    models: ["claude-*"]
prices:
  my-finetune: { input: 3.0, cached_input: 1.5, output: 12.0 }
teams:
  - name: search
    keys: ["\${SEARCH_TEAM_KEY}", "sha256:${HEX64}"]
    models: ["gpt-4o-mini", "claude-*"]
    budgets:
      - { window: month, limit_usd: 500, alert_at: [0.8, 0.5, 1.0], hard_cap: true }
      - { window: day, limit_usd: "\${DAILY_LIMIT:-25}" }
`;

function parse(yaml: string, env: Record<string, string | undefined>): LoadResult {
  return parseConfig(parseYaml(yaml), 'tollgate.yaml', env);
}

function ok(result: LoadResult): Config {
  if (!result.ok) throw new Error(`expected a valid config, got:\n${result.problems.join('\n')}`);
  return result.config;
}

function problems(result: LoadResult): string[] {
  if (result.ok) throw new Error('expected problems, got a valid config');
  return result.problems;
}

const FULL_ENV = {
  PORT: '9999',
  TOLLGATE_ADMIN_KEY: 'admin-secret',
  OPENAI_API_KEY: 'sk-openai',
  ANTHROPIC_API_KEY: 'sk-ant',
  SEARCH_TEAM_KEY: 'tg-search',
};

describe('interpolateEnv', () => {
  it('substitutes ${VAR} and ${VAR:-default}, inside longer strings too', () => {
    const { value, unset } = interpolateEnv(
      { a: '${A}', b: '${B:-fallback}', c: 'x-${A}-${B:-y}-z', list: ['${A}', 7, true, null] },
      { A: 'alpha' },
    );
    expect(value).toEqual({ a: 'alpha', b: 'fallback', c: 'x-alpha-y-z', list: ['alpha', 7, true, null] });
    expect(unset.size).toBe(0);
  });

  it('prefers a set variable over the default, and treats an empty one as unset', () => {
    expect(interpolateEnv('${B:-fallback}', { B: 'set' }).value).toBe('set');
    expect(interpolateEnv('${B:-fallback}', { B: '' }).value).toBe('fallback');
    expect(interpolateEnv('${B:-}', {}).value).toBe('');
  });

  it('records each unset variable without a default under its key path', () => {
    const { value, unset } = interpolateEnv({ providers: [{ api_key: '${OPENAI_API_KEY}' }], teams: [{ keys: ['${K1}${K2}'] }] }, { K2: 'two' });
    expect(value).toEqual({ providers: [{ api_key: '' }], teams: [{ keys: ['two'] }] });
    expect(Object.fromEntries(unset)).toEqual({ 'providers[0].api_key': ['OPENAI_API_KEY'], 'teams[0].keys[0]': ['K1'] });
  });

  it('substitutes values, never YAML structure', () => {
    const { value } = interpolateEnv({ key: '${EVIL}' }, { EVIL: 'x\nadmin_keys: [pwned]' });
    expect(value).toEqual({ key: 'x\nadmin_keys: [pwned]' });
  });
});

describe('parseConfig: environment', () => {
  it('reads a valid config with every variable set', () => {
    const config = ok(parse(VALID, FULL_ENV));
    expect(config.adminKeys).toEqual(['admin-secret']);
    expect(config.providers.map((p) => [p.name, p.api, p.apiKey])).toEqual([
      ['openai', 'openai', 'sk-openai'],
      ['anthropic', 'anthropic', 'sk-ant'],
    ]);
    expect(config.providers[0]?.baseUrl).toBe('https://api.openai.com/v1');
    expect(config.teams[0]?.keys).toEqual(['tg-search', `sha256:${HEX64}`]);
    expect(config.teams[0]?.budgets).toEqual([
      { id: 'month', window: 'month', limitUsd: 500, alertAt: [0.5, 0.8, 1.0], hardCap: true },
      { id: 'day', window: 'day', limitUsd: 25, alertAt: [], hardCap: true }, // hard_cap defaults to true
    ]);
    expect(config.prices['my-finetune']).toEqual([{ value: { input: 3, cachedInput: 1.5, output: 12 } }]);
    expect(config.warnings).toEqual([]);
  });

  it('turns numbers from the environment into numbers (port)', () => {
    expect(ok(parse(VALID, FULL_ENV)).server.port).toBe(9999);
    const withDefault = ok(parse(VALID, { ...FULL_ENV, PORT: undefined }));
    expect(withDefault.server.port).toBe(8080);
    expect(typeof withDefault.server.port).toBe('number');
    expect(ok(parse(VALID, { ...FULL_ENV, DAILY_LIMIT: '12.5' })).teams[0]?.budgets[1]?.limitUsd).toBe(12.5);
  });

  it('rejects a non-numeric port from the environment, naming the key', () => {
    expect(problems(parse(VALID, { ...FULL_ENV, PORT: 'eighty' }))).toEqual(['server.port: must be an integer from 0 to 65535']);
  });

  it('drops unset keys with a warning naming the variable, never failing', () => {
    const config = ok(parse(VALID, {}));
    expect(config.adminKeys).toEqual([]);
    expect(config.providers.map((p) => p.apiKey)).toEqual([undefined, undefined]);
    expect(config.teams[0]?.keys).toEqual([`sha256:${HEX64}`]);
    for (const name of ['TOLLGATE_ADMIN_KEY', 'OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'SEARCH_TEAM_KEY']) {
      expect(config.warnings.filter((w) => w.includes(name)), name).toHaveLength(1);
    }
    expect(config.providers[0]?.apiKeyHint).toContain('OPENAI_API_KEY');
  });

  it('starts with no config file content at all, reporting only the missing provider', () => {
    expect(problems(parseConfig(null, 'empty.yaml', {}))).toEqual(['providers: at least one provider is required']);
  });
});

describe('parseConfig: problems', () => {
  it('lists every problem at once, each with its key path', () => {
    const result = parse(
      `
server: { port: 70000, body_limit_mb: 0 }
providers:
  - name: openai
    base_url: not a url
    models: []
  - api: gemini
    base_url: https://x.example/v1
    models: ["x-*"]
unpriced_models: maybe
budget_refusal_status: 403
teams:
  - name: ok
    budgets: [{ window: month, limit_usd: 10 }]
  - name: search
    budgets:
      - { window: month, limit_usd: -5 }
      - { window: fortnight, limit_usd: 10, alert_at: [0, 0.5], hard_cap: maybe }
alerts:
  webhooks: [{ url: "ftp://hooks.example/x", format: xml }]
`,
      {},
    );
    expect(problems(result)).toEqual(
      expect.arrayContaining([
        'server.port: must be an integer from 0 to 65535',
        'server.body_limit_mb: must be a positive number',
        'providers[0].base_url: must be an http(s) URL',
        'providers[0].models: must list at least one model glob',
        'providers[1].name: is required',
        'providers[1].api: must be one of openai, anthropic',
        'unpriced_models: must be one of reject, allow',
        'budget_refusal_status: must be one of 402, 429',
        'teams[1].budgets[0].limit_usd: must be a positive number',
        'teams[1].budgets[1].window: must be one of hour, day, week, month, total',
        'teams[1].budgets[1].alert_at[0]: must be a positive fraction such as 0.8',
        'teams[1].budgets[1].hard_cap: must be true or false',
        'alerts.webhooks[0].url: must be an http(s) URL',
        'alerts.webhooks[0].format: must be one of json, slack',
      ]),
    );
  });

  it('reports a missing or non-numeric limit with its path', () => {
    const result = parse(
      `
providers: [{ name: p, base_url: "https://p.example/v1", models: ["*"] }]
teams:
  - name: a
    budgets: [{ window: day }, { window: week, limit_usd: lots }]
`,
      {},
    );
    expect(problems(result)).toEqual([
      'teams[0].budgets[0].limit_usd: is required',
      'teams[0].budgets[1].limit_usd: must be a positive number',
    ]);
  });

  // SPEC §2: a typo must never drop a cap. Every section refuses an unknown key, naming its path
  // and the nearest known key.
  const TYPOS: [string, (raw: Record<string, any>) => void, string][] = [
    ['(root)', (c) => { c.budget_refusal_stauts = 429; }, 'budget_refusal_stauts: unknown key; did you mean budget_refusal_status?'],
    ['server', (c) => { c.server = { prot: 1 }; }, 'server.prot: unknown key; did you mean port?'],
    ['database', (c) => { c.database = { pth: 'x.db' }; }, 'database.pth: unknown key; did you mean path?'],
    ['providers[]', (c) => { c.providers[0].apikey = 'x'; }, 'providers[0].apikey: unknown key; did you mean api_key?'],
    ['prices.<model>', (c) => { c.prices = { m: { input: 1, output: 2, cached: 0.5 } }; }, 'prices.m.cached: unknown key; did you mean cached_input?'],
    ['teams[]', (c) => { c.teams[0].budget = [{ window: 'day', limit_usd: 1 }]; }, 'teams[0].budget: unknown key; did you mean budgets?'],
    ['teams[].budgets[]', (c) => { c.teams[0].budgets = [{ window: 'day', limit_usd: 1, hardcap: true }]; }, 'teams[0].budgets[0].hardcap: unknown key; did you mean hard_cap?'],
    ['alerts', (c) => { c.alerts = { webhook: [] }; }, 'alerts.webhook: unknown key; did you mean webhooks?'],
    ['alerts.webhooks[]', (c) => { c.alerts = { webhooks: [{ url: 'https://h.example', fromat: 'json' }] }; }, 'alerts.webhooks[0].fromat: unknown key; did you mean format?'],
    ['flat_rate_options[]', (c) => { c.flat_rate_options = [{ name: 'f', monthly_usd: 1, model: ['x'] }]; }, 'flat_rate_options[0].model: unknown key; did you mean models?'],
    ['worst_case', (c) => { c.worst_case = { image_token: 5 }; }, 'worst_case.image_token: unknown key; did you mean image_tokens?'],
  ];
  const minimal = (): Record<string, any> => ({
    providers: [{ name: 'p', base_url: 'https://p.example/v1', models: ['*'] }],
    teams: [{ name: 'a', keys: ['k'] }],
  });

  it.each(TYPOS)('refuses an unknown key in %s with its path and the nearest known key', (_section, mutate, expected) => {
    const raw = minimal();
    mutate(raw);
    expect(problems(parseConfig(raw, 'tollgate.yaml', {}))).toEqual([expected]);
  });

  it('names the known keys when nothing is near', () => {
    const raw = minimal();
    raw.teams[0].xyzzy = 1;
    expect(problems(parseConfig(raw, 'tollgate.yaml', {}))).toEqual(['teams[0].xyzzy: unknown key (expected one of name, keys, models, budgets)']);
  });

  it('accepts every key SPEC §2 names, and refuses a database url that is not PostgreSQL or comes with a path', () => {
    const raw = minimal();
    raw.worst_case = { image_tokens: 1, context_tokens: 2, hosted_tool_tokens: 3, tool_definition_tokens: 4 };
    raw.alternatives = { 'claude-sonnet-4*': ['gpt-4.1', 'gemini-2.5-pro'] };
    expect(ok(parseConfig(raw, 'tollgate.yaml', {})).worstCase).toEqual({ imageTokens: 1, contextTokens: 2, hostedToolTokens: 3, toolDefinitionTokens: 4 });
    raw.database = { url: 'postgres://db/tollgate', pool_size: 4, statement_timeout_ms: 2000, lease_s: 10 };
    expect(ok(parseConfig(raw, 'tollgate.yaml', {})).database).toMatchObject({ url: 'postgres://db/tollgate', poolSize: 4, statementTimeoutMs: 2000, leaseS: 10 });
    raw.database = { url: 'mysql://db/tollgate' };
    expect(problems(parseConfig(raw, 'tollgate.yaml', {}))).toEqual(['database.url: must be a postgres:// URL']);
    raw.database = { url: 'postgres://db/tollgate', path: './x.db' };
    expect(problems(parseConfig(raw, 'tollgate.yaml', {}))).toEqual(['database: give path (SQLite) or url (PostgreSQL), not both']);
  });

  it('refuses a known provider’s base URL without its version path, and an Anthropic one with it', () => {
    const raw = minimal();
    raw.providers = [
      { name: 'openai', api: 'openai', base_url: 'https://api.openai.com', models: ['gpt-*'] },
      { name: 'mistral', api: 'openai', base_url: 'https://api.mistral.ai/', models: ['mistral-*'] },
      { name: 'anthropic', api: 'anthropic', base_url: 'https://api.anthropic.com/v1', models: ['claude-*'] },
      { name: 'deepseek', api: 'openai', base_url: 'https://api.deepseek.com', models: ['deepseek-*'] }, // DeepSeek serves both
      { name: 'local', api: 'openai', base_url: 'http://127.0.0.1:8000', models: ['local-*'] }, // unknown host: its own business
    ];
    expect(problems(parseConfig(raw, 'tollgate.yaml', {}))).toEqual([
      'providers[0].base_url: https://api.openai.com has no version path; use https://api.openai.com/v1 (Tollgate appends /chat/completions and the like to it)',
      'providers[1].base_url: https://api.mistral.ai has no version path; use https://api.mistral.ai/v1 (Tollgate appends /chat/completions and the like to it)',
      'providers[2].base_url: an api: anthropic base_url is the host root (Tollgate appends /v1/messages); use https://api.anthropic.com',
    ]);
  });

  it('reports duplicate team names and provider names', () => {
    const result = parse(
      `
providers:
  - { name: p, base_url: "https://p.example/v1", models: ["*"] }
  - { name: p, base_url: "https://q.example/v1", models: ["*"] }
teams: [{ name: search }, { name: other }, { name: search }]
`,
      {},
    );
    expect(problems(result)).toEqual(["providers[1].name: duplicate name 'p'", "teams[2].name: duplicate name 'search'"]);
  });

  it('rejects a sha256: key that is not 64 hex digits', () => {
    const result = parse(
      `
admin_keys: ["sha256:abc", "sha256:${'g'.repeat(64)}", "sha256:${HEX64}"]
providers: [{ name: p, base_url: "https://p.example/v1", models: ["*"] }]
teams: [{ name: a, keys: ["sha256:${HEX64}0"] }]
`,
      {},
    );
    expect(problems(result)).toEqual([
      'admin_keys[0]: sha256: keys must be 64 hex digits',
      'admin_keys[1]: sha256: keys must be 64 hex digits',
      'teams[0].keys[0]: sha256: keys must be 64 hex digits',
    ]);
  });

  it('reports a list entry that is not a mapping once', () => {
    const result = parse(
      `
providers: [42, { name: p, base_url: "https://p.example/v1", models: ["*"] }]
teams: ["search"]
`,
      {},
    );
    expect(problems(result)).toEqual(['providers[0]: must be a mapping', 'teams[0]: must be a mapping']);
  });
});

describe('the parsed config', () => {
  it('is frozen all the way down', () => {
    const config = ok(parse(VALID, FULL_ENV));
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.server)).toBe(true);
    expect(Object.isFrozen(config.teams)).toBe(true);
    expect(Object.isFrozen(config.teams[0]?.budgets[0])).toBe(true);
    expect(Object.isFrozen(config.providers[0]?.models)).toBe(true);
    expect(() => {
      (config.server as { port: number }).port = 1;
    }).toThrow(TypeError);
    expect(() => {
      (config.teams as unknown[]).push({});
    }).toThrow(TypeError);
    expect(config.server.port).toBe(9999);
  });
});

describe('loadConfigFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-config-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reports a file that does not exist, naming it', () => {
    const file = join(dir, 'missing.yaml');
    const result = loadConfigFile(file, {});
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.file).toBe(file);
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]).toMatch(/^cannot read file: .*ENOENT/);
  });

  it('reports invalid YAML, naming the file', () => {
    const file = join(dir, 'broken.yaml');
    writeFileSync(file, 'providers:\n  - name: openai\n    models: [gpt-*\nteams: {\n');
    const result = loadConfigFile(file, {});
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.file).toBe(file);
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]).toMatch(/^not valid YAML: /);
  });

  it('loads a valid file with the given environment', () => {
    const file = join(dir, 'ok.yaml');
    writeFileSync(file, VALID);
    const config = ok(loadConfigFile(file, FULL_ENV));
    expect(config.file).toBe(file);
    expect(config.server.port).toBe(9999);
  });
});
