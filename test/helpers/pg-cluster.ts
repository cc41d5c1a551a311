/**
 * A throwaway PostgreSQL cluster on a loopback port in a temp dir, as the `postgres` user when run
 * as root (initdb refuses root). Used by the global setup when .ci/run has not started one.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BIN_DIRS = ['/usr/lib/postgresql/17/bin', '/usr/lib/postgresql/16/bin', '/usr/lib/postgresql/15/bin'];

export function pgBinDir(): string | undefined {
  return BIN_DIRS.find((d) => existsSync(join(d, 'initdb')));
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

export interface Cluster {
  url: string;
  /** Stop the server (fast shutdown: connections are cut), keeping its data. */
  pause(): void;
  /** Start it again on the same port. */
  resume(): void;
  stop(): void;
}

export async function startCluster(bin: string): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-pg-'));
  const root = process.getuid?.() === 0;
  if (root) chownSync(dir, Number(execFileSync('id', ['-u', 'postgres']).toString().trim()), Number(execFileSync('id', ['-g', 'postgres']).toString().trim()));
  const as = (cmd: string, args: string[]) => (root ? spawnSync('runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args], { encoding: 'utf8' }) : spawnSync(join(bin, cmd), args, { encoding: 'utf8' }));
  const user = root ? 'postgres' : (process.env.USER ?? 'postgres');
  const init = as('initdb', ['-D', join(dir, 'data'), '-A', 'trust', '-U', user, '--no-sync']);
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
  const port = await freePort();
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300`;
  const start = () => {
    const run = as('pg_ctl', ['-D', join(dir, 'data'), '-o', opts, '-l', join(dir, 'log'), '-w', 'start']);
    if (run.status !== 0) throw new Error(`pg_ctl start failed: ${run.stderr}${run.stdout}`);
  };
  start();
  return {
    url: `postgres://${user}@127.0.0.1:${port}/postgres`,
    pause() {
      as('pg_ctl', ['-D', join(dir, 'data'), '-m', 'fast', '-w', 'stop']);
    },
    resume: start,
    stop() {
      as('pg_ctl', ['-D', join(dir, 'data'), '-m', 'immediate', 'stop']);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
