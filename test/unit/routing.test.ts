// Model → provider (SPEC §2, §8): the first provider whose globs match wins; a `provider/model`
// prefix naming a configured provider picks it and is stripped; the team's allow-list is matched
// on the stripped name.
import { describe, expect, it } from 'vitest';
import type { ProviderConfig, TeamConfig } from '../../src/config/types.js';
import { TollgateError, type ErrorCode } from '../../src/errors.js';
import { anyGlobMatches, globMatch } from '../../src/routing/glob.js';
import { routeModel } from '../../src/routing/route-model.js';

function provider(name: string, models: string[], api: ProviderConfig['api'] = 'openai'): ProviderConfig {
  return { name, api, baseUrl: `https://${name}.example/v1`, apiKey: `key-${name}`, apiKeyHint: '', models, streamIncludeUsage: true, priceFamily: api, priceFamilyReason: 'test' };
}

const OPENAI = provider('openai', ['gpt-*', 'o1*', 'o3*', 'text-embedding-*']);
const ANTHROPIC = provider('anthropic', ['claude-*'], 'anthropic');
const AZURE = provider('azure', ['gpt-4o*']);
const TOGETHER = provider('together', ['meta-llama/*', 'mistralai/*']);
const PROVIDERS = [OPENAI, ANTHROPIC, AZURE, TOGETHER];

const team = (models: string[] | undefined): TeamConfig => ({ name: 'search', keys: [], models, budgets: [] });

function codeOf(fn: () => unknown): ErrorCode | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TollgateError);
    return (err as TollgateError).code;
  }
  return undefined;
}

describe('globMatch', () => {
  it('* matches any run, ? one character, the rest literally', () => {
    expect(globMatch('gpt-*', 'gpt-4o')).toBe(true);
    expect(globMatch('gpt-*', 'gpt-')).toBe(true);
    expect(globMatch('gpt-*', 'xgpt-4o')).toBe(false);
    expect(globMatch('o1*', 'o1-mini')).toBe(true);
    expect(globMatch('o?-mini', 'o3-mini')).toBe(true);
    expect(globMatch('o?-mini', 'o13-mini')).toBe(false);
    expect(globMatch('claude-sonnet-4*', 'claude-sonnet-4-20250514')).toBe(true);
    expect(globMatch('claude-sonnet-4*', 'claude-3-5-sonnet')).toBe(false);
  });

  it('treats regex characters as literals', () => {
    expect(globMatch('gpt-4.1', 'gpt-4.1')).toBe(true);
    expect(globMatch('gpt-4.1', 'gpt-4x1')).toBe(false);
    expect(globMatch('a+b', 'aab')).toBe(false);
    expect(globMatch('a(b)|c', 'a(b)|c')).toBe(true);
    expect(globMatch('[x]', 'x')).toBe(false);
  });

  it('anchors the whole name', () => {
    expect(globMatch('gpt-4o', 'gpt-4o-mini')).toBe(false);
    expect(anyGlobMatches(['claude-*', 'gpt-4o'], 'gpt-4o')).toBe(true);
    expect(anyGlobMatches(['claude-*', 'gpt-4o'], 'gpt-4o-mini')).toBe(false);
    expect(anyGlobMatches([], 'gpt-4o')).toBe(false);
  });
});

describe('routeModel', () => {
  it('picks the first provider whose globs match, in config order', () => {
    expect(routeModel('gpt-4o', PROVIDERS, undefined)).toEqual({ provider: OPENAI, model: 'gpt-4o' });
    expect(routeModel('gpt-4o', [AZURE, OPENAI], undefined)).toEqual({ provider: AZURE, model: 'gpt-4o' });
    expect(routeModel('claude-sonnet-4-20250514', PROVIDERS, undefined)).toEqual({ provider: ANTHROPIC, model: 'claude-sonnet-4-20250514' });
  });

  it('a provider/ prefix naming a configured provider picks it and is stripped', () => {
    expect(routeModel('azure/gpt-4o', PROVIDERS, undefined)).toEqual({ provider: AZURE, model: 'gpt-4o' });
    expect(routeModel('anthropic/claude-sonnet-4', PROVIDERS, undefined)).toEqual({ provider: ANTHROPIC, model: 'claude-sonnet-4' });
  });

  it('keeps a slash in the model when the prefix is not a provider name', () => {
    expect(routeModel('meta-llama/Llama-3', PROVIDERS, undefined)).toEqual({ provider: TOGETHER, model: 'meta-llama/Llama-3' });
    expect(routeModel('together/meta-llama/Llama-3', PROVIDERS, undefined)).toEqual({ provider: TOGETHER, model: 'meta-llama/Llama-3' });
  });

  it('throws model_not_found when no provider serves the model', () => {
    expect(codeOf(() => routeModel('llama-3', PROVIDERS, undefined))).toBe('model_not_found');
    expect(codeOf(() => routeModel('groq/llama-3', PROVIDERS, undefined))).toBe('model_not_found');
    expect(codeOf(() => routeModel('openai/', PROVIDERS, undefined))).toBe('model_not_found');
    expect(codeOf(() => routeModel('', PROVIDERS, undefined))).toBe('model_not_found');
    expect(codeOf(() => routeModel('gpt-4o', [], undefined))).toBe('model_not_found');
  });

  it('model_not_found is a 404 and model_not_allowed a 403', () => {
    const notFound = (() => {
      try {
        routeModel('nope', PROVIDERS, undefined);
      } catch (e) {
        return e as TollgateError;
      }
    })();
    expect(notFound?.status).toBe(404);
    const notAllowed = (() => {
      try {
        routeModel('gpt-4o', PROVIDERS, team(['claude-*']));
      } catch (e) {
        return e as TollgateError;
      }
    })();
    expect(notAllowed?.status).toBe(403);
  });

  it('checks the team allow-list', () => {
    const search = team(['gpt-4o-mini', 'claude-*']);
    expect(routeModel('gpt-4o-mini', PROVIDERS, search).model).toBe('gpt-4o-mini');
    expect(routeModel('claude-sonnet-4', PROVIDERS, search).provider).toBe(ANTHROPIC);
    expect(codeOf(() => routeModel('gpt-4o', PROVIDERS, search))).toBe('model_not_allowed');
  });

  it('matches the allow-list on the stripped name', () => {
    expect(routeModel('anthropic/claude-sonnet-4', PROVIDERS, team(['claude-*'])).model).toBe('claude-sonnet-4');
    expect(codeOf(() => routeModel('azure/gpt-4o', PROVIDERS, team(['azure/*'])))).toBe('model_not_allowed');
    expect(codeOf(() => routeModel('azure/gpt-4o', PROVIDERS, team(['gpt-4o-mini'])))).toBe('model_not_allowed');
  });

  it('lets every model through when the team has no allow-list, but not an empty one', () => {
    expect(routeModel('gpt-4o', PROVIDERS, team(undefined)).model).toBe('gpt-4o');
    expect(codeOf(() => routeModel('gpt-4o', PROVIDERS, team([])))).toBe('model_not_allowed');
  });

  it('reports an unknown model as not found before checking the allow-list', () => {
    expect(codeOf(() => routeModel('llama-3', PROVIDERS, team(['claude-*'])))).toBe('model_not_found');
  });
});
