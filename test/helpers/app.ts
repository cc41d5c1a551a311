/**
 * Builds Tollgate for a test: config from a plain object (the YAML's shape), a temporary SQLite
 * ledger, a log sink whose lines a test can search, and a real listening socket for the SDKs.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/types.js';
import { createDeps, type Deps } from '../../src/deps.js';
import { createLogger } from '../../src/log.js';
import { openLedger } from '../../src/ledger/open.js';
import type { FakeProvider } from './fake-provider.js';
import { freshDatabase } from './postgres.js';
import { sinkWrite } from './secret-sink.js';

export const TEAM_KEY = 'tg-team-search-5ecret-aaaa';
export const OTHER_TEAM_KEY = 'tg-team-ads-5ecret-bbbb';
export const ADMIN_KEY = 'tg-admin-5ecret-cccc';
export const PROVIDER_KEY = 'sk-provider-5ecret-dddd';
export const ANTHROPIC_PROVIDER_KEY = 'sk-ant-provider-5ecret-eeee';
/** Every secret a test run uses: none may appear in a log line or a response body. */
export const SECRETS = [TEAM_KEY, OTHER_TEAM_KEY, ADMIN_KEY, PROVIDER_KEY, ANTHROPIC_PROVIDER_KEY];

/** Every log line written by every app built in this test process. */
export const allLogLines: string[] = [];

export type RawConfig = Record<string, any>;

export function baseConfig(fake: FakeProvider, dbPath: string): RawConfig {
  return {
    server: { host: '127.0.0.1', port: 0, body_limit_mb: 1, upstream_timeout_s: 5, shutdown_grace_s: 2 },
    database: { path: dbPath },
    admin_keys: [ADMIN_KEY],
    providers: [
      { name: 'openai', api: 'openai', base_url: fake.openaiBaseUrl, api_key: PROVIDER_KEY, models: ['gpt-*', 'o1*', 'o3*', 'text-embedding-*', 'my-*'] },
      { name: 'anthropic', api: 'anthropic', base_url: fake.url, api_key: ANTHROPIC_PROVIDER_KEY, models: ['claude-*'] },
      { name: 'deepseek', api: 'openai', base_url: fake.openaiBaseUrl, api_key: PROVIDER_KEY, models: ['deepseek-*'] },
    ],
    prices: { 'my-finetune': { input: 3.0, cached_input: 1.5, output: 12.0 } },
    unpriced_models: 'reject',
    teams: [
      { name: 'search', keys: [TEAM_KEY] },
      { name: 'ads', keys: [`sha256:${sha256(OTHER_TEAM_KEY)}`], models: ['gpt-4o-mini'] },
    ],
  };
}

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

export function configFrom(raw: RawConfig, env: Record<string, string> = {}): Config {
  const loaded = parseConfig(raw, 'test.yaml', env);
  if (!loaded.ok) throw new Error(`bad test config:\n${loaded.problems.join('\n')}`);
  return loaded.config;
}

export interface TestApp {
  app: FastifyInstance;
  deps: Deps;
  url: string;
  dbPath: string;
  logs: string[];
  close(): Promise<void>;
}

export interface StartOptions {
  /** Change the raw config before it is parsed. */
  configure?: (raw: RawConfig) => void;
  clock?: () => number;
  dbPath?: string;
  outboxPollMs?: number;
  /** Which ledger: SQLite (default) or PostgreSQL (a fresh database in the test cluster). */
  ledger?: 'sqlite' | 'postgres';
  /** With PostgreSQL: an existing database (several instances on one ledger). */
  databaseUrl?: string;
}

export async function startApp(fake: FakeProvider, opts: StartOptions = {}): Promise<TestApp> {
  const dir = opts.dbPath ? undefined : mkdtempSync(join(tmpdir(), 'tollgate-test-'));
  const dbPath = opts.dbPath ?? join(dir as string, 'ledger.db');
  const raw = baseConfig(fake, dbPath);
  if (opts.ledger === 'postgres' || opts.databaseUrl) raw.database = { url: opts.databaseUrl ?? (await freshDatabase()), lease_s: 2, pool_size: 20 };
  opts.configure?.(raw);
  const logs: string[] = [];
  const log = createLogger({
    level: 'debug',
    destination: {
      write(line: string) {
        logs.push(line);
        allLogLines.push(line);
        sinkWrite(line);
      },
    },
  });
  const config = configFrom(raw);
  const deps = createDeps(config, {
    ledger: await openLedger(config, { clock: opts.clock ?? Date.now, log }),
    log,
    ...(opts.clock ? { clock: opts.clock } : {}),
    outboxPollMs: opts.outboxPollMs ?? 50,
  });
  await deps.budgets.recover((name) => deps.store.team(name));
  const stopRecovering = deps.budgets.keepRecovering((name) => deps.store.team(name));
  const app = await buildApp(deps);
  // Every whole response body Tollgate sends in a test goes to the suite-wide secret sweep. (Stream
  // bodies are the provider's bytes; tapping them here would race Fastify's own pipe.)
  app.addHook('onSend', async (_req, _reply, payload) => {
    if (typeof payload === 'string' || Buffer.isBuffer(payload)) sinkWrite(payload.toString());
    return payload;
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  deps.outbox.start();
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    app,
    deps,
    url: `http://127.0.0.1:${port}`,
    dbPath,
    logs,
    async close() {
      stopRecovering();
      await app.close();
      await deps.outbox.stop();
      await deps.pools.close();
      await deps.bodies.close();
      await deps.ledger.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
