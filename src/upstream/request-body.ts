/**
 * The body sent upstream: the client's bytes untouched unless Tollgate must change them (a
 * stripped `provider/` prefix, asking a chat stream for usage the client did not ask for, or a
 * key given twice: then the provider gets the one reading the worst case was priced on).
 */
export interface UpstreamChanges {
  /** The model id the provider is sent (a `provider/` prefix stripped). */
  model: string;
  /** Ask the stream for usage (stream_options.include_usage): the relay then strips it again. */
  injectUsage: boolean;
  /** Re-serialise even when nothing else changes (duplicate keys). */
  canonical: boolean;
}

export function upstreamRequestBody(body: Record<string, unknown>, rawText: string, changes: UpstreamChanges): string {
  if (changes.model === body.model && !changes.injectUsage && !changes.canonical) return rawText;
  const out: Record<string, unknown> = { ...body, model: changes.model };
  if (changes.injectUsage) {
    const options = body.stream_options;
    out.stream_options = { ...(typeof options === 'object' && options !== null ? options : {}), include_usage: true };
  }
  return JSON.stringify(out);
}

/** Ask a stream for usage only when the client did not, and the endpoint and the provider allow it. */
export function mustAskStreamUsage(body: { stream: boolean; streamUsageAsked: boolean }, mayAsk: boolean): boolean {
  return mayAsk && body.stream && !body.streamUsageAsked;
}
