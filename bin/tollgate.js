#!/usr/bin/env node
// The `tollgate` command (npx tollgate …): the TypeScript sources through tsx in a checkout, the
// compiled build where only that ships (the Docker image, which has no tsx: a dev dependency).
import { existsSync } from 'node:fs';

const source = new URL('../src/cli/main.ts', import.meta.url);
let entry = new URL('../dist/cli/main.js', import.meta.url);
const tsx = existsSync(source) ? await import('tsx/esm/api').catch(() => undefined) : undefined;
if (tsx) {
  tsx.register();
  entry = source;
}
const { main } = await import(entry.href);
try {
  process.exitCode = await main(process.argv.slice(2), {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    now: () => Date.now(),
  });
} catch (err) {
  process.stderr.write(`tollgate: ${err?.message ?? String(err)}\n`);
  process.exitCode = 1;
}
