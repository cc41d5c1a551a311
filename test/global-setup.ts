/**
 * Suite-wide secret sweep (issue 4): after every test file has run, no Tollgate key or provider
 * key may appear in any log line or response body the suite produced. Workers append to a sink
 * file (test/helpers/secret-sink.ts); this teardown reads it.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SECRETS } from './helpers/app.js';
import { SINK_ENV } from './helpers/secret-sink.js';
import { pgBinDir, startCluster, type Cluster } from './helpers/pg-cluster.js';
import { PG_URL_ENV } from './helpers/postgres.js';

/**
 * PostgreSQL for the suites that run on both ledgers: the cluster .ci/run started, else one started
 * here when the binaries exist. In CI the PostgreSQL tests are never skipped: no cluster is a failure.
 */
async function postgresForTests(): Promise<Cluster | undefined> {
  if (process.env[PG_URL_ENV]) return undefined;
  const bin = pgBinDir();
  if (!bin) {
    if (process.env.CI) throw new Error(`no PostgreSQL for the tests: set ${PG_URL_ENV} or install postgresql (.ci/run does)`);
    console.warn(`PostgreSQL is not installed: the PostgreSQL ledger tests are skipped (set ${PG_URL_ENV} or apt-get install postgresql)`);
    return undefined;
  }
  const cluster = await startCluster(bin);
  process.env[PG_URL_ENV] = cluster.url;
  return cluster;
}

export default async function setup(): Promise<() => void> {
  const cluster = await postgresForTests();
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-sink-'));
  const path = join(dir, 'traffic.log');
  writeFileSync(path, '');
  process.env[SINK_ENV] = path;
  return () => {
    cluster?.stop();
    const traffic = readFileSync(path, 'utf8');
    rmSync(dir, { recursive: true, force: true });
    const leaked = SECRETS.filter((s) => traffic.includes(s));
    // An empty sink would make the sweep pass without looking at anything; CI runs the whole suite,
    // which writes far more than this (a developer's one-file run may not).
    const failure =
      process.env.CI && traffic.length < 10_000
        ? `the sink holds only ${traffic.length} bytes; is it wired up?`
        : leaked.length > 0
          ? `${leaked.length} secret(s) appear in the suite's logs or response bodies`
          : undefined;
    if (failure) {
      // Vitest reports a teardown error but keeps its exit code: set ours so CI fails.
      process.exitCode = 1;
      throw new Error(`secret sweep FAILED: ${failure}`);
    }
    console.log(`secret sweep: ${traffic.split('\n').length} lines of logs and bodies, no secret in them`);
  };
}
