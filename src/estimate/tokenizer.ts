/**
 * Token counting with js-tiktoken. Encoders are built on first use (each costs ~100 ms). Text
 * that spells a special token (`<|endoftext|>`) is counted as the ordinary text providers bill it
 * as, never as one token and never thrown on: prompts are client-controlled.
 */
import { Tiktoken } from 'js-tiktoken/lite';
import cl100k from 'js-tiktoken/ranks/cl100k_base';
import o200k from 'js-tiktoken/ranks/o200k_base';

export type EncodingName = 'o200k_base' | 'cl100k_base';

const encoders = new Map<EncodingName, Tiktoken>();

function encoder(name: EncodingName): Tiktoken {
  let enc = encoders.get(name);
  if (!enc) {
    enc = new Tiktoken(name === 'o200k_base' ? o200k : cl100k);
    encoders.set(name, enc);
  }
  return enc;
}

/** o200k for OpenAI's current models; cl100k for gpt-4 / gpt-3.5 and the embeddings of that era. */
export function encodingFor(model: string): EncodingName {
  if (/^(gpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|o\d|chatgpt-4o)/.test(model)) return 'o200k_base';
  if (/^(gpt-4|gpt-3\.5|text-embedding-(ada|3)|davinci|babbage)/.test(model)) return 'cl100k_base';
  return 'o200k_base';
}

/**
 * Our count stands in for another vendor's tokenizer only in worst cases (SPEC §8): Anthropic's
 * yields more tokens than o200k for the same text (×1.5); other non-OpenAI models get ×1.3.
 */
export function safetyFactor(model: string): number {
  if (/^claude/.test(model)) return 1.5;
  if (/^(gpt-|o\d|chatgpt-|text-embedding-|davinci|babbage|ft:gpt)/.test(model)) return 1;
  return 1.3;
}

/**
 * BPE merging in js-tiktoken is quadratic in the length of a run without spaces (20,000 letters
 * take ~36 s): one prompt could stall the event loop. Runs are cut into RUN_SLICE-character slices
 * and counted apart (cuts can only add tokens: the safe side), and past RUN_CHARS_COUNTED such
 * characters, or MAX_COUNTED_CHARS in all, the rest is bounded by its UTF-8 bytes, never counted.
 */
const RUN_SLICE = 32;
const LONG_RUN = new RegExp(`(\\S{${RUN_SLICE}})`);
const RUN_CHARS_COUNTED = 20_000;
const MAX_COUNTED_CHARS = 1_000_000;

export function countTokens(text: string, encoding: EncodingName): number {
  if (text.length === 0) return 0;
  const counted = text.length > MAX_COUNTED_CHARS ? text.slice(0, MAX_COUNTED_CHARS) : text;
  let tokens = text.length > MAX_COUNTED_CHARS ? Buffer.byteLength(text.slice(MAX_COUNTED_CHARS), 'utf8') : 0;
  const enc = encoder(encoding);
  let runBudget = RUN_CHARS_COUNTED;
  for (const piece of counted.split(LONG_RUN)) {
    if (piece.length === 0) continue;
    const isRunSlice = piece.length === RUN_SLICE && !/\s/.test(piece);
    if (isRunSlice && runBudget <= 0) {
      tokens += Buffer.byteLength(piece, 'utf8');
      continue;
    }
    if (isRunSlice) runBudget -= RUN_SLICE;
    tokens += enc.encode(piece, [], []).length;
  }
  return tokens;
}
