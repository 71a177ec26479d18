// How the terminal shows values the use cases return: timestamps in tables, before -> after changes.
import type { Change } from '../app/diff.js';

/** `2026-11-29 12:23` — minutes are enough in a table; --json keeps the full timestamp. */
export function shortTime(iso: string | null): string {
  return iso ? iso.slice(0, 16).replace('T', ' ') : '-';
}

export function formatChanges(changes: Change[]): string {
  const show = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));
  return changes.map((c) => `  ${c.path}: ${show(c.before)} -> ${show(c.after)}`).join('\n');
}
