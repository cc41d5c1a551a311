/**
 * The one catalogue of errors Tollgate itself answers with. Each code has one status and one
 * wire type per dialect; `renderError` is the only place an error becomes a response body, so no
 * route can leak internals or secrets into one.
 */
export type Dialect = 'openai' | 'anthropic';

interface ErrorSpec {
  status: number;
  openaiType: string;
  anthropicType: string;
}

const CATALOGUE = {
  invalid_api_key: { status: 401, openaiType: 'invalid_request_error', anthropicType: 'authentication_error' },
  admin_key_required: { status: 403, openaiType: 'permission_error', anthropicType: 'permission_error' },
  team_forbidden: { status: 403, openaiType: 'permission_error', anthropicType: 'permission_error' },
  model_not_allowed: { status: 403, openaiType: 'permission_error', anthropicType: 'permission_error' },
  model_not_found: { status: 404, openaiType: 'invalid_request_error', anthropicType: 'not_found_error' },
  not_found: { status: 404, openaiType: 'invalid_request_error', anthropicType: 'not_found_error' },
  model_not_priced: { status: 400, openaiType: 'invalid_request_error', anthropicType: 'invalid_request_error' },
  invalid_json: { status: 400, openaiType: 'invalid_request_error', anthropicType: 'invalid_request_error' },
  invalid_body: { status: 400, openaiType: 'invalid_request_error', anthropicType: 'invalid_request_error' },
  missing_model: { status: 400, openaiType: 'invalid_request_error', anthropicType: 'invalid_request_error' },
  invalid_query: { status: 400, openaiType: 'invalid_request_error', anthropicType: 'invalid_request_error' },
  request_too_large: { status: 413, openaiType: 'invalid_request_error', anthropicType: 'request_too_large' },
  budget_exceeded: { status: 402, openaiType: 'insufficient_quota', anthropicType: 'billing_error' },
  upstream_unavailable: { status: 502, openaiType: 'api_error', anthropicType: 'api_error' },
  upstream_timeout: { status: 504, openaiType: 'api_error', anthropicType: 'timeout_error' },
  provider_not_configured: { status: 503, openaiType: 'api_error', anthropicType: 'api_error' },
  shutting_down: { status: 503, openaiType: 'api_error', anthropicType: 'overloaded_error' },
  /** The shared ledger does not answer: nothing is forwarded unmetered or uncapped (SPEC §10). */
  ledger_unavailable: { status: 503, openaiType: 'api_error', anthropicType: 'overloaded_error' },
  /** The client left; nobody reads this answer, it only keeps the log honest. */
  client_closed: { status: 499, openaiType: 'api_error', anthropicType: 'api_error' },
  internal_error: { status: 500, openaiType: 'api_error', anthropicType: 'api_error' },
} satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof CATALOGUE;

export class TollgateError extends Error {
  readonly code: ErrorCode;
  /** Response headers this error adds (budget refusals carry reset time and no-retry). */
  readonly headers: Record<string, string>;
  /** Overrides the catalogue status where config allows it (budget_refusal_status). */
  readonly statusOverride: number | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { cause?: unknown; headers?: Record<string, string>; status?: number } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'TollgateError';
    this.code = code;
    this.headers = opts.headers ?? {};
    this.statusOverride = opts.status;
  }

  get status(): number {
    return this.statusOverride ?? CATALOGUE[this.code].status;
  }
}

export interface RenderedError {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

export function renderError(err: TollgateError, dialect: Dialect): RenderedError {
  const spec = CATALOGUE[err.code];
  const status = err.status;
  if (dialect === 'anthropic') {
    // A 429 budget refusal reads as Anthropic's own rate-limit error to clients that expect it.
    const type = err.code === 'budget_exceeded' && status === 429 ? 'rate_limit_error' : spec.anthropicType;
    return { status, headers: err.headers, body: { type: 'error', error: { type, message: err.message } } };
  }
  return {
    status,
    headers: err.headers,
    body: { error: { message: err.message, type: spec.openaiType, param: null, code: err.code } },
  };
}

/** The dialect of Tollgate's own errors on a URL: Anthropic routes get Anthropic envelopes. */
export function dialectOf(url: string): Dialect {
  return url.startsWith('/v1/messages') ? 'anthropic' : 'openai';
}
