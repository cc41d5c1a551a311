// Header hygiene both ways. Towards the provider: the client's credentials, cookies and framing
// never pass; Tollgate sets the provider's key. Towards the client: hop-by-hop headers
// (RFC 9110 §7.6.1: Connection and every header it names, Keep-Alive, Proxy-*, TE, Trailer,
// Transfer-Encoding, Upgrade) and headers Tollgate re-frames or must not leak are removed.
import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { ProviderConfig } from '../../src/config/types.js';
import { clientResponseHeaders, upstreamRequestHeaders } from '../../src/upstream/headers.js';

const OPENAI: ProviderConfig = {
  name: 'openai',
  api: 'openai',
  baseUrl: 'https://api.openai.com/v1',
  apiKey: 'sk-provider-openai-123',
  apiKeyHint: 'set OPENAI_API_KEY',
  priceFamily: 'openai',
  priceFamilyReason: 'test',
  models: ['gpt-*'],
  streamIncludeUsage: true,
};
const ANTHROPIC: ProviderConfig = { ...OPENAI, name: 'anthropic', api: 'anthropic', baseUrl: 'https://api.anthropic.com', apiKey: 'sk-ant-provider-456', models: ['claude-*'] };

const CLIENT_KEY = 'tg-team-secret-key';
const CLIENT: IncomingHttpHeaders = {
  authorization: `Bearer ${CLIENT_KEY}`,
  'x-api-key': CLIENT_KEY,
  cookie: 'session=abc123',
  host: '127.0.0.1:8787',
  'content-length': '1234',
  'transfer-encoding': 'chunked',
  connection: 'keep-alive',
  'proxy-authorization': 'Basic Zm9vOmJhcg==',
  'x-forwarded-for': '10.0.0.1',
  'accept-encoding': 'gzip, br',
  accept: 'application/json',
  'user-agent': 'OpenAI/JS 6.49.0',
  'openai-beta': 'assistants=v2',
  'idempotency-key': 'stainless-retry-1',
};

describe('upstreamRequestHeaders', () => {
  it('never forwards the client’s credentials, cookies, host or framing', () => {
    for (const provider of [OPENAI, ANTHROPIC]) {
      const out = upstreamRequestHeaders(CLIENT, provider);
      for (const name of ['cookie', 'host', 'content-length', 'transfer-encoding', 'connection', 'proxy-authorization', 'x-forwarded-for']) {
        expect(out, `${provider.api}: ${name}`).not.toHaveProperty(name);
      }
      expect(JSON.stringify(out), provider.api).not.toContain(CLIENT_KEY);
    }
  });

  it('sets Authorization: Bearer <provider key> for an openai provider, and no x-api-key', () => {
    const out = upstreamRequestHeaders(CLIENT, OPENAI);
    expect(out.authorization).toBe('Bearer sk-provider-openai-123');
    expect(out).not.toHaveProperty('x-api-key');
  });

  it('sets x-api-key and a default anthropic-version 2023-06-01 for an anthropic provider, and no authorization', () => {
    const out = upstreamRequestHeaders(CLIENT, ANTHROPIC);
    expect(out['x-api-key']).toBe('sk-ant-provider-456');
    expect(out['anthropic-version']).toBe('2023-06-01');
    expect(out).not.toHaveProperty('authorization');
  });

  it('keeps the client’s anthropic-version and anthropic-beta', () => {
    const out = upstreamRequestHeaders(
      { ...CLIENT, 'anthropic-version': '2023-01-01', 'anthropic-beta': 'prompt-caching-2024-07-31,extended-cache-ttl-2025-04-11' },
      ANTHROPIC,
    );
    expect(out['anthropic-version']).toBe('2023-01-01');
    expect(out['anthropic-beta']).toBe('prompt-caching-2024-07-31,extended-cache-ttl-2025-04-11');
  });

  it('keeps the harmless client headers it allows', () => {
    const out = upstreamRequestHeaders(CLIENT, OPENAI);
    expect(out.accept).toBe('application/json');
    expect(out['user-agent']).toBe('OpenAI/JS 6.49.0');
    expect(out['openai-beta']).toBe('assistants=v2');
    expect(out['idempotency-key']).toBe('stainless-retry-1');
  });

  it('asks for an identity-encoded JSON body whatever the client accepts', () => {
    const out = upstreamRequestHeaders(CLIENT, OPENAI);
    expect(out['accept-encoding']).toBe('identity');
    expect(out['content-type']).toBe('application/json');
  });

  it('drops values containing CR or LF', () => {
    const out = upstreamRequestHeaders(
      {
        'user-agent': 'evil\r\nX-Injected: 1',
        'anthropic-beta': 'a\nb',
        'anthropic-version': 'v\r1',
        accept: 'application/json',
      },
      ANTHROPIC,
    );
    expect(out).not.toHaveProperty('user-agent');
    expect(out).not.toHaveProperty('anthropic-beta');
    expect(out['anthropic-version']).toBe('2023-06-01');
    expect(out.accept).toBe('application/json');
    for (const v of Object.values(out)) expect(v).not.toMatch(/[\r\n]/);
  });
});

describe('clientResponseHeaders', () => {
  const UPSTREAM: Record<string, string | string[] | undefined> = {
    connection: 'keep-alive, X-Custom-Hop',
    'keep-alive': 'timeout=5',
    'transfer-encoding': 'chunked',
    te: 'trailers',
    trailer: 'x-checksum',
    upgrade: 'h2c',
    'proxy-authenticate': 'Basic',
    'proxy-authorization': 'Basic Zm9v',
    'proxy-connection': 'keep-alive',
    'x-custom-hop': 'bye',
    'content-length': '42',
    'content-encoding': 'gzip',
    'set-cookie': ['__cf_bm=abc; path=/', '_cfuvid=def; path=/'],
    'x-request-id': 'req_123abc',
    'content-type': 'text/event-stream; charset=utf-8',
    'openai-processing-ms': '231',
    'x-ratelimit-remaining-tokens': '149984',
    'anthropic-ratelimit-requests-remaining': '49',
    'x-absent': undefined,
  };

  it('keeps end-to-end headers such as x-request-id and rate-limit headers', () => {
    expect(clientResponseHeaders(UPSTREAM)).toEqual({
      'x-request-id': 'req_123abc',
      'content-type': 'text/event-stream; charset=utf-8',
      'openai-processing-ms': '231',
      'x-ratelimit-remaining-tokens': '149984',
      'anthropic-ratelimit-requests-remaining': '49',
    });
  });

  it('strips each RFC 9110 hop-by-hop header', () => {
    for (const name of ['connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection']) {
      expect(clientResponseHeaders({ [name]: 'x', 'x-request-id': 'r' }), name).toEqual({ 'x-request-id': 'r' });
    }
  });

  it('strips the headers named in Connection, whatever their case and spacing', () => {
    const out = clientResponseHeaders({ connection: ' X-Foo ,x-bar,,', 'x-foo': '1', 'x-bar': '2', 'x-baz': '3' });
    expect(out).toEqual({ 'x-baz': '3' });
  });

  it('strips content-length, content-encoding and set-cookie', () => {
    const out = clientResponseHeaders({ 'content-length': '10', 'content-encoding': 'br', 'set-cookie': 'a=1', 'x-request-id': 'r' });
    expect(out).toEqual({ 'x-request-id': 'r' });
  });

  it('strips by name whatever the case of the header name', () => {
    const out = clientResponseHeaders({ 'Transfer-Encoding': 'chunked', 'Set-Cookie': 'a=1', 'X-Request-Id': 'req_9' });
    expect(out).toEqual({ 'x-request-id': 'req_9' });
  });
});
