/**
 * Tollgate as a real child process (for SIGKILL, SIGTERM and SIGHUP tests): writes a YAML config,
 * starts `src/server.ts` under tsx on port 0 and reads the bound address from its log.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import type { RawConfig } from './app.js';
import { sinkWrite } from './secret-sink.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSX_LOADER = createRequire(import.meta.url).resolve('tsx');

export interface ServerProcess {
  proc: ChildProcess;
  url: string;
  /** Every stdout line so far (pino JSON). */
  lines: string[];
  stderr: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function writeConfig(path: string, raw: RawConfig): void {
  writeFileSync(path, stringify(raw));
}

/** The sources through tsx (the default), or other node arguments, e.g. the compiled build. */
export async function spawnServer(
  configPath: string, env: Record<string, string> = {}, timeoutMs = 30_000, entry: string[] = ['--import', TSX_LOADER, 'src/server.ts'],
): Promise<ServerProcess> {
  const proc = spawn(process.execPath, [...entry, '--config', configPath], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const stderr: string[] = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  );
  let buffered = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${lines.join('\n')}\n${stderr.join('')}`)), timeoutMs);
    proc.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      let nl: number;
      while ((nl = buffered.indexOf('\n')) !== -1) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        lines.push(line);
        sinkWrite(line);
        const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(line);
        if (m?.[1]) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      }
    });
    proc.stderr!.on('data', (chunk: Buffer) => {
      stderr.push(chunk.toString('utf8'));
      sinkWrite(chunk.toString('utf8'));
    });
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before listening:\n${stderr.join('')}`));
    });
  });
  return { proc, url, lines, stderr, exited };
}
