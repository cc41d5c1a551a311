/**
 * A small typed reader over untrusted parsed YAML that collects every problem with its key path
 * (`teams[1].budgets[0].limit_usd: must be a positive number`) instead of stopping at the first.
 */
export class ConfigReader {
  readonly problems: string[] = [];

  problem(path: string, message: string): void {
    this.problems.push(`${path}: ${message}`);
  }

  object(v: unknown, path: string): Record<string, unknown> | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'object' || Array.isArray(v)) {
      this.problem(path, 'must be a mapping');
      return undefined;
    }
    return v as Record<string, unknown>;
  }

  array(v: unknown, path: string): unknown[] {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) {
      this.problem(path, 'must be a list');
      return [];
    }
    return v;
  }

  string(v: unknown, path: string, opts: { required?: boolean; fallback?: string } = {}): string | undefined {
    if (v === undefined || v === null || v === '') {
      if (opts.required && opts.fallback === undefined) this.problem(path, 'is required');
      return opts.fallback;
    }
    if (typeof v !== 'string') {
      this.problem(path, 'must be a string');
      return opts.fallback;
    }
    return v;
  }

  stringList(v: unknown, path: string): string[] {
    return this.array(v, path).flatMap((item, i) => {
      const s = this.string(item, `${path}[${i}]`);
      return s === undefined ? [] : [s];
    });
  }

  /** Numbers may arrive as strings after `${VAR}` substitution. */
  number(
    v: unknown,
    path: string,
    opts: { fallback?: number; min?: number; max?: number; positive?: boolean; integer?: boolean } = {},
  ): number | undefined {
    if (v === undefined || v === null || v === '') {
      if (opts.fallback === undefined) this.problem(path, 'is required');
      return opts.fallback;
    }
    const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
    const kind = opts.integer ? 'an integer' : 'a number';
    const ok =
      typeof n === 'number' &&
      Number.isFinite(n) &&
      (!opts.integer || Number.isInteger(n)) &&
      (!opts.positive || n > 0) &&
      (opts.min === undefined || n >= opts.min) &&
      (opts.max === undefined || n <= opts.max);
    if (!ok) {
      const bounds = opts.positive
        ? `must be a positive ${kind.replace('a ', '').replace('an ', '')}`
        : opts.min !== undefined && opts.max !== undefined
          ? `must be ${kind} from ${opts.min} to ${opts.max}`
          : opts.min !== undefined
            ? `must be ${kind} of at least ${opts.min}`
            : `must be ${kind}`;
      this.problem(path, bounds);
      return opts.fallback;
    }
    return n as number;
  }

  boolean(v: unknown, path: string, fallback: boolean): boolean {
    if (v === undefined || v === null || v === '') return fallback;
    if (v === true || v === 'true') return true;
    if (v === false || v === 'false') return false;
    this.problem(path, 'must be true or false');
    return fallback;
  }

  oneOf<T extends string | number>(v: unknown, path: string, allowed: readonly T[], fallback: T): T {
    if (v === undefined || v === null || v === '') return fallback;
    const match = allowed.find((a) => a === v || String(a) === String(v));
    if (match === undefined) {
      this.problem(path, `must be one of ${allowed.join(', ')}`);
      return fallback;
    }
    return match;
  }

  /**
   * Unknown keys fail closed (SPEC §2): a typo such as `budget:` for `budgets:` would otherwise
   * drop a cap without a word. The nearest known key is suggested.
   */
  unknownKeys(obj: Record<string, unknown>, path: string, known: readonly string[]): void {
    for (const k of Object.keys(obj)) {
      if (known.includes(k)) continue;
      const near = nearest(k, known);
      this.problem(path ? `${path}.${k}` : k, near ? `unknown key; did you mean ${near}?` : `unknown key (expected one of ${known.join(', ')})`);
    }
  }
}

/** The known key within a few edits of `key` (typos, plurals, dashes for underscores), if one is. */
export function nearest(key: string, known: readonly string[]): string | undefined {
  const folded = key.toLowerCase().replace(/-/g, '_');
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const k of known) {
    const lower = k.toLowerCase();
    // A shortened key (`cached` for `cached_input`) is near however many letters it drops.
    const prefix = Math.min(folded.length, lower.length) >= 4 && (lower.startsWith(folded) || folded.startsWith(lower));
    const d = prefix ? 1 : editDistance(folded, lower);
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

/** Levenshtein distance; config keys are short, so the quadratic table is nothing. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row.push(Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost));
    }
    prev = row;
  }
  return prev[b.length] as number;
}
