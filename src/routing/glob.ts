/** Model-name globs: `*` matches any run of characters, `?` one; everything else is literal. */
const cache = new Map<string, RegExp>();

export function globMatch(glob: string, value: string): boolean {
  let re = cache.get(glob);
  if (!re) {
    const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
    re = new RegExp(`^${body}$`);
    cache.set(glob, re);
  }
  return re.test(value);
}

export function anyGlobMatches(globs: readonly string[], value: string): boolean {
  return globs.some((g) => globMatch(g, value));
}
