// Finding apps, connections and users by name for a use case, refusing an unknown name with "did you mean".
import { didYouMean, IdpError, unknownNameHint } from '../core/errors.js';
import { hint } from '../core/fixes.js';
import type { App, Connection, User } from '../core/types.js';
import type { Store } from '../ports.js';

export async function requireApp(store: Store, name: string): Promise<App> {
  const app = await store.apps.get(name);
  if (!app)
    throw new IdpError(
      'APP_NOT_FOUND',
      `no app named '${name}'`,
      unknownNameHint('app', name, await store.apps.names()),
    );
  return app;
}

export async function requireConnection(store: Store, name: string): Promise<Connection> {
  const connection = await store.connections.get(name);
  if (!connection)
    throw new IdpError(
      'CONNECTION_NOT_FOUND',
      `no connection named '${name}'`,
      unknownNameHint('connection', name, await store.connections.names()),
    );
  return connection;
}

export async function requireUser(store: Store, ref: string): Promise<User> {
  const user = await store.users.find(ref);
  if (!user) {
    const close = didYouMean(ref, await store.users.lookalikes(ref));
    throw new IdpError(
      'USER_NOT_FOUND',
      `no user with id, username or email '${ref}'`,
      hint`${close ? `did you mean '${close}'? ` : ''}see \`${{ kind: 'list', what: 'user', search: ref }}\``,
    );
  }
  return user;
}
