// Which config file the process reads (SPEC §1), including what npm does to `npm start --config FILE`.
import { describe, expect, it } from 'vitest';
import { chooseConfigFile } from '../../src/config/config-path.js';

describe('chooseConfigFile', () => {
  it('takes --config FILE and --config=FILE, before the environment', () => {
    expect(chooseConfigFile(['--config', 'a.yaml'], { TOLLGATE_CONFIG: 'b.yaml' })).toEqual({ ok: true, file: 'a.yaml' });
    expect(chooseConfigFile(['--config=a.yaml'], {})).toEqual({ ok: true, file: 'a.yaml' });
  });

  it('falls back to TOLLGATE_CONFIG, then config/tollgate.yaml', () => {
    expect(chooseConfigFile([], { TOLLGATE_CONFIG: 'b.yaml' })).toEqual({ ok: true, file: 'b.yaml' });
    expect(chooseConfigFile([], {})).toEqual({ ok: true, file: 'config/tollgate.yaml' });
  });

  it('honours what npm makes of `npm start --config=FILE` and `npm start --config FILE`, and says how to pass it', () => {
    const eq = chooseConfigFile([], { npm_config_config: 'x.yaml' });
    expect(eq).toMatchObject({ ok: true, file: 'x.yaml', note: expect.stringContaining('npm start -- --config FILE') });
    expect(chooseConfigFile(['x.yaml'], { npm_config_config: 'true' })).toMatchObject({ ok: true, file: 'x.yaml' });
  });

  it('refuses with the fix when npm kept --config and no file arrived', () => {
    expect(chooseConfigFile([], { npm_config_config: 'true' })).toEqual({
      ok: false, message: 'npm kept --config for itself and no file reached Tollgate: run `npm start -- --config FILE`',
    });
    expect(chooseConfigFile(['--config'], {})).toMatchObject({ ok: false });
  });
});
