/**
 * The whole suite's traffic in one file: every log line and every response body of every app a
 * test builds (in any worker), and every line a spawned server prints. The global teardown
 * (test/global-setup.ts) searches it for secrets once all tests have run.
 */
import { appendFileSync } from 'node:fs';

export const SINK_ENV = 'TOLLGATE_TEST_SECRET_SINK';

export function sinkWrite(text: string): void {
  const path = process.env[SINK_ENV];
  if (path) appendFileSync(path, text.endsWith('\n') ? text : `${text}\n`);
}
