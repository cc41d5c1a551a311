/**
 * The process: read the config, open the ledger, settle what a dead predecessor left open,
 * listen, and handle signals (SIGTERM/SIGINT: drain and exit 0; SIGHUP or a file change: reload).
 */
import { unwatchFile, watchFile } from 'node:fs';
import { buildApp } from './app.js';
import { loadConfigFile } from './config/load.js';
import { createDeps } from './deps.js';
import { warmTokenizers } from './estimate/tokenizer.js';
import { createLogger } from './log.js';

function configPath(argv: string[]): string {
  const i = argv.indexOf('--config');
  if (i !== -1 && argv[i + 1]) return argv[i + 1] as string;
  const eq = argv.find((a) => a.startsWith('--config='));
  if (eq) return eq.slice('--config='.length);
  return process.env.TOLLGATE_CONFIG || 'config/tollgate.yaml';
}

async function main(): Promise<void> {
  const file = configPath(process.argv.slice(2));
  const log = createLogger({ level: process.env.TOLLGATE_LOG_LEVEL ?? 'info' });
  const loaded = loadConfigFile(file);
  if (!loaded.ok) {
    // Said twice: plainly for a person at a terminal, and as a log line for whatever collects stdout.
    process.stderr.write(`tollgate: invalid config ${loaded.file}:\n${loaded.problems.map((p) => `  ${p}`).join('\n')}\n`);
    log.fatal({ file: loaded.file, problems: loaded.problems }, `invalid config ${loaded.file}`);
    log.flush(() => process.exit(1));
    return;
  }
  const config = loaded.config;
  for (const w of config.warnings) log.warn(w);

  const deps = createDeps(config, { log });
  const recovered = deps.budgets.recover((name) => deps.store.team(name));
  if (recovered.length > 0) {
    log.warn({ count: recovered.length }, 'settled reservations left open by a previous process at their worst case (flagged estimated)');
  }
  warmTokenizers(); // build the tokenizers now, not inside the first estimate
  await deps.bodies.warm();
  const app = await buildApp(deps);

  const reload = (why: string): void => {
    const next = loadConfigFile(file);
    if (!next.ok) {
      log.error({ problems: next.problems, file: next.file }, `config reload refused (${why}); keeping the running config`);
      return;
    }
    deps.store.swap(next.config);
    for (const w of next.config.warnings) log.warn(w);
    log.info({ why }, 'config reloaded');
  };
  process.on('SIGHUP', () => reload('SIGHUP'));
  // Polling the file's stat survives editors that replace the file rather than write into it.
  watchFile(file, { interval: 1000, persistent: false }, (cur, prev) => {
    if (cur.mtimeMs !== prev.mtimeMs || cur.size !== prev.size) reload('file changed');
  });

  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    unwatchFile(file);
    log.info({ signal }, 'draining in-flight requests');
    const force = setTimeout(() => {
      log.warn('grace period over; closing remaining connections');
      app.server.closeAllConnections();
    }, config.server.shutdownGraceMs);
    force.unref();
    // server.close() ends only connections idle at the time of the call; a keep-alive
    // connection whose stream finishes later would hold the exit until the grace timer.
    const idle = setInterval(() => app.server.closeIdleConnections(), 100);
    await app.close();
    clearInterval(idle);
    // Streams cut by the grace period settle as their sockets close: give them a moment, so the
    // ledger closes with nothing open (anything still open is settled at worst case next start).
    for (let waited = 0; deps.budgets.openReservations() > 0 && waited < 2000; waited += 20) {
      await new Promise((r) => setTimeout(r, 20));
    }
    await deps.outbox.stop();
    await deps.pools.close();
    await deps.bodies.close();
    await deps.ledger.close();
    log.info('stopped');
    log.flush(() => process.exit(0));
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  // A bug in one request must not take every other team's traffic down with it: log and go on.
  process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled rejection'));
  process.on('uncaughtException', (err) => log.error({ err }, 'uncaught exception'));

  // Signals are handled before the port opens: a SIGHUP sent as soon as the server answers must
  // reload, not kill it (SIGHUP's default action).
  await app.listen({ host: config.server.host, port: config.server.port });
  deps.outbox.start();
  log.info({ config: loaded.config.file, db: config.database.path }, 'tollgate ready');
}

main().catch((err: unknown) => {
  process.stderr.write(`tollgate: failed to start: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
