/**
 * WAL checkpoints off the request path. SQLite's automatic checkpoint runs inside whichever
 * commit crosses the threshold, stalling that request for the checkpoint's copy and fsync (it
 * showed as a ×19 p99 in the benchmark). Instead, a worker thread with its own connection runs a
 * PASSIVE checkpoint every interval: it never blocks the writer, and the WAL stays bounded.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path);
db.pragma('busy_timeout = 1000');
const timer = setInterval(() => {
  try {
    const [result] = db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ ok: true, result });
  } catch (err) {
    parentPort.postMessage({ ok: false, error: String(err && err.message || err) });
  }
}, workerData.intervalMs);
parentPort.on('message', (msg) => {
  if (msg === 'stop') {
    clearInterval(timer);
    db.close();
    parentPort.close();
  }
});
`;

export interface CheckpointResult {
  busy: number;
  log: number;
  checkpointed: number;
}

export class Checkpointer {
  private readonly worker: Worker;
  private readonly exited: Promise<void>;

  constructor(path: string, intervalMs: number, onResult?: (r: { ok: boolean; result?: CheckpointResult; error?: string }) => void) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path, intervalMs, driver } });
    this.worker.unref();
    if (onResult) this.worker.on('message', onResult);
    this.worker.on('error', () => undefined); // a failed checkpoint only delays the next one
    this.exited = new Promise((resolve) => this.worker.once('exit', () => resolve()));
  }

  /** Waits (at most a second) for the last checkpoint; keeps the process up meanwhile. */
  async stop(): Promise<void> {
    this.worker.ref();
    this.worker.postMessage('stop');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.exited, new Promise((r) => (timer = setTimeout(r, 1000)))]);
    clearTimeout(timer);
    await this.worker.terminate();
  }
}
