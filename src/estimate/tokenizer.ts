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
 * Our count stands in for another vendor's tokenizer only in worst cases: Anthropic's yields
 * more tokens than o200k for the same text (SPEC §8: ×1.5).
 */
export function safetyFactor(model: string): number {
  return /^claude/.test(model) ? 1.5 : 1;
}

export function countTokens(text: string, encoding: EncodingName): number {
  if (text.length === 0) return 0;
  return encoder(encoding).encode(text, [], []).length;
}
