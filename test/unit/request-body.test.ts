// The body sent upstream keeps the client's bytes unless Tollgate must change them.
import { describe, expect, it } from 'vitest';
import { readBody } from '../../src/body/facts.js';
import { mustAskStreamUsage, upstreamRequestBody } from '../../src/upstream/request-body.js';

const raw = (o: unknown): string => JSON.stringify(o, null, 2); // pretty: proves bytes are kept, not re-serialised
const same = (model: string) => ({ model, injectUsage: false, canonical: false });

describe('upstreamRequestBody', () => {
  it('forwards the exact client bytes when nothing must change', () => {
    const body = { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] };
    expect(upstreamRequestBody(body, raw(body), same('gpt-4o'))).toBe(raw(body));
  });

  it('strips a provider/ prefix from the model', () => {
    const body = { model: 'openai/gpt-4o', messages: [] };
    expect(JSON.parse(upstreamRequestBody(body, raw(body), same('gpt-4o')))).toEqual({ model: 'gpt-4o', messages: [] });
  });

  it('asks a stream for usage, keeping the client’s other stream_options', () => {
    const body = { model: 'gpt-4o', stream: true, stream_options: { include_obfuscation: false } };
    const out = upstreamRequestBody(body, raw(body), { model: 'gpt-4o', injectUsage: true, canonical: false });
    expect(JSON.parse(out).stream_options).toEqual({ include_obfuscation: false, include_usage: true });
  });

  it('forwards the parsed reading when a key was given twice, so the provider sees what was priced', () => {
    const text = '{"model":"gpt-4o","max_tokens":20000,"max_tokens":1,"messages":[]}';
    const { json, facts } = readBody(text, text.length);
    expect(facts.duplicateKeys).toBe(true);
    const out = upstreamRequestBody(json, text, { model: 'gpt-4o', injectUsage: false, canonical: facts.duplicateKeys });
    expect(out).toBe('{"model":"gpt-4o","max_tokens":1,"messages":[]}');
    const plain = '{"model":"gpt-4o","a":{"max_tokens":1},"b":{"max_tokens":2}}';
    expect(readBody(plain, plain.length).facts.duplicateKeys).toBe(false); // the same key in two objects is no duplicate
  });
});

describe('mustAskStreamUsage', () => {
  it('asks a stream whose client did not ask, where endpoint and provider allow it', () => {
    expect(mustAskStreamUsage({ stream: true, streamUsageAsked: false }, true)).toBe(true);
  });

  it('leaves a stream alone when the client asked itself, or the provider may not be asked, and never a non-stream', () => {
    expect(mustAskStreamUsage({ stream: true, streamUsageAsked: true }, true)).toBe(false);
    expect(mustAskStreamUsage({ stream: true, streamUsageAsked: false }, false)).toBe(false);
    expect(mustAskStreamUsage({ stream: false, streamUsageAsked: false }, true)).toBe(false);
  });

  it('reads the client’s own ask from the parsed body (escaped keys included)', () => {
    const text = '{"model":"gpt-4o","stream":true,"stream_options":{"include\\u005fusage":true}}';
    expect(readBody(text, text.length).facts).toMatchObject({ stream: true, streamUsageAsked: true });
  });
});
