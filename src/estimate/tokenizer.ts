/**
 * Token counting with js-tiktoken, in linear time on any input. Encoders are built on first use
 * (each costs ~100 ms). Text that spells a special token (`<|endoftext|>`) is counted as the
 * ordinary text providers bill it as, never as one token and never thrown on: prompts are
 * client-controlled.
 *
 * Why not `encode(text)` whole: tiktoken first splits text into pieces with its pattern (linear),
 * then merges each piece's bytes pair by pair, which js-tiktoken does in time quadratic in the
 * piece's length. Whitespace runs, letter runs, CJK and emoji runs are each one piece: 25,000
 * spaces took 54 s. So pieces are cut out with the same pattern here, each short piece is merged
 * on its own (the count of a piece does not depend on its neighbours, so the sum is exact), and a
 * long piece is bounded by its UTF-8 bytes (a token is at least one byte) or, for estimates,
 * counted in slices.
 */
import { Tiktoken, type TiktokenBPE } from 'js-tiktoken/lite';
import cl100k from 'js-tiktoken/ranks/cl100k_base';
import o200k from 'js-tiktoken/ranks/o200k_base';

export type EncodingName = 'o200k_base' | 'cl100k_base';

/** Pieces longer than this are never merged: their cost grows with the square of their length. */
const MAX_MERGED_PIECE = 32;
/** Pieces counted once are remembered: prose repeats its pieces, so a cache makes counting cheap. */
const CACHE_ENTRIES = 50_000;

interface Encoder {
  tiktoken: Tiktoken;
  pattern: RegExp;
  cache: Map<string, number>;
}

const RANKS: Record<EncodingName, TiktokenBPE> = { o200k_base: o200k, cl100k_base: cl100k };
const encoders = new Map<EncodingName, Encoder>();

function encoder(name: EncodingName): Encoder {
  let enc = encoders.get(name);
  if (!enc) {
    const ranks = RANKS[name];
    enc = { tiktoken: new Tiktoken(ranks), pattern: new RegExp(ranks.pat_str, 'gu'), cache: new Map() };
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
 * How much merging one count may still do, in characters, shared by every string of a request.
 * Past it, text is not merged: `bound` counts it by UTF-8 bytes (an upper bound), `estimate`
 * extrapolates from the tokens per character seen so far (a best guess, for ledger estimates).
 */
export class CountBudget {
  private counted = 0;
  private tokensCounted = 0;

  constructor(
    private remaining: number,
    readonly past: 'bound' | 'estimate',
  ) {}

  /** @internal used by countTokens */
  take(chars: number): boolean {
    if (this.remaining < chars) return false;
    this.remaining -= chars;
    return true;
  }

  /** @internal */
  note(chars: number, tokens: number): void {
    this.counted += chars;
    this.tokensCounted += tokens;
  }

  /** @internal tokens for text that was not merged */
  uncounted(text: string): number {
    if (this.past === 'bound') return utf8Bytes(text);
    // English runs ~4 characters a token; before anything is counted, assume the dense side.
    const ratio = this.counted > 0 ? this.tokensCounted / this.counted : 0.5;
    return Math.ceil(text.length * ratio);
  }
}

/** Unbounded: for short fixed strings and tests. */
const UNLIMITED = (): CountBudget => new CountBudget(Number.POSITIVE_INFINITY, 'bound');

export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/**
 * The pattern runs over windows of this many characters, never the whole text: on a run of
 * millions of CJK or emoji characters one match overflows the regex engine's stack. A match
 * that touches a window's end may continue past it, so it is left for the next window, which
 * starts where it starts; every match counted is then the one the whole text would give.
 */
const WINDOW = 8192;

export function countTokens(text: string, encoding: EncodingName, budget: CountBudget = UNLIMITED()): number {
  const enc = encoder(encoding);
  let tokens = 0;
  for (let pos = 0; pos < text.length; ) {
    let end = Math.min(text.length, pos + WINDOW);
    if (end < text.length && isHighSurrogate(text.charCodeAt(end - 1))) end--; // never split a character
    const window = text.slice(pos, end);
    const last = end === text.length;
    const pattern = enc.pattern;
    pattern.lastIndex = 0;
    let done = 0; // characters of the window counted
    for (let m = pattern.exec(window); m !== null; m = pattern.exec(window)) {
      const piece = m[0];
      if (piece.length === 0) {
        pattern.lastIndex++; // the pattern cannot match empty, but a loop must never stall on it
        continue;
      }
      if (!last && m.index + piece.length === window.length) break; // may go on past the window
      // The pattern covers every character; a gap would only ever be bounded, never skipped.
      if (m.index > done) tokens += utf8Bytes(window.slice(done, m.index));
      done = m.index + piece.length;
      const merged = piece.length <= MAX_MERGED_PIECE || budget.past === 'estimate';
      if (merged && !budget.take(piece.length)) return tokens + budget.uncounted(text.slice(pos + m.index));
      const n = piece.length <= MAX_MERGED_PIECE ? pieceTokens(enc, piece) : longPieceTokens(enc, piece, budget.past);
      if (merged) budget.note(piece.length, n);
      tokens += n;
    }
    if (done === 0 && !last) {
      // One piece fills the window: a run of at least WINDOW characters, long by any measure.
      if (budget.past === 'estimate' && !budget.take(window.length)) return tokens + budget.uncounted(text.slice(pos));
      tokens += longPieceTokens(enc, window, budget.past);
      done = window.length;
    } else if (last && done < window.length) {
      tokens += utf8Bytes(window.slice(done));
      done = window.length;
    }
    pos += done;
  }
  return tokens;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function pieceTokens(enc: Encoder, piece: string): number {
  let n = enc.cache.get(piece);
  if (n === undefined) {
    n = enc.tiktoken.encode(piece, [], []).length;
    if (enc.cache.size >= CACHE_ENTRIES) enc.cache.clear();
    enc.cache.set(piece, n);
  }
  return n;
}

/**
 * A bound takes the bytes: exact merging is too slow, and slices could in theory merge into
 * fewer tokens than the whole. An estimate counts slices (close to the real count).
 */
function longPieceTokens(enc: Encoder, piece: string, past: 'bound' | 'estimate'): number {
  if (past === 'bound') return utf8Bytes(piece);
  let n = 0;
  for (let i = 0; i < piece.length; i += MAX_MERGED_PIECE) n += pieceTokens(enc, piece.slice(i, i + MAX_MERGED_PIECE));
  return n;
}

/** Build the encoders now, not inside the first request that needs one. */
export function warmTokenizers(): void {
  for (const name of Object.keys(RANKS) as EncodingName[]) countTokens('warm up', name);
}
