/**
 * PostgreSQL for the tests: a throwaway cluster (started by .ci/run, or by the global setup when
 * this machine has PostgreSQL's binaries) whose URL arrives in TOLLGATE_TEST_PG_URL; each test
 * gets a fresh database in it. Without one the PostgreSQL cases are skipped, except in CI, where
 * the global setup fails instead (they are never skipped there).
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';

export const PG_URL_ENV = 'TOLLGATE_TEST_PG_URL';

export function pgClusterUrl(): string | undefined {
  return process.env[PG_URL_ENV] || undefined;
}

/** The ledgers a parameterised suite runs on. */
export const LEDGERS: readonly ('sqlite' | 'postgres')[] = pgClusterUrl() ? ['sqlite', 'postgres'] : ['sqlite'];

/** A new, empty database in the test cluster; its URL. */
export async function freshDatabase(): Promise<string> {
  const base = pgClusterUrl();
  if (!base) throw new Error(`${PG_URL_ENV} is not set: no PostgreSQL for this test`);
  const name = `tollgate_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(base);
  url.pathname = `/${name}`;
  return url.toString();
}
