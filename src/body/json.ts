/**
 * Request bodies: JSON, at most MAX_DEPTH levels deep. Everything downstream (token counting,
 * re-serialising for the provider) walks the body recursively, so a hostile 10,000-level body
 * must be refused here, by a loop over the text, before anything recurses into it.
 */
import { TollgateError } from '../errors.js';

export const MAX_DEPTH = 128;

export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') return undefined;
  if (nestingDepth(text) > MAX_DEPTH) {
    throw new TollgateError('invalid_body', `The request body is nested deeper than ${MAX_DEPTH} levels.`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new TollgateError('invalid_json', 'The request body is not valid JSON.', { cause: err });
  }
}

/** Deepest nesting of [ and { outside strings; stops counting once past the limit. */
export function nestingDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) {
        max = depth;
        if (max > MAX_DEPTH) return max;
      }
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}
