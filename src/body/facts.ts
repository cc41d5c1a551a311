/**
 * What the proxy needs to know about a request body, as plain data: it is worked out on the event
 * loop for ordinary bodies and in the body worker for large ones, with the same code.
 */
import { TollgateError } from '../errors.js';
import { walkBody, type BodyShape } from '../estimate/body-walk.js';
import { parseJsonBody } from './json.js';

export interface BodyFacts {
  /** As the client wrote it, `provider/` prefix included. */
  model: string;
  stream: boolean;
  /** The client asked for stream usage itself (`stream_options.include_usage: true`). */
  streamUsageAsked: boolean;
  shape: BodyShape;
  /** A key was given twice: JSON.parse kept the last, so that reading is what is forwarded. */
  duplicateKeys: boolean;
  /** UTF-8 bytes of the body: the free bound on its text's tokens. */
  bytes: number;
}

export type Obj = Record<string, unknown>;

/** Parse and check the shape (SPEC §7: a JSON object with a string `model`), then walk it once. */
export function readBody(text: string, bytes: number): { json: Obj; facts: BodyFacts } {
  const { value, pairs } = parseJsonBody(text);
  if (value === undefined || value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TollgateError('invalid_body', 'The request body must be a JSON object.');
  }
  const json = value as Obj;
  if (json.model === undefined || json.model === null || json.model === '') {
    throw new TollgateError('missing_model', "The request body must name a 'model'.");
  }
  if (typeof json.model !== 'string') throw new TollgateError('invalid_body', "'model' must be a string.");
  const shape = walkBody(json);
  const options = json.stream_options;
  return {
    json,
    facts: {
      model: json.model,
      stream: json.stream === true,
      streamUsageAsked: options !== null && typeof options === 'object' && (options as Obj).include_usage === true,
      shape,
      duplicateKeys: pairs > shape.keys,
      bytes,
    },
  };
}
