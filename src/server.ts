/**
 * The process: read the config, open the ledger, settle what a dead predecessor left open,
 * listen, and handle signals (SIGTERM/SIGINT: drain and exit 0; SIGHUP or a file change: reload).
 */
import { unwatchFile, watchFile } from 'node:fs';
import { buildApp } from './app.js';
import { chooseConfigFile } from './config/config-path.js';
import { loadConfigFile } from './config/load.js';
import type { Config } from './config/types.js';
import { createDeps } from './deps.js';
import { TollgateError } from './errors.js';
import { LedgerLockedError } from './ledger/file-lock.js';
import { openLedger } from './ledger/open.js';
import { warmTokenizers } from './estimate/tokenizer.js';
import { createLogger } from './log.js';

async function main(): Promise<void> {
  const log = createLogger({ level: process.env.TOLLGATE_LOG_LEVEL ?? 'info' });
  const choice = chooseConfigFile(process.argv.slice(2), process.env);
  if (!choice.ok) return fail(log, choice.message);
  if (choice.note) log.info({ config: choice.file }, choice.note);
  const file = choice.file;
  const loaded = loadConfigFile(file);
  if (!loaded.ok) {
    // Said twice: plainly for a person at a terminal, and as a log line for whatever collects stdout.
    process.stderr.write(`tollgate: invalid config ${loaded.file}:\n${loaded.problems.map((p) => `  ${p}`).join('\n')}\n`);
    log.fatal({ file: loaded.file, problems: loaded.problems }, `invalid config ${loaded.file}`);
    log.flush(() => process.exit(1));
    return;
  }
  const config = loaded.config;
  const { host, port } = config.server;
  for (const w of config.warnings) log.warn(w);
  logPriceFamilies(log, config);

  let deps: ReturnType<typeof createDeps>;
  try {
    deps = createDeps(config, { log, ledger: await openLedger(config, { clock: Date.now, log }) });
  } catch (err) {
    if (err instanceof LedgerLockedError || (err instanceof TollgateError && err.code === 'ledger_unavailable')) return fail(log, err.message);
    throw err;
  }
  const recovered = await deps.budgets.recover((name) => deps.store.team(name));
  const stopRecovering = deps.budgets.keepRecovering((name) => deps.store.team(name));
  if (recovered.length > 0) {
    log.warn({ count: recovered.length }, 'settled reservations left open by a previous process at their worst case (flagged estimated)');
  }
  warmTokenizers(); // build the tokenizers now, not inside the first estimate
  // The body worker loads its own tokenizers meanwhile; a large body before then waits for it.
  deps.bodies.warm().catch((err: unknown) => log.error({ err }, 'the body worker failed to start'));
  const app = await buildApp(deps);

  const reload = (why: string): void => {
    const next = loadConfigFile(file);
    if (!next.ok) {
      log.error({ problems: next.problems, file: next.file }, `config reload refused (${why}); keeping the running config`);
      return;
    }
    deps.store.swap(next.config);
    for (const w of next.config.warnings) log.warn(w);
    logPriceFamilies(log, next.config);
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
    stopRecovering();
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
  try {
    await app.listen({ host, port });
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'EADDRINUSE') return fail(log, `cannot listen on ${host}:${port}: the address is already in use (another Tollgate?). Stop it or set server.port in ${file}.`);
    if (code === 'EACCES') return fail(log, `cannot listen on ${host}:${port}: permission denied (ports below 1024 need privileges). Set server.port in ${file}.`);
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') return fail(log, `cannot listen on ${host}:${port}: no such local address. Set server.host in ${file}.`);
    throw err;
  }
  deps.outbox.start();
  log.info({ config: loaded.config.file, db: config.database.path }, 'tollgate ready');
}

/** Whose price list each provider uses, and why (SPEC §9): one line per provider. */
function logPriceFamilies(log: ReturnType<typeof createLogger>, config: Config): void {
  for (const p of config.providers) {
    log.info({ provider: p.name, price_family: p.priceFamily }, `provider ${p.name} prices as ${p.priceFamily} (${p.priceFamilyReason})`);
  }
}

/** A start-up mistake, said as a sentence (stderr for a person, a log line for collectors), then exit 1. */
function fail(log: ReturnType<typeof createLogger>, message: string): void {
  process.stderr.write(`tollgate: ${message}\n`);
  log.fatal(message);
  log.flush(() => process.exit(1));
}

main().catch((err: unknown) => {
  process.stderr.write(`tollgate: failed to start: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
