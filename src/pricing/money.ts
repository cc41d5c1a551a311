/**
 * Money is integer nano-dollars (1e-9 USD) everywhere: exact sums, and a JS number holds up to
 * ~9 million USD exactly, far past any one ledger's window. Floats appear only at the JSON edge.
 */
export const NANO_PER_USD = 1_000_000_000;

/** For the JSON edge: at most 9 decimals, derived from the exact integer. */
export function nanoToUsd(nano: number): number {
  return Number((nano / NANO_PER_USD).toFixed(9));
}

export function usdToNano(usd: number): number {
  return Math.round(usd * NANO_PER_USD);
}
