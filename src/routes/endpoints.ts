/**
 * What each proxied endpoint is: its wire dialect, how its usage is reported, how its stream is
 * metered, and where it goes upstream (SPEC §8: an OpenAI base URL holds its version path, an
 * Anthropic one is the host root).
 */
import type { ProviderConfig } from '../config/types.js';
import { AnthropicStreamMeter, OpenAIStreamMeter, ResponsesStreamMeter, type StreamMeter } from '../metering/stream-meters.js';
import { usageFromAnthropic, usageFromOpenAI, usageFromResponses, type Usage } from '../metering/usage.js';

export interface Endpoint {
  path: string;
  /** Free endpoints (token counting) are recorded but never priced or budgeted. */
  free: boolean;
  /** Chat/completions streams may be asked for usage (stream_options.include_usage). */
  injectsStreamUsage: boolean;
  usage(body: Record<string, unknown>): Usage | undefined;
  /** Text of a non-stream reply, for estimates when the provider reports no usage. */
  text(body: Record<string, unknown>): string;
  meter(stripUsage: boolean): StreamMeter;
  /** A reply that accepts work for later (billed later, never reported to us). */
  deferred(body: Record<string, unknown>): boolean;
  /** Upstream path under the provider's base URL; undefined when that provider cannot serve it. */
  upstreamPath(provider: ProviderConfig): string | undefined;
}

type Obj = Record<string, unknown>;
const arr = (v: unknown): Obj[] => (Array.isArray(v) ? (v.filter((x) => x && typeof x === 'object') as Obj[]) : []);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** OpenAI-format paths. Anthropic offers an OpenAI-compatible chat endpoint under /v1 of its host. */
function openaiPath(suffix: string, anthropicCompatible: boolean) {
  return (p: ProviderConfig): string | undefined =>
    p.api === 'openai' ? suffix : anthropicCompatible ? `/v1${suffix}` : undefined;
}

const chatText = (b: Obj): string =>
  arr(b.choices).map((c) => str((c.message as Obj | undefined)?.content) + str(c.text)).join('');

/** Chat and legacy completions: one wire shape, usage on request in streams. */
function completionsEndpoint(path: string, suffix: string, anthropicCompatible: boolean): Endpoint {
  return {
    path,
    free: false,
    injectsStreamUsage: true,
    usage: (b) => usageFromOpenAI(b.usage),
    text: chatText,
    meter: (strip) => new OpenAIStreamMeter(strip),
    deferred: () => false,
    upstreamPath: openaiPath(suffix, anthropicCompatible),
  };
}

export const ENDPOINTS: readonly Endpoint[] = [
  completionsEndpoint('/v1/chat/completions', '/chat/completions', true),
  completionsEndpoint('/v1/completions', '/completions', false),
  {
    path: '/v1/embeddings',
    free: false,
    injectsStreamUsage: false,
    usage: (b) => usageFromOpenAI(b.usage),
    text: () => '',
    meter: () => new OpenAIStreamMeter(false),
    deferred: () => false,
    upstreamPath: openaiPath('/embeddings', false),
  },
  {
    path: '/v1/responses',
    free: false,
    injectsStreamUsage: false,
    usage: (b) => usageFromResponses(b.usage),
    text: (b) =>
      str(b.output_text) ||
      arr(b.output)
        .flatMap((o) => arr(o.content))
        .map((c) => str(c.text))
        .join(''),
    meter: () => new ResponsesStreamMeter(),
    deferred: (b) => b.status === 'queued' || b.status === 'in_progress',
    upstreamPath: openaiPath('/responses', false),
  },
  {
    path: '/v1/messages',
    free: false,
    injectsStreamUsage: false,
    usage: (b) => usageFromAnthropic(b.usage),
    text: (b) =>
      arr(b.content)
        .map((c) => str(c.text) + str(c.thinking))
        .join(''),
    meter: () => new AnthropicStreamMeter(),
    deferred: () => false,
    upstreamPath: (p) => (p.api === 'anthropic' ? '/v1/messages' : undefined),
  },
  {
    path: '/v1/messages/count_tokens',
    free: true,
    injectsStreamUsage: false,
    usage: () => undefined,
    text: () => '',
    meter: () => new AnthropicStreamMeter(),
    deferred: () => false,
    upstreamPath: (p) => (p.api === 'anthropic' ? '/v1/messages/count_tokens' : undefined),
  },
];
