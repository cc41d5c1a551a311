/**
 * The live configuration and what is derived from it (key index, price table). A reload swaps
 * all three at once; requests in flight keep the objects they started with.
 */
import { KeyIndex } from '../auth/keys.js';
import { PriceTable } from '../pricing/price-table.js';
import type { Config, TeamConfig } from './types.js';

export class ConfigStore {
  private state: { config: Config; keys: KeyIndex; prices: PriceTable };

  constructor(config: Config) {
    this.state = derive(config);
  }

  get config(): Config {
    return this.state.config;
  }

  get keys(): KeyIndex {
    return this.state.keys;
  }

  get prices(): PriceTable {
    return this.state.prices;
  }

  team(name: string): TeamConfig | undefined {
    return this.state.config.teams.find((t) => t.name === name);
  }

  swap(config: Config): void {
    this.state = derive(config);
  }
}

function derive(config: Config): { config: Config; keys: KeyIndex; prices: PriceTable } {
  return { config, keys: new KeyIndex(config), prices: new PriceTable(config.prices) };
}
