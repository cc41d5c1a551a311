/**
 * WAL checkpoints off the request path. SQLite's automatic checkpoint runs inside whichever
 * commit crosses the threshold, stalling that request for the checkpoint's copy and fsync (it
 * showed as a ×19 p99 in the benchmark). Instead, a worker thread with its own connection runs a
 * PASSIVE checkpoint every interval: it never blocks the writer.
 *
 * A checkpoint alone does not shrink the WAL: SQLite starts the log over only when a write begins
 * after every frame has been copied. Under steady writes the worker never wins that race (frames
 * arrive while it copies), and the WAL, and with it the process's memory, grew without end (1 GB
 * over 250,000 requests in the benchmark). So when a pass finds a large log, the writer's own
 * connection copies the few frames written during that pass (a few milliseconds, once in a
 * while): nothing can be written in between, so its next commit starts the log over.
 */
import type Database from 'better-sqlite3';
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

/** A WAL this long (frames of 4 KiB: 16 MiB) is restarted by the writer after a worker's pass. */
export const RESTART_AFTER_FRAMES = 4096;

export class Checkpointer {
  private readonly worker: Worker;
  private readonly exited: Promise<void>;

  constructor(writer: Database.Database, path: string, intervalMs: number) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path, intervalMs, driver } });
    this.worker.unref();
    this.worker.on('message', (msg: { ok: boolean; result?: CheckpointResult }) => {
      const r = msg.result;
      if (!msg.ok || !r || r.log < RESTART_AFTER_FRAMES || r.checkpointed < r.log || !writer.open) return;
      try {
        writer.pragma('wal_checkpoint(PASSIVE)');
      } catch {
        // A failed finish only leaves the log for the next pass.
      }
    });
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
