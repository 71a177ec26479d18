// How the terminal shows values the use cases return: timestamps in tables, before -> after changes, and passkeys in
// --json with the snake_case keys of every other document (factors, users export).
import type { Change } from '../app/diff.js';
import type { PasskeySummary } from '../app/passkeys.js';
import { passkeyFactorId } from '../core/passkeys.js';

/** `2026-11-29 12:23` — minutes are enough in a table; --json keeps the full timestamp. */
export function shortTime(iso: string | null): string {
  return iso ? iso.slice(0, 16).replace('T', ' ') : '-';
}

export function formatChanges(changes: Change[]): string {
  const show = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));
  return changes.map((c) => `  ${c.path}: ${show(c.before)} -> ${show(c.after)}`).join('\n');
}

/** A passkey in --json: its factor id (`passkey:<id>`, what users mfa remove takes) first, keys as users export spells them. */
export function passkeyJson(p: PasskeySummary) {
  return {
    factor: passkeyFactorId(p.id),
    id: p.id,
    name: p.name,
    created_at: p.createdAt,
    last_used_at: p.lastUsedAt,
    aaguid: p.aaguid,
    software: p.software,
  };
}
