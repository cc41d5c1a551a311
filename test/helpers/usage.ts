import { ZERO_USAGE, type Usage } from '../../src/metering/usage.js';

/** A usage record with every count 0 but the ones given. */
export const usage = (u: Partial<Usage>): Usage => ({ ...ZERO_USAGE, ...u });
