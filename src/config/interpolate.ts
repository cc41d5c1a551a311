/**
 * `${VAR}` and `${VAR:-default}` substitution in YAML string values. Done on parsed values, not on
 * the file text, so an env value can never inject YAML structure.
 */
const PATTERN = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export interface Interpolated {
  value: unknown;
  /** key path → variables that were referenced but unset (and had no default). */
  unset: Map<string, string[]>;
}

export function interpolateEnv(value: unknown, env: Record<string, string | undefined>): Interpolated {
  const unset = new Map<string, string[]>();
  const walk = (v: unknown, path: string): unknown => {
    if (typeof v === 'string') {
      const missing: string[] = [];
      const out = v.replace(PATTERN, (_m, name: string, fallback: string | undefined) => {
        const found = env[name];
        if (found !== undefined && found !== '') return found;
        if (fallback !== undefined) return fallback;
        missing.push(name);
        return '';
      });
      if (missing.length > 0) unset.set(path, missing);
      return out;
    }
    if (Array.isArray(v)) return v.map((item, i) => walk(item, `${path}[${i}]`));
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, item] of Object.entries(v)) out[k] = walk(item, path ? `${path}.${k}` : k);
      return out;
    }
    return v;
  };
  return { value: walk(value, ''), unset };
}
