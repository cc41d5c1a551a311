/**
 * Proxy overhead: the same requests sent straight to a fake provider and through Tollgate, in the
 * same run, on loopback. Reports latency percentiles and throughput as ratios against the direct
 * baseline. Bounded: a fixed number of requests per scenario.
 */
import { Agent, request } from 'undici';
import { startFakeProvider } from '../test/helpers/fake-provider.js';
import { PROVIDER_KEY, TEAM_KEY, startApp } from '../test/helpers/app.js';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 3000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);

interface Result {
  p50: number;
  p99: number;
  mean: number;
  rps: number;
}

async function run(url: string, key: string, body: string): Promise<Result> {
  const agent = new Agent({ connections: CONCURRENCY, keepAliveTimeout: 10_000 });
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < REQUESTS) {
        next++;
        const t0 = performance.now();
        const res = await request(url, {
          method: 'POST',
          dispatcher: agent,
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body,
        });
        await res.body.arrayBuffer();
        if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const elapsed = performance.now() - started;
  await agent.close();
  latencies.sort((a, b) => a - b);
  const at = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  return { p50: at(0.5), p99: at(0.99), mean: latencies.reduce((s, v) => s + v, 0) / latencies.length, rps: (latencies.length / elapsed) * 1000 };
}

function row(name: string, direct: Result, proxied: Result): string {
  const f = (n: number): string => n.toFixed(3).padStart(8);
  return [
    name.padEnd(22),
    `direct p50 ${f(direct.p50)} ms  proxied p50 ${f(proxied.p50)} ms  (+${(proxied.p50 - direct.p50).toFixed(3)} ms, ×${(proxied.p50 / direct.p50).toFixed(2)})`,
    `p99 ×${(proxied.p99 / direct.p99).toFixed(2)}  throughput ×${(proxied.rps / direct.rps).toFixed(2)} (${direct.rps.toFixed(0)} → ${proxied.rps.toFixed(0)} req/s)`,
  ].join('  ');
}

async function main(): Promise<void> {
  const fake = await startFakeProvider();
  const tg = await startApp(fake);
  // Quiet the per-request log lines: a benchmark measures the proxy, not the console.
  tg.deps.log.level = 'warn';
  const chat = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello there' }], max_tokens: 64 });
  const stream = JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'hello there' }], max_tokens: 64 });
  console.log(`requests per scenario: ${REQUESTS}, concurrency ${CONCURRENCY}, loopback, 2 cores shared by client, proxy and fake provider`);
  for (const [name, body] of [['chat (non-stream)', chat], ['chat (stream)', stream]] as const) {
    await run(`${fake.openaiBaseUrl}/chat/completions`, PROVIDER_KEY, body); // warm-up
    await run(`${tg.url}/v1/chat/completions`, TEAM_KEY, body);
    const direct = await run(`${fake.openaiBaseUrl}/chat/completions`, PROVIDER_KEY, body);
    const proxied = await run(`${tg.url}/v1/chat/completions`, TEAM_KEY, body);
    console.log(row(name, direct, proxied));
  }
  await tg.close();
  await fake.close();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
