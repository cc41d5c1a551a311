/**
 * Numbered, forward-only SQL migrations, one set per dialect under the top-level `migrations/`
 * (`sqlite/`, `postgres/`), each applied once in its own transaction and recorded, so a ledger
 * upgrades itself at start-up.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type Database from 'better-sqlite3';

export type Dialect = 'sqlite' | 'postgres';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export function migrationsFor(dialect: Dialect): Migration[] {
  const dir = fileURLToPath(new URL(`../../migrations/${dialect}/`, import.meta.url));
  return readdirSync(dir)
    .filter((f) => /^\d+_.+\.sql$/.test(f))
    .sort((a, b) => parseInt(a, 10) - parseInt(b, 10))
    .map((name) => ({ version: parseInt(name, 10), name, sql: readFileSync(`${dir}/${name}`, 'utf8') }));
}

export const SCHEMA_MIGRATIONS = 'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)';

export function migrate(db: Database.Database): string[] {
  db.exec(SCHEMA_MIGRATIONS);
  const applied = new Set((db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version));
  const ran: string[] = [];
  for (const m of migrationsFor('sqlite')) {
    if (applied.has(m.version)) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, Date.now());
    })();
    ran.push(m.name);
  }
  return ran;
}
