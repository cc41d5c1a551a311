/**
 * `npx tollgate …`: one entry point, subcommands, `--help` for each. Arguments are parsed with
 * Node's own util.parseArgs (strict: an unknown option is an error, never ignored).
 */
import { migrateLedger } from './migrate-ledger.js';
import { pricesCheck, pricesShow } from './prices.js';
import { usageError, type Command, type Io } from './command.js';

const COMMANDS: Record<string, Command> = {
  'prices show': pricesShow,
  'prices check': pricesCheck,
  'migrate-ledger': migrateLedger,
};

const HELP = `tollgate — an OpenAI-compatible cost-monitoring proxy

Usage: tollgate <command> [options]

Commands:
  prices show MODEL        the rates a model is billed at, and where they come from
  prices check --against FILE
                           the price table against a LiteLLM model_prices_and_context_window.json
  migrate-ledger --from FILE --to postgres://…
                           move an SQLite ledger into PostgreSQL (to run several instances)

Run \`tollgate <command> --help\` for a command's options. The server itself: npm start.
`;

export async function main(argv: string[], io: Io): Promise<number> {
  const [group, name] = argv;
  if (group === undefined || group === '--help' || group === '-h' || group === 'help') {
    io.out(HELP);
    return group === undefined ? 1 : 0;
  }
  const single = COMMANDS[group];
  const command = single ?? COMMANDS[`${group} ${name ?? ''}`];
  const rest = single ? argv.slice(1) : argv.slice(2);
  if (!command) {
    const known = Object.keys(COMMANDS).filter((c) => c.startsWith(`${group} `));
    io.err(known.length > 0 ? `tollgate ${group}: expected one of: ${known.map((k) => k.split(' ')[1]).join(', ')}\n` : `tollgate: unknown command '${group}'\n\n${HELP}`);
    return 2;
  }
  try {
    return await command.run(rest, io);
  } catch (err) {
    const message = usageError(err);
    if (message === undefined) throw err;
    io.err(`tollgate ${single ? group : `${group} ${name}`}: ${message}\n\n${command.help}`);
    return 2;
  }
}
