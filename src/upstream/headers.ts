/**
 * Header hygiene both ways, as explicit lists.
 * Towards the provider: an allow-list. The client's credentials never pass (Tollgate sets the
 * provider's), and `accept-encoding: identity` keeps bodies readable for metering.
 * Towards the client: the provider's headers minus hop-by-hop ones (RFC 9110 §7.6.1: Connection,
 * Keep-Alive, Proxy-*, TE, Trailer, Transfer-Encoding, Upgrade, plus any named in Connection) and
 * framing we redo ourselves (Content-Length, Content-Encoding), and cookies.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { ProviderConfig } from '../config/types.js';

const FORWARDED_REQUEST_HEADERS = [
  'accept',
  'user-agent',
  'anthropic-version',
  'anthropic-beta',
  'openai-beta',
  'idempotency-key',
] as const;

const DEFAULT_ANTHROPIC_VERSION = '2023-06-01';

const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer',
  'transfer-encoding', 'upgrade',
]);
const REFRAMED_OR_PRIVATE = new Set(['content-length', 'content-encoding', 'set-cookie', 'date', 'server']);

/** A header value that could split a request line: never forwarded (header injection). */
function safeValue(v: string): boolean {
  return !/[\r\n\0]/.test(v);
}

export function upstreamRequestHeaders(incoming: IncomingHttpHeaders, provider: ProviderConfig): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of FORWARDED_REQUEST_HEADERS) {
    const v = incoming[name];
    if (typeof v === 'string' && safeValue(v)) out[name] = v;
  }
  out['content-type'] = 'application/json';
  out['accept-encoding'] = 'identity';
  const key = provider.apiKey ?? '';
  if (provider.api === 'anthropic') {
    out['x-api-key'] = key;
    out['anthropic-version'] ??= DEFAULT_ANTHROPIC_VERSION;
  } else {
    out.authorization = `Bearer ${key}`;
  }
  return out;
}

export function clientResponseHeaders(upstream: Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const connection = Object.entries(upstream).find(([k]) => k.toLowerCase() === 'connection')?.[1];
  const named = new Set(
    String(connection ?? '')
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean),
  );
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(upstream)) {
    const lower = name.toLowerCase();
    if (value === undefined || HOP_BY_HOP.has(lower) || named.has(lower) || REFRAMED_OR_PRIVATE.has(lower)) continue;
    out[lower] = value;
  }
  return out;
}
