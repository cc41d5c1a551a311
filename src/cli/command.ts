/** What every CLI command is: its help text and a run over its own arguments. */
import { parseArgs, type ParseArgsConfig } from 'node:util';

export interface Io {
  out(text: string): void;
  err(text: string): void;
  now(): number;
}

export interface Command {
  help: string;
  run(args: string[], io: Io): Promise<number>;
}

/** A mistake in how the command was called: shown with the command's help, exit 2. */
export class UsageError extends Error {}

export function usageError(err: unknown): string | undefined {
  if (err instanceof UsageError) return err.message;
  // util.parseArgs' own errors (unknown option, missing value) are usage mistakes too.
  const code = (err as { code?: string } | undefined)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS') ? (err as Error).message : undefined;
}

export function parse<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T) {
  return parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
}
