// GET /dashboard in a real headless Chromium: the page reads /usage and /usage/projection with the
// key the user types, and shows spend per team, budgets against caps with alert marks, top models
// and the projection. Names from the API are shown as text, never run as HTML.
import { existsSync, mkdirSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeProvider, type FakeProvider } from './helpers/fake-provider.js';
import { ADMIN_KEY, TEAM_KEY, startApp, type TestApp } from './helpers/app.js';

const CHROMIUM = '/usr/bin/chromium';
let fake: FakeProvider;
let tg: TestApp;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: .ci/run installs Debian's chromium`);
  fake = await startFakeProvider();
  tg = await startApp(fake, {
    configure: (raw) => {
      raw.teams[0].budgets = [{ window: 'month', limit_usd: 0.01, alert_at: [0.5], hard_cap: true }];
      // A hostile model name must render as text.
      raw.prices['my-<img src=x onerror=alert(1)>'] = { input: 1, output: 1 };
      raw.flat_rate_options = [{ name: 'gpt-plan', monthly_usd: 0.01, models: ['gpt-*'] }];
    },
  });
  for (const model of ['gpt-4o', 'gpt-4o-mini', 'my-<img src=x onerror=alert(1)>']) {
    const res = await fetch(`${tg.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEAM_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 100 }),
    });
    expect(res.status).toBe(200);
  }
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
});

afterAll(async () => {
  await browser?.close();
  await tg?.close();
  await fake?.close();
});

describe('dashboard', () => {
  it('shows spend, budgets with alert marks, top models and the projection for an admin key', async () => {
    const page = await browser.newPage();
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.goto(`${tg.url}/dashboard`);
    await page.fill('#key', ADMIN_KEY);
    await page.click('#load');
    await page.waitForSelector('#models tbody tr[data-model="gpt-4o"]');

    // Top models, dearest first: gpt-4o ($0.00575) before gpt-4o-mini.
    const models = await page.$$eval('#models tbody tr', (rows) => rows.map((r) => r.getAttribute('data-model')));
    expect(models.indexOf('gpt-4o')).toBeLessThan(models.indexOf('gpt-4o-mini'));
    expect(await page.textContent('#models tbody tr[data-model="gpt-4o"] td:last-child')).toBe('$0.00575');
    // The hostile name is text in the table, and nothing ran.
    expect(models).toContain('my-<img src=x onerror=alert(1)>');
    expect(await page.$('#models img')).toBeNull();

    // One bar segment per team and day with spend.
    expect(await page.$$eval('#spend rect[data-team="search"]', (r) => r.length)).toBe(1);
    // The budget: spent past half of $0.01, so the 50% alert mark is shown.
    await page.waitForSelector('#budgets .budget[data-team="search"][data-window="month"] .mark.fired');
    expect(await page.textContent('#budgets .budget[data-team="search"]')).toContain('of $0.01');
    // The projection table names the flat-rate option and a verdict.
    expect(await page.textContent('#projection tbody')).toContain('gpt-plan');
    expect(await page.textContent('#status')).toContain('3 requests');

    mkdirSync('test-output', { recursive: true });
    await page.screenshot({ path: 'test-output/dashboard.png', fullPage: true });
    expect(dialogs).toEqual([]);
    await page.close();
  });

  it('shows the API error for a wrong key', async () => {
    const page = await browser.newPage();
    await page.goto(`${tg.url}/dashboard`);
    await page.fill('#key', 'not-a-key');
    await page.click('#load');
    await page.waitForSelector('#status.error');
    expect(await page.textContent('#status')).toBe('Invalid or missing API key.');
    await page.close();
  });
});
