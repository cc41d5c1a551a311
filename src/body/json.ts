/**
 * Request bodies: JSON, at most MAX_DEPTH levels deep. Everything downstream (the worst-case walk,
 * re-serialising for the provider) walks the body recursively, so a hostile 10,000-level body
 * must be refused here, by a loop over the text, before anything recurses into it. The same loop
 * counts key/value pairs, which tells whether JSON.parse dropped a duplicate key.
 */
import { TollgateError } from '../errors.js';

export const MAX_DEPTH = 128;

export interface ParsedJson {
  value: unknown;
  /** Key/value pairs in the text: more than the parsed value holds means a key was given twice. */
  pairs: number;
}

export function parseJsonBody(text: string): ParsedJson {
  if (text.trim() === '') return { value: undefined, pairs: 0 };
  const { depth, pairs } = scanJson(text);
  if (depth > MAX_DEPTH) {
    throw new TollgateError('invalid_body', `The request body is nested deeper than ${MAX_DEPTH} levels.`);
  }
  try {
    return { value: JSON.parse(text), pairs };
  } catch (err) {
    throw new TollgateError('invalid_json', 'The request body is not valid JSON.', { cause: err });
  }
}

/** Deepest nesting of [ and { outside strings (stops once past the limit), and `:` outside strings. */
export function scanJson(text: string): { depth: number; pairs: number } {
  let depth = 0;
  let max = 0;
  let pairs = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x3a) pairs++;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) {
        max = depth;
        if (max > MAX_DEPTH) return { depth: max, pairs };
      }
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return { depth: max, pairs };
}
