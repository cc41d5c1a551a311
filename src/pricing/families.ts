/**
 * Whose price list applies to a provider (SPEC §9): its `price_provider` when set, else the one
 * its base URL's host belongs to, else its `api` kind. Users name providers freely
 * (`openai-prod`, `azure-east`): the name never decides a price. Hosts are recognised by the
 * price data's own patterns (@pydantic/genai-prices `api_pattern`), listed in README.
 */
import { findProvider } from '@pydantic/genai-prices';
import type { ProviderApi } from '../config/types.js';

export interface PriceFamily {
  family: string;
  /** Why, for the start-up log line. */
  reason: string;
}

/** A family id as the price data knows it (`xai` → `x-ai`, `gemini` → `google`), or undefined. */
export function knownFamily(id: string): string | undefined {
  return findProvider({ providerId: id })?.id;
}

export function priceFamilyOf(p: { priceProvider?: string | undefined; baseUrl: string; api: ProviderApi }): PriceFamily {
  if (p.priceProvider !== undefined) {
    return { family: knownFamily(p.priceProvider) ?? p.priceProvider, reason: 'price_provider' };
  }
  const byHost = findProvider({ providerApiUrl: p.baseUrl })?.id;
  if (byHost !== undefined) return { family: byHost, reason: `base_url host ${hostOf(p.baseUrl)}` };
  return { family: p.api, reason: `api: ${p.api} (host ${hostOf(p.baseUrl)} is no known provider's)` };
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}
