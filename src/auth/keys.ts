/**
 * Key → principal. Keys are held only as sha256 digests and looked up by digest, so no secret is
 * ever compared as a string (no timing oracle) or kept in memory in the clear after start-up.
 */
import { createHash } from 'node:crypto';
import type { Config } from '../config/types.js';

export type Principal =
  | { kind: 'admin'; keyId: string }
  | { kind: 'team'; team: string; keyId: string };

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/** A stable, non-secret id for a key: enough to group usage by key, useless to an attacker. */
export function keyIdOf(digest: string): string {
  return `key_${digest.slice(0, 12)}`;
}

function digestOf(configured: string): string {
  return configured.startsWith('sha256:') ? configured.slice(7).toLowerCase() : sha256Hex(configured);
}

export class KeyIndex {
  private readonly byDigest = new Map<string, Principal>();

  constructor(config: Config) {
    for (const key of config.adminKeys) {
      const d = digestOf(key);
      this.byDigest.set(d, { kind: 'admin', keyId: keyIdOf(d) });
    }
    for (const team of config.teams) {
      for (const key of team.keys) {
        const d = digestOf(key);
        this.byDigest.set(d, { kind: 'team', team: team.name, keyId: keyIdOf(d) });
      }
    }
  }

  lookup(presented: string | undefined): Principal | undefined {
    if (!presented) return undefined;
    return this.byDigest.get(sha256Hex(presented));
  }
}

/** `Authorization: Bearer <key>` (OpenAI SDKs) or `x-api-key: <key>` (Anthropic SDKs). */
export function presentedKey(headers: Record<string, string | string[] | undefined>): string | undefined {
  const auth = headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(.+)$/i.exec(auth.trim());
    if (m?.[1]) return m[1].trim();
  }
  const xKey = headers['x-api-key'];
  if (typeof xKey === 'string' && xKey.trim() !== '') return xKey.trim();
  return undefined;
}
