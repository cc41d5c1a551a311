/**
 * A small typed reader over untrusted parsed YAML that collects every problem with its key path
 * (`teams[1].budgets[0].limit_usd: must be a positive number`) instead of stopping at the first.
 */
export class ConfigReader {
  readonly problems: string[] = [];
  /** Not fatal: an unknown key is most likely a newer or foreign option, so it is named and skipped. */
  readonly warnings: string[] = [];

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

  unknownKeys(obj: Record<string, unknown>, path: string, known: readonly string[]): void {
    for (const k of Object.keys(obj)) {
      if (!known.includes(k)) this.warnings.push(`${path ? `${path}.${k}` : k}: unknown key, ignored (expected one of ${known.join(', ')})`);
    }
  }
}
