/**
 * Watches a provider's stream on the side: reads usage from each dialect's events, keeps the
 * text relayed so far (bounded) for estimates when usage never comes, and, for OpenAI streams
 * where only Tollgate asked for usage, removes what the client did not ask for.
 */
import type { SseEvent } from './sse.js';
import {
  overlayAnthropic,
  parseJsonObject,
  usageFromAnthropicCounts,
  usageFromOpenAI,
  usageFromResponses,
  type AnthropicCounts,
  type Usage,
} from './usage.js';

/** Enough text to estimate any real reply; beyond it we count characters only. */
const MAX_KEPT_TEXT = 1_000_000;

export interface StreamMeter {
  /** Whether events must be rewritten (otherwise bytes pass through as they arrive). */
  readonly rewrites: boolean;
  /** Look at one event; returns the bytes to relay for it (possibly empty). */
  observe(ev: SseEvent): Buffer;
  /** Usage reported so far (possibly partial: Anthropic's message_start has output_tokens 1). */
  usage(): Usage | undefined;
  /** Whether the provider's final usage arrived; a stream that ends without it is estimated. */
  final(): boolean;
  relayedText(): string;
}

/** What every meter keeps: the text relayed so far (bounded) and the usage reported so far. */
abstract class MeterBase {
  private text = '';
  protected extraChars = 0;
  protected reported: Usage | undefined;

  usage(): Usage | undefined {
    return this.reported;
  }

  /** For OpenAI-format streams the usage, once there, is the final one. */
  final(): boolean {
    return this.reported !== undefined;
  }

  protected keep(s: unknown): void {
    if (typeof s !== 'string' || s.length === 0) return;
    if (this.text.length < MAX_KEPT_TEXT) this.text += s;
    else this.extraChars += s.length;
  }

  relayedText(): string {
    // Past the cap, approximate the rest as one token per 4 characters of filler.
    return this.extraChars === 0 ? this.text : this.text + ' x'.repeat(Math.ceil(this.extraChars / 4));
  }
}

/** A garbled event is relayed as is and simply not metered. */
function parseJson(data: string | undefined): Record<string, unknown> | undefined {
  return data === undefined || data === '[DONE]' ? undefined : parseJsonObject(data);
}

/** Chat completions and legacy completions streams. */
export class OpenAIStreamMeter extends MeterBase implements StreamMeter {
  /** @param stripUsage the client did not ask for usage: Tollgate did, so hide it. */
  constructor(readonly rewrites: boolean) {
    super();
  }

  observe(ev: SseEvent): Buffer {
    const json = parseJson(ev.data);
    if (!json) return ev.raw;
    const choices = Array.isArray(json.choices) ? (json.choices as Record<string, unknown>[]) : [];
    for (const c of choices) {
      const delta = c?.delta as Record<string, unknown> | undefined;
      this.keep(delta?.content);
      this.keep(delta?.reasoning_content);
      this.keep(c?.text);
      const toolCalls = delta?.tool_calls;
      if (Array.isArray(toolCalls)) for (const t of toolCalls) this.keep((t as { function?: { arguments?: unknown } })?.function?.arguments);
    }
    if (json.usage && typeof json.usage === 'object') this.reported = usageFromOpenAI(json.usage) ?? this.reported;
    if (!this.rewrites || !('usage' in json)) return ev.raw;
    // Only Tollgate asked for usage: drop the usage-only chunk, and the usage key elsewhere.
    if (choices.length === 0 && json.usage) return Buffer.alloc(0);
    return withoutUsageKey(ev, json);
  }

}

/**
 * The event with its `usage` key removed. `"usage":null` is cut out of the provider's own text,
 * so every other byte (escapes, spacing, number forms) stays the provider's; a `"usage"` in a
 * string value cannot match, since quotes inside JSON strings are escaped. Anything else is
 * re-serialised.
 */
function withoutUsageKey(ev: SseEvent, json: Record<string, unknown>): Buffer {
  const raw = ev.raw.toString('utf8');
  const cut = raw.replace(/,\s*"usage"\s*:\s*null(?=\s*[,}])|"usage"\s*:\s*null\s*,/, '');
  if (json.usage === null && cut !== raw) return Buffer.from(cut, 'utf8');
  delete json.usage;
  return Buffer.from(`data: ${JSON.stringify(json)}\n\n`);
}

/** Responses API streams: usage arrives on the terminal response event. */
export class ResponsesStreamMeter extends MeterBase implements StreamMeter {
  readonly rewrites = false;

  observe(ev: SseEvent): Buffer {
    const json = parseJson(ev.data);
    if (!json) return ev.raw;
    const type = json.type ?? ev.event;
    if (type === 'response.output_text.delta' || type === 'response.reasoning_summary_text.delta' || type === 'response.function_call_arguments.delta') {
      this.keep(json.delta);
    }
    if (type === 'response.completed' || type === 'response.incomplete' || type === 'response.failed') {
      const response = json.response as Record<string, unknown> | undefined;
      this.reported = usageFromResponses(response?.usage) ?? this.reported;
    }
    return ev.raw;
  }

}

/** Anthropic Messages streams: message_start, then cumulative message_delta values (overwrite). */
export class AnthropicStreamMeter extends MeterBase implements StreamMeter {
  readonly rewrites = false;
  private counts: AnthropicCounts = {};
  private sawDelta = false;

  observe(ev: SseEvent): Buffer {
    const json = parseJson(ev.data);
    if (!json) return ev.raw;
    const type = json.type ?? ev.event;
    if (type === 'message_start') this.counts = overlayAnthropic(this.counts, (json.message as Record<string, unknown> | undefined)?.usage);
    else if (type === 'message_delta') {
      this.counts = overlayAnthropic(this.counts, json.usage);
      this.sawDelta = true;
    }
    else if (type === 'content_block_delta') {
      const delta = json.delta as Record<string, unknown> | undefined;
      this.keep(delta?.text);
      this.keep(delta?.thinking);
      this.keep(delta?.partial_json);
    }
    return ev.raw;
  }

  override usage(): Usage | undefined {
    return usageFromAnthropicCounts(this.counts);
  }

  /** message_start's output_tokens is a placeholder; only message_delta carries the real count. */
  override final(): boolean {
    return this.sawDelta;
  }
}
