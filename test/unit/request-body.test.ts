// The body sent upstream keeps the client's bytes unless Tollgate must change them.
import { describe, expect, it } from 'vitest';
import { upstreamRequestBody } from '../../src/upstream/request-body.js';

const raw = (o: unknown): string => JSON.stringify(o, null, 2); // pretty: proves bytes are kept, not re-serialised

describe('upstreamRequestBody', () => {
  it('forwards the exact client bytes when nothing must change', () => {
    const body = { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] };
    expect(upstreamRequestBody(body, raw(body), 'gpt-4o', true)).toEqual({ text: raw(body), stripUsage: false });
  });

  it('strips a provider/ prefix from the model', () => {
    const body = { model: 'openai/gpt-4o', messages: [] };
    const out = upstreamRequestBody(body, raw(body), 'gpt-4o', false);
    expect(JSON.parse(out.text)).toEqual({ model: 'gpt-4o', messages: [] });
    expect(out.stripUsage).toBe(false);
  });

  it('asks a stream for usage, keeping the client’s other stream_options, and strips what it added', () => {
    const body = { model: 'gpt-4o', stream: true, stream_options: { include_obfuscation: false } };
    const out = upstreamRequestBody(body, raw(body), 'gpt-4o', true);
    expect(JSON.parse(out.text).stream_options).toEqual({ include_obfuscation: false, include_usage: true });
    expect(out.stripUsage).toBe(true);
  });

  it('leaves a stream alone when the client asked for usage itself, or the provider may not be asked', () => {
    const asked = { model: 'gpt-4o', stream: true, stream_options: { include_usage: true } };
    expect(upstreamRequestBody(asked, raw(asked), 'gpt-4o', true)).toEqual({ text: raw(asked), stripUsage: false });
    const plain = { model: 'gpt-4o', stream: true };
    expect(upstreamRequestBody(plain, raw(plain), 'gpt-4o', false)).toEqual({ text: raw(plain), stripUsage: false });
  });

  it('does not inject for a non-stream request', () => {
    const body = { model: 'gpt-4o', stream: false };
    expect(upstreamRequestBody(body, raw(body), 'gpt-4o', true).stripUsage).toBe(false);
  });
});
