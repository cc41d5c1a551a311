/**
 * Request bodies without stalling the event loop. An ordinary body (up to INLINE_BYTES) is parsed
 * and walked right here: that takes well under a millisecond. A larger one (up to the body limit,
 * 20 MB by default) is copied once into shared memory and parsed by the body worker, and so is
 * every tokenizer count for a worst case: those can take long, and the event loop serves every
 * other team's requests and streams meanwhile.
 */
import { Worker } from 'node:worker_threads';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TollgateError } from '../errors.js';
import { countedTextTokens, estimatePromptTokens } from '../estimate/prompt.js';
import { upstreamRequestBody, type UpstreamChanges } from '../upstream/request-body.js';
import { readBody, type BodyFacts, type Obj } from './facts.js';
import type { Job, JobResult } from './jobs.js';

/** Bodies up to this size are parsed on the event loop (JSON.parse of 256 KB: ~1 ms). */
const INLINE_BYTES = 256 * 1024;
/** Bodies up to this size are counted on the event loop: even hostile text counts in a few ms. */
const INLINE_COUNT_BYTES = 2 * 1024;
/** Counts waiting beyond this are not made: the byte bound stands (refusing rather than stalling). */
const MAX_QUEUED_COUNTS = 16;

export interface ProxiedBody {
  facts: BodyFacts;
  /** Ordinary bodies: parsed here. Large ones live only as shared bytes, read by the worker. */
  local: { json: Obj; text: string } | undefined;
  shared: SharedArrayBuffer | undefined;
  /** The worker's estimate of a large body's prompt tokens (ledger estimates, when usage is missing). */
  promptEstimate: number | undefined;
}

export class BodyAnalyzer {
  private worker: Worker | undefined;
  private ready: Promise<void> | undefined;
  private readonly pending = new Map<number, { resolve(r: JobResult): void; reject(e: Error): void; count: boolean }>();
  private nextId = 1;

  async read(buf: Buffer): Promise<ProxiedBody> {
    if (buf.length <= INLINE_BYTES) {
      const text = buf.toString('utf8');
      const { json, facts } = readBody(text, buf.length);
      return { facts, local: { json, text }, shared: undefined, promptEstimate: undefined };
    }
    const shared = new SharedArrayBuffer(buf.length);
    Buffer.from(shared).set(buf);
    const r = await this.run({ kind: 'analyze', shared });
    if (r.kind !== 'analyzed') throw unexpected(r);
    return { facts: r.facts, local: undefined, shared, promptEstimate: r.promptEstimate };
  }

  /**
   * The tokenizer count of the body's text for a worst case (SPEC §5), never above its byte
   * bound; undefined when the worker is too busy to count soon, and the byte bound stands.
   */
  async countText(body: ProxiedBody, model: string): Promise<number | undefined> {
    if (body.local && body.facts.bytes <= INLINE_COUNT_BYTES) return countedTextTokens(body.local.json, model, body.facts.bytes);
    if ([...this.pending.values()].filter((p) => p.count).length >= MAX_QUEUED_COUNTS) return undefined;
    const r = await this.run({ kind: 'count', model, ...source(body) });
    if (r.kind !== 'counted') throw unexpected(r);
    return r.tokens;
  }

  /** The bytes to forward: the client's own unless something must change. */
  async upstream(body: ProxiedBody, changes: Omit<UpstreamChanges, 'canonical'>): Promise<string | Buffer> {
    const all = { ...changes, canonical: body.facts.duplicateKeys };
    if (body.local) return upstreamRequestBody(body.local.json, body.local.text, all);
    const shared = body.shared as SharedArrayBuffer;
    if (all.model === body.facts.model && !all.injectUsage && !all.canonical) return Buffer.from(shared);
    const r = await this.run({ kind: 'rewrite', changes: all, shared });
    if (r.kind !== 'rewritten') throw unexpected(r);
    return r.text;
  }

  /** Our best count of the prompt for a ledger estimate; bounded in time. */
  estimatePrompt(body: ProxiedBody, model: string, imageTokens: number): number {
    return body.local ? estimatePromptTokens(body.local.json, model, imageTokens) : (body.promptEstimate ?? body.facts.bytes);
  }

  /** Start the worker now (it loads the tokenizers), not inside the first request that needs it. */
  async warm(): Promise<void> {
    await this.start();
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    this.ready = undefined;
    if (w) await w.terminate();
  }

  private async run(job: Job): Promise<JobResult> {
    await this.start();
    const worker = this.worker as Worker;
    const id = this.nextId++;
    const result = await new Promise<JobResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, count: job.kind === 'count' });
      worker.postMessage({ id, job });
    });
    if (result.kind === 'refused') throw new TollgateError(result.code, result.message);
    if (result.kind === 'failed') throw new Error(`body worker: ${result.message}`);
    return result;
  }

  private start(): Promise<void> {
    this.ready ??= new Promise<void>((resolve, reject) => {
      const worker = spawnWorker();
      worker.unref(); // an idle worker never holds the process open
      this.worker = worker;
      worker.on('message', (msg: { id: number; result: JobResult }) => {
        if (msg.id === 0) return resolve();
        const p = this.pending.get(msg.id);
        this.pending.delete(msg.id);
        p?.resolve(msg.result);
      });
      const fail = (err: Error): void => {
        // Every job in flight fails (its request gets an error); the next job starts a new worker.
        if (this.worker === worker) {
          this.worker = undefined;
          this.ready = undefined;
        }
        for (const p of this.pending.values()) p.reject(err);
        this.pending.clear();
        reject(err);
      };
      worker.on('error', fail);
      worker.on('exit', (code) => fail(new Error(`body worker exited (${code})`)));
    });
    return this.ready;
  }
}

function source(body: ProxiedBody): { text: string } | { shared: SharedArrayBuffer } {
  return body.local ? { text: body.local.text } : { shared: body.shared as SharedArrayBuffer };
}

function unexpected(r: JobResult): Error {
  return new Error(`body worker answered ${r.kind}`);
}

/** From TypeScript sources (tests, `npm start` through tsx) the worker loads through tsx too. */
function spawnWorker(): Worker {
  const ext = extname(fileURLToPath(import.meta.url));
  const file = new URL(`./worker${ext}`, import.meta.url);
  if (ext !== '.ts') return new Worker(file);
  const boot = `import { register } from 'tsx/esm/api'; register(); await import(${JSON.stringify(file.href)});`;
  return new Worker(boot, { eval: true });
}
