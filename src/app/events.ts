// Use case on the audit trail: the events that match the filters an admin gives (kind, user, flow, connection, since).
// A name that matches no event and names nothing either is refused like any unknown name; a deleted user's or a
// removed connection's events stay findable by the name they had.
import { IdpError } from '../core/errors.js';
import { hint } from '../core/fixes.js';
import type { EventQuery, EventRecord, Store } from '../ports.js';
import { requireConnection, requireUser } from './lookup.js';

export interface EventFilters extends Omit<EventQuery, 'since'> {
  /** A duration back from now (`30s`, `15m`, `2h`, `7d`) or an ISO time. */
  since?: string;
}

export async function listEvents(store: Store, filters: EventFilters): Promise<EventRecord[]> {
  const user =
    filters.user === undefined ? undefined : ((await store.users.find(filters.user))?.username ?? filters.user);
  const since = filters.since === undefined ? undefined : sinceTime(filters.since, store.clock());
  const events = await store.events.list({ ...filters, user, since });
  if (events.length === 0) {
    if (filters.user !== undefined) await requireUser(store, filters.user);
    if (filters.connection !== undefined) await requireConnection(store, filters.connection);
  }
  return events;
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `15m` before `now`, or an ISO date or time, as the ISO time events are stored with. */
function sinceTime(text: string, now: Date): string {
  const duration = /^(\d{1,9})([smhd])$/.exec(text);
  if (duration) return new Date(now.getTime() - Number(duration[1]) * UNIT_MS[duration[2]!]!).toISOString();
  const at = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(at)) {
    throw new IdpError(
      'INVALID_VALUE',
      `'${text}' is neither a duration nor an ISO time`,
      hint`e.g. ${{ kind: 'option', option: 'since', value: '15m' }} (s, m, h, d) or ${{ kind: 'option', option: 'since', value: '2026-12-01T09:00:00Z' }}`,
    );
  }
  return new Date(at).toISOString();
}
