// The worst case is an upper bound for every request a provider accepts (SPEC §5, issue 7).
// Property: random bodies for every metered endpoint, billable text in random known and unknown
// fields (JSON escapes in keys and values included), random output limits and choices of any
// JSON type. A fake provider bills what a provider could: every key and string of the body it
// received as input (with the model's own tokenizer; all of it as 1-hour cache writes when the
// body asks for caching), and the largest output the request allows. Over thousands of runs, on
// the free byte bound and on the tokenizer recount alike: settled cost ≤ reserved worst case.
import fc from 'fast-check';
import { getEncoding, type Tiktoken } from 'js-tiktoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reservation, LedgerRecord } from '../src/ledger/ledger.js';
import { startFakeProvider, type FakeProvider, type RecordedRequest, type Reply } from './helpers/fake-provider.js';
import { startApp, TEAM_KEY, type TestApp } from './helpers/app.js';

const encoders: Record<string, Tiktoken> = {};
const enc = (name: 'o200k_base' | 'cl100k_base') => (encoders[name] ??= getEncoding(name));

/** The provider's own tokenizer for each model used here. */
const TOKENIZER: Record<string, 'o200k_base' | 'cl100k_base'> = {
  'gpt-4o': 'o200k_base',
  'my-finetune': 'o200k_base',
  'text-embedding-3-small': 'cl100k_base',
  'claude-sonnet-4-20250514': 'o200k_base',
};
/** What each model writes when the request sets no limit (the providers' documented maxima; my-finetune's from the config). */
const MAX_OUTPUT: Record<string, number> = { 'gpt-4o': 16_384, 'my-finetune': 4096, 'text-embedding-3-small': 0, 'claude-sonnet-4-20250514': 64_000 };

/** A count as a lenient provider reads one: numbers and numeric strings, rounded up. */
function lenientCount(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*\+?\d+(\.\d+)?\s*$/.test(v) ? Number(v) : NaN;
  return Number.isFinite(n) && n > 0 ? Math.ceil(n) : undefined;
}

/** Every key and string (and number, as text) of a received body, in the model's tokenizer. */
function billedInput(body: unknown, model: string): { tokens: number; cache: 'none' | '5m' | '1h' } {
  const e = enc(TOKENIZER[model] ?? 'o200k_base');
  let tokens = 0;
  let cache: 'none' | '5m' | '1h' = 'none';
  const walk = (v: unknown): void => {
    if (typeof v === 'string') tokens += e.encode(v, [], []).length;
    else if (typeof v === 'number') tokens += e.encode(String(v), [], []).length;
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v !== null && typeof v === 'object') {
      for (const [k, child] of Object.entries(v)) {
        tokens += e.encode(k, [], []).length;
        if (k === 'cache_control' && child !== null) cache = (child as { ttl?: unknown }).ttl === '1h' || cache === '1h' ? '1h' : '5m';
        walk(child);
      }
    }
  };
  walk(body);
  return { tokens, cache };
}

/** The most output the request allows: its largest limit (or the model's maximum) × its choices. */
function billedOutput(body: any, model: string, path: string): number {
  if (path === '/v1/embeddings') return 0;
  const limits = [body.max_tokens, body.max_completion_tokens, body.max_output_tokens, body.thinking?.budget_tokens].map(lenientCount).filter((n): n is number => n !== undefined);
  const limit = limits.length > 0 ? Math.max(...limits) : (MAX_OUTPUT[model] as number);
  const choices = Math.max(1, ...[body.n, body.best_of].map(lenientCount).filter((n): n is number => n !== undefined));
  return limit * Math.min(choices, 128);
}

function billingReply(req: RecordedRequest): Reply {
  const model = req.body.model as string;
  const input = billedInput(req.body, model);
  const output = billedOutput(req.body, model, req.path);
  switch (req.path) {
    case '/v1/messages': {
      const written = input.cache === 'none' ? 0 : input.tokens;
      return {
        kind: 'json',
        body: {
          id: 'msg_p', type: 'message', role: 'assistant', model, content: [{ type: 'text', text: 'ok' }], stop_reason: 'max_tokens',
          usage: {
            input_tokens: input.tokens - written, output_tokens: output, cache_read_input_tokens: 0, cache_creation_input_tokens: written,
            cache_creation: { ephemeral_5m_input_tokens: input.cache === '5m' ? written : 0, ephemeral_1h_input_tokens: input.cache === '1h' ? written : 0 },
          },
        },
      };
    }
    case '/v1/responses':
      return {
        kind: 'json',
        body: { id: 'resp_p', object: 'response', status: 'completed', model, output: [], usage: { input_tokens: input.tokens, output_tokens: output, total_tokens: input.tokens + output, input_tokens_details: { cached_tokens: 0 }, output_tokens_details: { reasoning_tokens: 0 } } },
      };
    case '/v1/embeddings':
      return { kind: 'json', body: { object: 'list', data: [], model, usage: { prompt_tokens: input.tokens, total_tokens: input.tokens } } };
    default:
      return {
        kind: 'json',
        body: { id: 'x', object: 'chat.completion', model, choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'length' }], usage: { prompt_tokens: input.tokens, completion_tokens: output, total_tokens: input.tokens + output } },
      };
  }
}

// ---------------------------------------------------------------- bodies

/** Text of every kind: prose, whitespace runs, CJK, emoji, special-token spellings, escapes-to-be. */
const text = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom('', ' ', '   \n\t  ', '東京は日本の首都です。', '🎉🚀👨‍👩‍👧‍👦', '<|endoftext|>', '"quoted" \\ back', 'cache_control', 'The ledger keeps every request. '),
  fc.tuple(fc.constantFrom(' ', 'a', '漢', '😀', '!', '\n', '1'), fc.integer({ min: 1, max: 120 })).map(([c, n]) => c.repeat(n)),
);
const key = fc.oneof(fc.constantFrom('description', 'notes', 'x_extra', 'metadata', 'hint', 'cache_control'), fc.string({ minLength: 1, maxLength: 12 }));
/** Unknown fields anywhere: nested objects and arrays of text and numbers. */
const unknownValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, text, fc.integer(), fc.array(tie('value'), { maxLength: 3 }), fc.dictionary(key, tie('value'), { maxKeys: 3 })),
})).value;
/** An output limit or a choice count as clients send them: numbers, numeric strings, junk. */
const limit = fc.oneof(fc.integer({ min: 1, max: 3000 }), fc.integer({ min: 1, max: 3000 }).map(String), fc.constantFrom(0, -1, 'abc', null, 2.5, '7.5'));
const choices = fc.oneof(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }).map(String), fc.constantFrom(0, 'x', null));
const extras = fc.dictionary(key, unknownValue, { maxKeys: 3 });

const optional = <T>(name: string, arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined }).map((v) => (v === undefined ? {} : { [name]: v }));
const limits = (...names: string[]) => fc.tuple(...names.map((n) => optional(n, limit))).map((parts) => Object.assign({}, ...parts));

const chat = fc.record({
  path: fc.constant('/v1/chat/completions'),
  body: fc.tuple(
    fc.constantFrom('gpt-4o', 'my-finetune'),
    fc.array(fc.record({ role: fc.constantFrom('system', 'user', 'assistant'), content: fc.oneof(text, fc.array(fc.record({ type: fc.constant('text'), text }), { maxLength: 3 })) }, { requiredKeys: ['role', 'content'] }), { minLength: 1, maxLength: 4 }),
    limits('max_tokens', 'max_completion_tokens'),
    optional('n', choices),
    optional('tools', fc.array(fc.record({ type: fc.constant('function'), function: fc.record({ name: fc.constant('f'), description: text, parameters: unknownValue }) }), { maxLength: 2 })),
    optional('response_format', fc.record({ type: fc.constant('json_schema'), json_schema: fc.record({ name: fc.constant('s'), schema: unknownValue }) })),
    extras,
  ).map(([model, messages, l, n, tools, rf, x]) => ({ ...x, model, messages, ...l, ...n, ...tools, ...rf })),
});

const completions = fc.record({
  path: fc.constant('/v1/completions'),
  body: fc.tuple(fc.oneof(text, fc.array(text, { maxLength: 3 }), fc.array(fc.integer({ min: 0, max: 100_000 }), { maxLength: 20 })), limits('max_tokens'), optional('n', choices), optional('best_of', choices), extras)
    .map(([prompt, l, n, b, x]) => ({ ...x, model: 'my-finetune', prompt, ...l, ...n, ...b })),
});

const embeddings = fc.record({
  path: fc.constant('/v1/embeddings'),
  body: fc.tuple(fc.oneof(text, fc.array(text, { maxLength: 4 })), extras).map(([input, x]) => ({ ...x, model: 'text-embedding-3-small', input })),
});

const responses = fc.record({
  path: fc.constant('/v1/responses'),
  body: fc.tuple(
    fc.oneof(text, fc.array(fc.record({ role: fc.constantFrom('user', 'assistant'), content: text }), { minLength: 1, maxLength: 3 })),
    optional('instructions', text),
    limits('max_output_tokens'),
    optional('text', fc.record({ format: fc.record({ type: fc.constant('json_schema'), name: fc.constant('s'), schema: unknownValue }) })),
    extras,
  ).map(([input, i, l, t, x]) => ({ ...x, model: 'gpt-4o', input, ...i, ...l, ...t })),
});

const cacheControl = fc.option(fc.constantFrom({ type: 'ephemeral' }, { type: 'ephemeral', ttl: '1h' }, { type: 'ephemeral', ttl: '5m' }), { nil: undefined });
const messages = fc.record({
  path: fc.constant('/v1/messages'),
  body: fc.tuple(
    fc.array(fc.record({ role: fc.constantFrom('user', 'assistant'), content: fc.oneof(text, fc.array(fc.tuple(text, cacheControl).map(([t, c]) => ({ type: 'text', text: t, ...(c ? { cache_control: c } : {}) })), { minLength: 1, maxLength: 3 })) }), { minLength: 1, maxLength: 3 }),
    optional('system', fc.oneof(text, fc.array(fc.tuple(text, cacheControl).map(([t, c]) => ({ type: 'text', text: t, ...(c ? { cache_control: c } : {}) })), { maxLength: 2 }))),
    fc.integer({ min: 1, max: 3000 }),
    optional('thinking', fc.record({ type: fc.constant('enabled'), budget_tokens: limit })),
    optional('tools', fc.array(fc.record({ name: fc.constant('t'), description: text, input_schema: unknownValue }), { maxLength: 2 })),
    extras,
  ).map(([msgs, system, maxTokens, thinking, tools, x]) => ({ ...x, model: 'claude-sonnet-4-20250514', max_tokens: maxTokens, messages: msgs, ...system, ...thinking, ...tools })),
});

/** Serialise with some letters of keys and strings written as JSON \u escapes, as a client may. */
function serialise(body: unknown, escapeMask: number): string {
  let i = 0;
  const str = (s: string) =>
    `"${[...s].map((c) => (/[a-z_]/.test(c) && (escapeMask >> (i++ % 31)) & 1 ? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}` : JSON.stringify(c).slice(1, -1))).join('')}"`;
  const write = (v: unknown): string => {
    if (typeof v === 'string') return str(v);
    if (Array.isArray(v)) return `[${v.map(write).join(',')}]`;
    if (v !== null && typeof v === 'object') return `{${Object.entries(v).map(([k, x]) => `${str(k)}:${write(x)}`).join(',')}}`;
    return JSON.stringify(v);
  };
  return write(body);
}

const request = fc.tuple(fc.oneof(chat, completions, embeddings, responses, messages), fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.boolean());

// ---------------------------------------------------------------- the property

let fake: FakeProvider;
let tg: TestApp;
let forceRecount = false;
const reserved = new Map<string, number>();
const settled = new Map<string, number>();

beforeAll(async () => {
  fake = await startFakeProvider();
  fake.setHandler(billingReply);
  tg = await startApp(fake, {
    configure: (raw) => {
      raw.server.body_limit_mb = 4;
      raw.prices = { 'my-finetune': { input: 3, cached_input: 1.5, output: 12, max_output_tokens: 4096 } };
    },
  });
  const budgets = tg.deps.budgets;
  const admit = budgets.admit.bind(budgets);
  const seen = new Set<string>();
  budgets.admit = async (team, r: Reservation, enforce) => {
    // Refusing each request's first try makes it take the recount, as a request near its cap does.
    if (forceRecount && !seen.has(r.id)) {
      seen.add(r.id);
      return { ok: false, ts: r.ts, refusal: { team: team.name, budget: { id: 'day', window: 'day', limitUsd: 1, alertAt: [], hardCap: true }, window: 'day', limitNano: 0, spentNano: 0, reservedNano: 0, worstCaseNano: r.worstCaseNano, windowStart: 0, resetsAt: null } };
    }
    reserved.set(r.id, r.worstCaseNano);
    return admit(team, r, enforce);
  };
  const settle = budgets.settle.bind(budgets);
  budgets.settle = async (id: string, record: LedgerRecord, team) => {
    settled.set(id, record.costNano);
    await settle(id, record, team);
  };
});

afterAll(async () => {
  await tg.close();
  await fake.close();
});

async function send(path: string, raw: string): Promise<{ status: number; id: string | null; text: string }> {
  const anthropic = path === '/v1/messages';
  const res = await fetch(`${tg.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(anthropic ? { 'x-api-key': TEAM_KEY } : { authorization: `Bearer ${TEAM_KEY}` }) },
    body: raw,
  });
  return { status: res.status, id: res.headers.get('x-tollgate-request-id'), text: await res.text() };
}

describe('worst case ≥ settled cost', () => {
  for (const [mode, recount] of [['the byte bound', false], ['the tokenizer recount', true]] as const) {
    it(`on ${mode}, for random bodies of every endpoint`, async () => {
      forceRecount = recount;
      let checked = 0;
      try {
        await fc.assert(
          fc.asyncProperty(request, async ([{ path, body }, mask, duplicate]) => {
            let raw = serialise(body, mask);
            // A limit given twice: the provider (JSON.parse) takes the last; so must the reservation.
            if (duplicate && path !== '/v1/embeddings') raw = `{"max_tokens":1,${raw.slice(1)}`;
            const res = await send(path, raw);
            expect(res.status, res.text.slice(0, 300)).toBe(200);
            const id = res.id as string;
            expect(settled.get(id), 'settled').toBeDefined();
            expect(settled.get(id) as number, `${path} ${raw.slice(0, 400)}`).toBeLessThanOrEqual(reserved.get(id) as number);
            checked++;
          }),
          { numRuns: 1000, seed: recount ? 11 : 7 },
        );
      } finally {
        forceRecount = false;
      }
      expect(checked).toBeGreaterThanOrEqual(1000);
      expect(tg.deps.budgets.openReservations()).toBe(0);
    });
  }
});
