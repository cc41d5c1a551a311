/**
 * How a request ended, and the usage to record for it. The provider's reported usage wins
 * whenever the response completed; otherwise tokens are estimated from the request and the text
 * relayed so far, and the record is flagged `estimated`.
 */
import { estimateOutputTokens } from '../estimate/prompt.js';
import { ZERO_USAGE, type Usage } from './usage.js';

export type Outcome =
  /** The provider answered in full. `reported` is undefined when it sent no usage. */
  | { kind: 'complete'; status: number; reported: Usage | undefined; text: string }
  /** The provider answered with an error status: nothing is billed. */
  | { kind: 'provider_error'; status: number }
  /** Never reached the provider (unreachable / reset before an answer). */
  | { kind: 'unreachable'; status: number }
  /** Accepted for later (a Responses `background` job): billed later, unseen here, so the worst case. */
  | { kind: 'deferred'; status: number; inputTokens: number; outputTokens: number }
  /** Cut before the end: stream broke, provider timed out, or the client left. */
  | { kind: 'cut'; status: number; reported: Usage | undefined; text: string; reason: 'client_left' | 'upstream_cut' | 'timeout' };

export interface MeteredUsage {
  usage: Usage;
  estimated: boolean;
}

/** `estimatePrompt` is called only when the provider reported no input count. */
export function usageOf(outcome: Outcome, estimatePrompt: () => number, model: string, free: boolean): MeteredUsage {
  if (free || outcome.kind === 'provider_error' || outcome.kind === 'unreachable') return { usage: ZERO_USAGE, estimated: false };
  if (outcome.kind === 'complete' && outcome.reported) return { usage: outcome.reported, estimated: false };
  if (outcome.kind === 'deferred') {
    return { usage: { ...ZERO_USAGE, inputTokens: outcome.inputTokens, outputTokens: outcome.outputTokens }, estimated: true };
  }
  // Partial reports (Anthropic's message_start carries the real input count) are kept; the rest is counted.
  const reported = outcome.reported;
  const outputTokens = Math.max(reported?.outputTokens ?? 0, estimateOutputTokens(outcome.text, model));
  return {
    usage: {
      ...(reported ?? ZERO_USAGE),
      inputTokens: reported?.inputTokens || estimatePrompt(),
      outputTokens,
    },
    estimated: true,
  };
}
