// `npx tollgate migrate-ledger --from FILE --to postgres://…` (issue 9): an SQLite ledger moved
// into PostgreSQL answers /usage the same, a hold a killed process left is copied at its worst
// case, a second run copies nothing twice, and a file a Tollgate still serves from is refused.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SqliteLedger } from '../src/ledger/sqlite-ledger.js';
import { startFakeProvider, type FakeProvider } from './helpers/fake-provider.js';
import { ADMIN_KEY, startApp, TEAM_KEY, type TestApp } from './helpers/app.js';
import { freshDatabase, pgClusterUrl } from './helpers/postgres.js';
import { startWebhookReceiver, type WebhookReceiver } from './helpers/webhook-receiver.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
let fake: FakeProvider | undefined;
let apps: TestApp[] = [];
let receiver: WebhookReceiver | undefined;

afterEach(async () => {
  for (const a of apps) await a.close();
  apps = [];
  await receiver?.close();
  await fake?.close();
});

function migrate(from: string, to: string) {
  return spawnSync(process.execPath, ['bin/tollgate.js', 'migrate-ledger', '--from', from, '--to', to], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
}

async function admin(app: TestApp, path: string): Promise<any> {
  return (await fetch(`${app.url}${path}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })).json();
}

describe.skipIf(!pgClusterUrl())('migrate-ledger', () => {
  it('moves records, refusals, alerts and a dead process’s hold; a second run copies nothing twice', async () => {
    fake = await startFakeProvider();
    receiver = await startWebhookReceiver();
    const dbPath = join(mkdtempSync(join(tmpdir(), 'tollgate-migrate-')), 'ledger.db');
    const configure = (raw: any) => {
      raw.teams[0].budgets = [{ window: 'month', limit_usd: 0.01, alert_at: [0.5], hard_cap: true }];
      raw.alerts = { webhooks: [{ url: `${receiver!.url}/hook`, format: 'json' }], backoff_base_ms: 20 };
    };
    const sqlite = await startApp(fake, { dbPath, configure });
    apps.push(sqlite);
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${sqlite.url}/v1/chat/completions`, {
        method: 'POST', headers: { authorization: `Bearer ${TEAM_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] }),
      });
      statuses.push(res.status);
    }
    expect(statuses).toEqual([200, 200, 402]); // $0.00575 each against a $0.01 cap
    const before = await admin(sqlite, '/usage?group_by=model');
    const records = (await admin(sqlite, '/usage/requests')).data;

    // While it serves from the file, the file is refused.
    const busy = migrate(dbPath, await freshDatabase());
    expect(busy.status).toBe(1);
    expect(busy.stderr).toContain('is in use by another Tollgate process');

    await sqlite.close();
    apps = [];
    // A process killed in flight leaves a hold behind.
    const left = new SqliteLedger(dbPath);
    left.reserve({ id: 'orphan-1', ts: Date.now(), team: 'search', keyId: 'k', provider: 'openai', model: 'gpt-4o', endpoint: '/v1/chat/completions', stream: false,
      worstCaseNano: 1_234_567, inputTokens: 10, outputTokens: 100, rates: null, priceSource: null, unpriced: false });
    await left.close();

    const url = await freshDatabase();
    const run = migrate(dbPath, url);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain('3 request records (0 already there), 1 refusals and 2 alert events copied'); // 50% threshold, exhausted

    const pgApp = await startApp(fake, { databaseUrl: url, configure });
    apps.push(pgApp);
    const after = await admin(pgApp, '/usage?group_by=model');
    const orphanNano = 1_234_567;
    expect(after.totals).toEqual({ ...before.totals, requests: 3, refused: 1, input_tokens: before.totals.input_tokens + 10, output_tokens: before.totals.output_tokens + 100,
      cost_usd: Math.round((before.totals.cost_usd * 1e9 + orphanNano)) / 1e9 });
    const moved = (await admin(pgApp, '/usage/requests')).data;
    expect(moved.map((r: any) => r.id).sort()).toEqual([...records.map((r: any) => r.id), 'orphan-1'].sort());
    expect(moved.find((r: any) => r.id === 'orphan-1')).toMatchObject({ status: 0, estimated: true, cost_usd: orphanNano / 1e9 });
    await vi.waitFor(async () => expect((await admin(pgApp, '/alerts/deliveries')).data.map((d: any) => [d.event, d.threshold, d.state]).sort()).toEqual([
      ['budget.exhausted', 1, 'delivered'], ['budget.threshold', 0.5, 'delivered'],
    ]));

    await pgApp.close();
    apps = [];
    const again = migrate(dbPath, url);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toContain('0 request records (3 already there)');
  });
});
