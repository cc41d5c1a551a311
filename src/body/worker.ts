/**
 * The body worker: the work on a request body that can take long (parsing a body of many
 * megabytes, counting its tokens, re-serialising it) runs here, on its own thread, so no body a
 * client sends can hold the event loop that serves every other team. Each job parses the body
 * again from the shared bytes: the worker keeps nothing between jobs.
 */
import { parentPort } from 'node:worker_threads';
import { TollgateError } from '../errors.js';
import { DEFAULT_IMAGE_TOKENS } from '../estimate/ceilings.js';
import { countedTextTokens, estimatePromptTokens } from '../estimate/prompt.js';
import { warmTokenizers } from '../estimate/tokenizer.js';
import { upstreamRequestBody } from '../upstream/request-body.js';
import { readBody } from './facts.js';
import type { Job, JobResult } from './jobs.js';

function run(job: Job): JobResult {
  const text = job.text ?? Buffer.from(job.shared as SharedArrayBuffer).toString('utf8');
  const bytes = job.text === undefined ? (job.shared as SharedArrayBuffer).byteLength : Buffer.byteLength(text, 'utf8');
  try {
    const { json, facts } = readBody(text, bytes);
    switch (job.kind) {
      case 'analyze': {
        // The model as priced is not known here yet: the prefix only picks a provider, not a tokenizer.
        const model = facts.model.slice(facts.model.lastIndexOf('/') + 1);
        return { kind: 'analyzed', facts, promptEstimate: estimatePromptTokens(json, model, DEFAULT_IMAGE_TOKENS) };
      }
      case 'count':
        return { kind: 'counted', tokens: countedTextTokens(json, job.model, bytes) };
      case 'rewrite':
        return { kind: 'rewritten', text: upstreamRequestBody(json, text, job.changes) };
    }
  } catch (err) {
    if (err instanceof TollgateError) return { kind: 'refused', code: err.code, message: err.message };
    throw err;
  }
}

const port = parentPort;
if (port) {
  warmTokenizers();
  port.on('message', (msg: { id: number; job: Job }) => {
    let result: JobResult;
    try {
      result = run(msg.job);
    } catch (err) {
      result = { kind: 'failed', message: (err as Error)?.message ?? String(err) };
    }
    port.postMessage({ id: msg.id, result });
  });
  port.postMessage({ id: 0, result: { kind: 'ready' } });
}
