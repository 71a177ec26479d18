// Listing the user store a page at a time: the read scripts page through, kept out of users.ts so that listing loads
// none of the admin use cases.
import { didYouMean, IdpError } from '../core/errors.js';
import { hint } from '../core/fixes.js';
import type { User } from '../core/types.js';
import type { ListQuery, Store } from '../ports.js';

/**
 * A page of users. A source that matches nobody and is neither `local` nor a connection is a typo, refused with the
 * closest name; users of a removed connection keep its name as their source, so a match is never refused.
 */
export async function listUsers(store: Store, query: ListQuery): Promise<{ users: User[]; next: string | null }> {
  const page = await store.users.list(query);
  const { source } = query;
  if (source === undefined || page.users.length > 0 || source === 'local' || (await store.connections.get(source)))
    return page;
  const known = ['local', ...(await store.connections.names())];
  const close = didYouMean(source, known);
  const list = { kind: 'list', what: 'connection' } as const;
  throw new IdpError(
    'INVALID_VALUE',
    `no user source named '${source}': it is 'local' or a connection`,
    close ? hint`did you mean '${close}'? (${list} lists the connections)` : `sources: ${known.join(', ')}`,
  );
}
