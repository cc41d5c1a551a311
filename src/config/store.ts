/**
 * The live configuration and what is derived from it (key index, price table). A reload swaps
 * all three at once; requests in flight keep the objects they started with.
 */
import { KeyIndex } from '../auth/keys.js';
import { PriceTable } from '../pricing/price-table.js';
import type { Config, TeamConfig } from './types.js';

export class ConfigStore {
  private state: Derived;

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
    return this.state.teams.get(name);
  }

  swap(config: Config): void {
    this.state = derive(config);
  }
}

interface Derived {
  config: Config;
  keys: KeyIndex;
  prices: PriceTable;
  teams: ReadonlyMap<string, TeamConfig>;
}

function derive(config: Config): Derived {
  return {
    config,
    keys: new KeyIndex(config),
    prices: new PriceTable(config.prices),
    teams: new Map(config.teams.map((t) => [t.name, t])),
  };
}
