/** The messages between the event loop and the body worker: plain data only. */
import type { ErrorCode } from '../errors.js';
import type { UpstreamChanges } from '../upstream/request-body.js';
import type { BodyFacts } from './facts.js';

/** A body travels as text (small ones) or as shared bytes (large ones: no copy). */
type Source = { text: string; shared?: undefined } | { text?: undefined; shared: SharedArrayBuffer };

export type Job = Source &
  (
    | { kind: 'analyze' }
    | { kind: 'count'; model: string }
    | { kind: 'rewrite'; changes: UpstreamChanges }
  );

export type JobResult =
  | { kind: 'ready' }
  | { kind: 'analyzed'; facts: BodyFacts; promptEstimate: number }
  | { kind: 'counted'; tokens: number }
  | { kind: 'rewritten'; text: string }
  /** The body is not one Tollgate forwards (not JSON, no model…): a 400 for the client. */
  | { kind: 'refused'; code: ErrorCode; message: string }
  | { kind: 'failed'; message: string };
