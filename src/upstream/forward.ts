/**
 * The one upstream call. undici failures become typed errors here, where the library is called,
 * keeping their cause: unreachable or reset → upstream_unavailable (502), too slow →
 * upstream_timeout (504). A client that leaves aborts the call through `signal`.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import type { ProviderConfig } from '../config/types.js';
import { TollgateError } from '../errors.js';
import { upstreamRequestHeaders } from './headers.js';
import type { UpstreamPools } from './pools.js';

export interface UpstreamCall {
  provider: ProviderConfig;
  method: 'GET' | 'POST';
  /** Path appended to the provider's base URL, e.g. `/chat/completions`. */
  path: string;
  clientHeaders: IncomingHttpHeaders;
  body: string | Buffer | undefined;
  signal: AbortSignal;
  timeoutMs: number;
}

export type UpstreamResponse = Dispatcher.ResponseData;

export async function callUpstream(pools: UpstreamPools, call: UpstreamCall): Promise<UpstreamResponse> {
  const base = new URL(call.provider.baseUrl);
  // The path is ours (a fixed endpoint), never the client's: no escape to another host or path.
  const path = `${base.pathname.replace(/\/+$/, '')}${call.path}`;
  try {
    return await pools.for(call.provider).request({
      method: call.method,
      path,
      headers: upstreamRequestHeaders(call.clientHeaders, call.provider),
      body: call.body,
      signal: call.signal,
      headersTimeout: call.timeoutMs,
      bodyTimeout: call.timeoutMs,
    });
  } catch (err) {
    throw upstreamError(err, call.provider.name);
  }
}

export function upstreamError(err: unknown, provider: string): TollgateError | unknown {
  if (err instanceof TollgateError) return err;
  const code = (err as { code?: string } | undefined)?.code;
  if (code === 'UND_ERR_ABORTED' || (err as Error | undefined)?.name === 'AbortError') return err;
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    return new TollgateError('upstream_timeout', `Provider '${provider}' did not answer in time.`, { cause: err });
  }
  return new TollgateError('upstream_unavailable', `Provider '${provider}' is unreachable or closed the connection.`, { cause: err });
}
