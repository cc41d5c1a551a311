/**
 * Which config file to read (SPEC §1): `--config FILE` (`npm start -- --config FILE`), else
 * `TOLLGATE_CONFIG`, else config/tollgate.yaml. `npm start --config FILE` typed without `--` is
 * common: npm then keeps `--config` for itself and hands the script `npm_config_config` (the
 * value with `=`, `true` without it, the file then left over as an argument). Both are honoured,
 * and said so, rather than silently starting on the default file.
 */
export type ConfigChoice = { ok: true; file: string; note?: string } | { ok: false; message: string };

const DEFAULT_FILE = 'config/tollgate.yaml';

export function chooseConfigFile(argv: readonly string[], env: Record<string, string | undefined>): ConfigChoice {
  const i = argv.indexOf('--config');
  if (i !== -1) {
    const next = argv[i + 1];
    if (next === undefined || next.startsWith('--')) return { ok: false, message: '--config needs a file: --config path/to/tollgate.yaml' };
    return { ok: true, file: next };
  }
  const eq = argv.find((a) => a.startsWith('--config='));
  if (eq) return { ok: true, file: eq.slice('--config='.length) };

  const fromNpm = env.npm_config_config;
  if (fromNpm !== undefined && fromNpm !== '') {
    const note = 'npm passed --config to itself (npm_config_config); `npm start -- --config FILE` passes it to Tollgate';
    if (fromNpm !== 'true') return { ok: true, file: fromNpm, note };
    const leftOver = argv.filter((a) => !a.startsWith('-'));
    if (leftOver.length === 1) return { ok: true, file: leftOver[0] as string, note };
    return { ok: false, message: 'npm kept --config for itself and no file reached Tollgate: run `npm start -- --config FILE`' };
  }
  return { ok: true, file: env.TOLLGATE_CONFIG || DEFAULT_FILE };
}
