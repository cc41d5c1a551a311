// A fake LLM provider on a real node:http server. It speaks enough of the OpenAI
// and Anthropic wire formats (streaming included) for Tollgate's proxy tests to
// point at it, and gives tests control over timing and failure modes: gated SSE,
// streams cut mid-way, hung requests, connection resets.
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  rawBody: string;
  body: any; // JSON.parse(rawBody), or undefined when the body is empty / not JSON
}

export interface Gate {
  /** Allow n more SSE events through (default 1). */
  release(n?: number): void;
  /** Let every remaining event through, now and later. */
  releaseAll(): void;
}

export type Reply =
  | { kind: 'json'; status?: number; body: unknown; headers?: Record<string, string> }
  // events are complete SSE event texts including the trailing "\n\n".
  // gate: each event waits for one release. cutAfter: destroy the socket after that many events.
  | { kind: 'sse'; events: string[]; gate?: Gate; cutAfter?: number; headers?: Record<string, string> }
  // contentType defaults to application/json: "claims JSON, isn't" is the realistic garbage case.
  | { kind: 'raw'; status: number; body: string | Buffer; contentType?: string }
  | { kind: 'hang' }
  | { kind: 'reset' }
  | { kind: 'delay'; ms: number; then: Reply };

export interface FakeProvider {
  url: string; // http://127.0.0.1:PORT (Anthropic base URL)
  openaiBaseUrl: string; // `${url}/v1`
  requests: RecordedRequest[];
  /** One-shot reply, consumed FIFO; takes priority over setHandler and the default. */
  enqueue(reply: Reply | ((req: RecordedRequest) => Reply)): void;
  /** Persistent override; return undefined to fall through to the default handler. */
  setHandler(h: ((req: RecordedRequest) => Reply | undefined) | undefined): void;
  openConnections(): number;
  /** Requests whose client went away before the response finished (not counting server-side kills). */
  aborted: RecordedRequest[];
  close(): Promise<void>;
}

// ---------------------------------------------------------------- usage constants

export const OPENAI_USAGE = {
  prompt_tokens: 1200,
  completion_tokens: 300,
  total_tokens: 1500,
  prompt_tokens_details: { cached_tokens: 200 },
  completion_tokens_details: { reasoning_tokens: 50 },
};
export const ANTHROPIC_USAGE = {
  input_tokens: 900,
  output_tokens: 250,
  cache_read_input_tokens: 400,
  cache_creation_input_tokens: 100,
  cache_creation: { ephemeral_5m_input_tokens: 60, ephemeral_1h_input_tokens: 40 },
};
export const EMBEDDING_USAGE = { prompt_tokens: 64, total_tokens: 64 };
export const RESPONSES_USAGE = {
  input_tokens: 800,
  input_tokens_details: { cached_tokens: 100 },
  output_tokens: 200,
  output_tokens_details: { reasoning_tokens: 30 },
  total_tokens: 1000,
};
export const STREAM_TEXT_PARTS = ['Hel', 'lo', ' world', '!'];

// ---------------------------------------------------------------- wire-format builders

let idCounter = 0;
const nextId = (prefix: string) => `${prefix}fake${++idCounter}`;
const now = () => Math.floor(Date.now() / 1000);

/** OpenAI-style SSE: data lines only, no event names. */
const dataEvent = (payload: unknown) => `data: ${JSON.stringify(payload)}\n\n`;
/** Anthropic / Responses-style SSE: a named event whose data repeats the type. */
const namedEvent = (type: string, payload: object) =>
  `event: ${type}\ndata: ${JSON.stringify({ type, ...payload })}\n\n`;
const DONE = 'data: [DONE]\n\n';

export function openaiChatStreamEvents(opts: {
  model: string;
  parts?: string[];
  includeUsage: boolean;
  usage?: object;
}): string[] {
  const parts = opts.parts ?? STREAM_TEXT_PARTS;
  const base = { id: nextId('chatcmpl-'), object: 'chat.completion.chunk', created: now(), model: opts.model, system_fingerprint: 'fp_fake' };
  // Real OpenAI puts "usage":null on every chunk only when include_usage is on.
  const usageNull = opts.includeUsage ? { usage: null } : {};
  const chunk = (delta: object, finish_reason: string | null) =>
    dataEvent({ ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason }], ...usageNull });
  const events = [
    chunk({ role: 'assistant', content: '', refusal: null }, null),
    ...parts.map((p) => chunk({ content: p }, null)),
    chunk({}, 'stop'),
  ];
  if (opts.includeUsage) events.push(dataEvent({ ...base, choices: [], usage: opts.usage ?? OPENAI_USAGE }));
  events.push(DONE);
  return events;
}

export function completionsStreamEvents(opts: {
  model: string;
  parts?: string[];
  includeUsage: boolean;
  usage?: object;
}): string[] {
  const parts = opts.parts ?? STREAM_TEXT_PARTS;
  const base = { id: nextId('cmpl-'), object: 'text_completion', created: now(), model: opts.model, system_fingerprint: 'fp_fake' };
  const usageNull = opts.includeUsage ? { usage: null } : {};
  const chunk = (text: string, finish_reason: string | null) =>
    dataEvent({ ...base, choices: [{ text, index: 0, logprobs: null, finish_reason }], ...usageNull });
  const events = [...parts.map((p) => chunk(p, null)), chunk('', 'stop')];
  if (opts.includeUsage) events.push(dataEvent({ ...base, choices: [], usage: opts.usage ?? OPENAI_USAGE }));
  events.push(DONE);
  return events;
}

export function anthropicStreamEvents(opts: { model: string; parts?: string[]; usage?: typeof ANTHROPIC_USAGE }): string[] {
  const parts = opts.parts ?? STREAM_TEXT_PARTS;
  const u = opts.usage ?? ANTHROPIC_USAGE;
  // message_start carries the input-side usage and a placeholder output_tokens: 1;
  // the cumulative output count only arrives in message_delta, as in the real API.
  const startUsage = {
    input_tokens: u.input_tokens,
    cache_read_input_tokens: u.cache_read_input_tokens,
    cache_creation_input_tokens: u.cache_creation_input_tokens,
    cache_creation: u.cache_creation,
    output_tokens: 1,
  };
  return [
    namedEvent('message_start', {
      message: {
        id: nextId('msg_'), type: 'message', role: 'assistant', model: opts.model, content: [],
        stop_reason: null, stop_sequence: null, usage: startUsage,
      },
    }),
    namedEvent('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
    namedEvent('ping', {}),
    ...parts.map((text) => namedEvent('content_block_delta', { index: 0, delta: { type: 'text_delta', text } })),
    namedEvent('content_block_stop', { index: 0 }),
    namedEvent('message_delta', {
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { output_tokens: u.output_tokens },
    }),
    namedEvent('message_stop', {}),
  ];
}

function responseObject(model: string, text: string, status: string, usage: object | null, id = nextId('resp_'), msgId = nextId('msg_')) {
  const done = status !== 'in_progress';
  return {
    id, object: 'response', created_at: now(), status, error: null,
    incomplete_details: status === 'incomplete' ? { reason: 'max_output_tokens' } : null,
    instructions: null, max_output_tokens: null, model,
    output: done
      ? [{ id: msgId, type: 'message', status, role: 'assistant', content: [{ type: 'output_text', text, annotations: [], logprobs: [] }] }]
      : [],
    parallel_tool_calls: true, previous_response_id: null, reasoning: { effort: null, summary: null },
    store: true, temperature: 1, text: { format: { type: 'text' } }, tool_choice: 'auto', tools: [],
    top_p: 1, truncation: 'disabled', usage, user: null, metadata: {},
  };
}

export function responsesStreamEvents(opts: {
  model: string;
  parts?: string[];
  usage?: object;
  final?: 'response.completed' | 'response.incomplete';
}): string[] {
  const parts = opts.parts ?? STREAM_TEXT_PARTS;
  const text = parts.join('');
  const final = opts.final ?? 'response.completed';
  const finalStatus = final === 'response.completed' ? 'completed' : 'incomplete';
  const respId = nextId('resp_');
  const itemId = nextId('msg_');
  let seq = 0;
  const ev = (type: string, payload: object) => namedEvent(type, { ...payload, sequence_number: seq++ });
  const inProgress = responseObject(opts.model, '', 'in_progress', null, respId, itemId);
  const loc = { item_id: itemId, output_index: 0, content_index: 0 };
  // The full item/part lifecycle is emitted (not just deltas) because the SDK's
  // ResponseStream accumulator needs output_item.added/content_part.added to place deltas.
  return [
    ev('response.created', { response: inProgress }),
    ev('response.in_progress', { response: inProgress }),
    ev('response.output_item.added', { output_index: 0, item: { id: itemId, type: 'message', status: 'in_progress', role: 'assistant', content: [] } }),
    ev('response.content_part.added', { ...loc, part: { type: 'output_text', text: '', annotations: [], logprobs: [] } }),
    ...parts.map((delta) => ev('response.output_text.delta', { ...loc, delta, logprobs: [] })),
    ev('response.output_text.done', { ...loc, text, logprobs: [] }),
    ev('response.content_part.done', { ...loc, part: { type: 'output_text', text, annotations: [], logprobs: [] } }),
    ev('response.output_item.done', {
      output_index: 0,
      item: { id: itemId, type: 'message', status: finalStatus, role: 'assistant', content: [{ type: 'output_text', text, annotations: [], logprobs: [] }] },
    }),
    ev(final, { response: responseObject(opts.model, text, finalStatus, opts.usage ?? RESPONSES_USAGE, respId, itemId) }),
  ];
}

// ---------------------------------------------------------------- gates

// The wait side of a gate is internal: tests only release, the server only waits.
const gateWaiters = new WeakMap<Gate, () => Promise<void>>();

export function createGate(): Gate {
  let permits = 0;
  let open = false;
  const waiters: Array<() => void> = [];
  const pump = () => {
    while (waiters.length > 0 && (open || permits > 0)) {
      if (!open) permits--;
      waiters.shift()?.();
    }
  };
  const gate: Gate = {
    release(n = 1) { permits += n; pump(); },
    releaseAll() { open = true; pump(); },
  };
  gateWaiters.set(gate, () => new Promise<void>((resolve) => { waiters.push(resolve); pump(); }));
  return gate;
}

// ---------------------------------------------------------------- default handler

function openaiError(status: number, message: string, code: string): Reply {
  return { kind: 'json', status, body: { error: { message, type: 'invalid_request_error', param: null, code } } };
}

/** Deterministic 8-dim vector; the SDK asks for base64 (packed float32 LE) unless told otherwise. */
function embedding(index: number, format: unknown): number[] | string {
  const vec = Array.from({ length: 8 }, (_, i) => Math.fround((index + 1) * 0.01 + i * 0.1));
  return format === 'base64' ? Buffer.from(new Float32Array(vec).buffer).toString('base64') : vec;
}

export function defaultReply(req: RecordedRequest): Reply {
  const b = req.body ?? {};
  const stream = b.stream === true;
  const includeUsage = b.stream_options?.include_usage === true;
  const text = STREAM_TEXT_PARTS.join('');
  const route = `${req.method} ${req.path.split('?')[0]}`;
  switch (route) {
    case 'POST /v1/chat/completions': {
      const model = b.model ?? 'gpt-4o';
      if (stream) return { kind: 'sse', events: openaiChatStreamEvents({ model, includeUsage }) };
      return { kind: 'json', body: {
        id: nextId('chatcmpl-'), object: 'chat.completion', created: now(), model, system_fingerprint: 'fp_fake',
        choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null, annotations: [] }, logprobs: null, finish_reason: 'stop' }],
        usage: OPENAI_USAGE,
      } };
    }
    case 'POST /v1/completions': {
      const model = b.model ?? 'gpt-3.5-turbo-instruct';
      if (stream) return { kind: 'sse', events: completionsStreamEvents({ model, includeUsage }) };
      return { kind: 'json', body: {
        id: nextId('cmpl-'), object: 'text_completion', created: now(), model, system_fingerprint: 'fp_fake',
        choices: [{ text, index: 0, logprobs: null, finish_reason: 'stop' }],
        usage: OPENAI_USAGE,
      } };
    }
    case 'POST /v1/embeddings': {
      // input: string | string[] | number[] (one token array) | number[][]
      const input: unknown = b.input;
      const count = Array.isArray(input) && input.length > 0 && typeof input[0] !== 'number' ? input.length : 1;
      return { kind: 'json', body: {
        object: 'list',
        data: Array.from({ length: count }, (_, index) => ({ object: 'embedding', index, embedding: embedding(index, b.encoding_format) })),
        model: b.model ?? 'text-embedding-3-small',
        usage: EMBEDDING_USAGE,
      } };
    }
    case 'POST /v1/responses': {
      const model = b.model ?? 'gpt-4o';
      if (stream) return { kind: 'sse', events: responsesStreamEvents({ model }) };
      return { kind: 'json', body: responseObject(model, text, 'completed', RESPONSES_USAGE) };
    }
    case 'GET /v1/models':
      return { kind: 'json', body: {
        object: 'list',
        data: ['gpt-4o', 'gpt-4o-mini', 'text-embedding-3-small'].map((id) => ({ id, object: 'model', created: 1715367049, owned_by: 'system' })),
      } };
    case 'POST /v1/messages': {
      const model = b.model ?? 'claude-sonnet-4-5';
      if (stream) return { kind: 'sse', events: anthropicStreamEvents({ model }) };
      return { kind: 'json', body: {
        id: nextId('msg_'), type: 'message', role: 'assistant', model, content: [{ type: 'text', text }],
        stop_reason: 'end_turn', stop_sequence: null, usage: ANTHROPIC_USAGE,
      } };
    }
    case 'POST /v1/messages/count_tokens':
      return { kind: 'json', body: { input_tokens: 42 } };
    default:
      if (isAnthropicPath(req.path)) {
        return { kind: 'json', status: 404, body: { type: 'error', error: { type: 'not_found_error', message: `Not found: ${route}` } } };
      }
      return openaiError(404, `Unknown request URL: ${route}`, 'unknown_url');
  }
}

const isAnthropicPath = (path: string) => path.startsWith('/v1/messages');

// ---------------------------------------------------------------- server

export async function startFakeProvider(): Promise<FakeProvider> {
  const requests: RecordedRequest[] = [];
  const aborted: RecordedRequest[] = [];
  const queue: Array<Reply | ((req: RecordedRequest) => Reply)> = [];
  let handler: ((req: RecordedRequest) => Reply | undefined) | undefined;
  const sockets = new Set<Socket>();
  const gates = new Set<Gate>();
  const timers = new Set<NodeJS.Timeout>();
  // Responses the fake itself tore down (reset, cutAfter, close()) are not client aborts.
  const killedByUs = new WeakSet<ServerResponse>();
  let closing = false;
  let closed: Promise<void> | undefined;

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      let body: any;
      try { body = rawBody ? JSON.parse(rawBody) : undefined; } catch { body = undefined; }
      const rec: RecordedRequest = { method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, rawBody, body };
      requests.push(rec); // recorded before any reply, so hung/reset requests are visible too
      const idHeader = isAnthropicPath(rec.path) ? 'request-id' : 'x-request-id';
      res.setHeader(idHeader, `req_${requests.length}`);
      res.on('close', () => {
        if (!res.writableFinished && !killedByUs.has(res) && !closing) aborted.push(rec);
      });
      let reply: Reply;
      try {
        const queued = queue.shift();
        reply = queued !== undefined
          ? (typeof queued === 'function' ? queued(rec) : queued)
          : (handler?.(rec) ?? defaultReply(rec));
      } catch (err) {
        reply = openaiError(500, `fake provider handler threw: ${String(err)}`, 'fake_handler_error');
      }
      void serve(req, res, reply).catch(() => res.destroy());
    });
  });

  const kill = (res: ServerResponse, reset: boolean): void => {
    killedByUs.add(res);
    const sock = res.socket;
    if (!sock) { res.destroy(); return; }
    // resetAndDestroy sends a TCP RST (ECONNRESET on the client); plain destroy is a FIN mid-body.
    if (reset) sock.resetAndDestroy(); else sock.destroy();
  };

  // Resolves once the chunk is handed to the kernel, or the response died meanwhile.
  const writeEvent = (res: ServerResponse, chunk: string) =>
    new Promise<void>((resolve) => {
      const done = () => { res.off('close', done); resolve(); };
      res.once('close', done);
      res.write(chunk, done);
    });

  async function serve(req: IncomingMessage, res: ServerResponse, reply: Reply): Promise<void> {
    if (res.destroyed || closing) return;
    switch (reply.kind) {
      case 'json': {
        const payload = JSON.stringify(reply.body);
        res.writeHead(reply.status ?? 200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), ...reply.headers });
        res.end(payload);
        return;
      }
      case 'raw': {
        const payload = typeof reply.body === 'string' ? Buffer.from(reply.body) : reply.body;
        res.writeHead(reply.status, { 'content-type': reply.contentType ?? 'application/json', 'content-length': payload.length });
        res.end(payload);
        return;
      }
      case 'hang':
        return; // the socket stays tracked; close() destroys it
      case 'reset':
        kill(res, true);
        return;
      case 'delay': {
        await new Promise<void>((resolve) => {
          const t = setTimeout(() => { timers.delete(t); resolve(); }, reply.ms);
          timers.add(t);
        });
        return serve(req, res, reply.then);
      }
      case 'sse': {
        res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', ...reply.headers });
        res.flushHeaders(); // so the client sees the response before the first gated event
        const wait = reply.gate ? gateWaiters.get(reply.gate) : undefined;
        if (reply.gate) gates.add(reply.gate);
        for (const [i, event] of reply.events.entries()) {
          if (i === reply.cutAfter) return kill(res, false);
          if (wait) await wait();
          if (res.destroyed || closing) return;
          await writeEvent(res, event); // one write per event: each arrives as its own chunk
        }
        if (reply.cutAfter !== undefined && reply.cutAfter >= reply.events.length) return kill(res, false);
        res.end();
        return;
      }
    }
  }

  server.on('connection', (sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    openaiBaseUrl: `${url}/v1`,
    requests,
    aborted,
    enqueue: (reply) => { queue.push(reply); },
    setHandler: (h) => { handler = h; },
    openConnections: () => sockets.size,
    close() {
      closed ??= (async () => {
        closing = true;
        for (const t of timers) clearTimeout(t);
        timers.clear();
        for (const g of gates) g.releaseAll(); // wake gated loops so they notice `closing` and exit
        // The server's close callback can fire before the sockets' own 'close' events,
        // so wait for both; openConnections() is then 0 when close() resolves.
        const socketsGone = [...sockets].map((s) => new Promise<void>((resolve) => {
          s.once('close', () => resolve());
          s.destroy();
        }));
        const serverGone = new Promise<void>((resolve) => server.close(() => resolve())); // resolves even on error
        server.closeAllConnections();
        await Promise.all([...socketsGone, serverGone]);
      })();
      return closed;
    },
  };
}
