/** One keep-alive undici pool per provider origin, rebuilt only when a reload changes the origin. */
import { Pool } from 'undici';
import type { ProviderConfig } from '../config/types.js';

export class UpstreamPools {
  private readonly pools = new Map<string, Pool>();

  constructor(private readonly timeouts: { connectMs: number }) {}

  for(provider: ProviderConfig): Pool {
    const origin = new URL(provider.baseUrl).origin;
    let pool = this.pools.get(origin);
    if (!pool) {
      pool = new Pool(origin, {
        connections: 256,
        keepAliveTimeout: 30_000,
        connect: { timeout: this.timeouts.connectMs },
      });
      this.pools.set(origin, pool);
    }
    return pool;
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map((p) => p.close().catch(() => p.destroy())));
    this.pools.clear();
  }
}
