/**
 * The body sent upstream: the client's bytes untouched unless Tollgate must change them (a
 * stripped `provider/` prefix, or asking a chat stream for usage the client did not ask for).
 */
export function upstreamRequestBody(
  body: Record<string, unknown>,
  rawText: string,
  model: string,
  /** The endpoint streams usage on request (chat/completions) and the provider accepts being asked. */
  mayAskStreamUsage: boolean,
): { text: string; stripUsage: boolean } {
  const options = body.stream_options;
  const clientAsked = options !== null && typeof options === 'object' && (options as Record<string, unknown>).include_usage === true;
  const inject = mayAskStreamUsage && body.stream === true && !clientAsked;
  if (model === body.model && !inject) return { text: rawText, stripUsage: false };
  const out: Record<string, unknown> = { ...body, model };
  if (inject) out.stream_options = { ...(typeof options === 'object' && options !== null ? options : {}), include_usage: true };
  return { text: JSON.stringify(out), stripUsage: inject };
}
