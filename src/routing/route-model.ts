/**
 * Model → provider. A `provider/model` prefix naming a configured provider picks it and is
 * stripped; otherwise the first provider whose globs match wins (config order is the priority).
 */
import type { ProviderConfig, TeamConfig } from '../config/types.js';
import { TollgateError } from '../errors.js';
import { anyGlobMatches } from './glob.js';

export interface Route {
  provider: ProviderConfig;
  /** The model id sent upstream and priced (prefix stripped). */
  model: string;
}

export function routeModel(requested: string, providers: readonly ProviderConfig[], team: TeamConfig | undefined): Route {
  const slash = requested.indexOf('/');
  let route: Route | undefined;
  if (slash > 0) {
    const named = providers.find((p) => p.name === requested.slice(0, slash));
    if (named) route = { provider: named, model: requested.slice(slash + 1) };
  }
  route ??= firstMatch(requested, providers);
  if (!route || route.model === '') {
    throw new TollgateError('model_not_found', `The model '${requested}' does not exist or no provider serves it.`);
  }
  if (team?.models && !anyGlobMatches(team.models, route.model)) {
    throw new TollgateError('model_not_allowed', `Team '${team.name}' may not use model '${route.model}'.`);
  }
  return route;
}

function firstMatch(model: string, providers: readonly ProviderConfig[]): Route | undefined {
  const provider = providerFor(model, providers);
  return provider ? { provider, model } : undefined;
}

/** The provider a bare model id goes to: the first whose globs match (config order is priority). */
export function providerFor(model: string, providers: readonly ProviderConfig[]): ProviderConfig | undefined {
  return providers.find((p) => anyGlobMatches(p.models, model));
}
