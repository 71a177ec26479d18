// Which settings of a connection say what provider its subjects come from: the key of every association, so a change
// of any of them hands the connection's links to another provider's subjects.
import type { Connection } from './types.js';

const UPSTREAM_FIELDS = { type: 'type', sandbox: 'sandbox', issuer: 'issuer', baseUrl: 'base URL' } as const;
type Upstream = Pick<Connection, keyof typeof UPSTREAM_FIELDS>;

/** The upstream settings that `next` changes, as messages name them. */
export function upstreamChanges(current: Upstream, next: Partial<Upstream>): string[] {
  return (Object.keys(UPSTREAM_FIELDS) as (keyof Upstream)[])
    .filter((f) => next[f] !== undefined && next[f] !== current[f])
    .map((f) => UPSTREAM_FIELDS[f]);
}
