// Use cases on local users: create, set (profile attributes, status), delete and show, each change with its audit
// event. A password arrives already read; the use case checks and hashes it.
import { didYouMean, IdpError } from '../core/errors.js';
import { hint } from '../core/fixes.js';
import { refuseProtectedInRecords } from '../core/protected-claims.js';
import type { User } from '../core/types.js';
import { refuseEmailShapedUsername, usernameFitsEmail, validEmail, validUsername } from '../core/user-fields.js';
import type { ListQuery, Store } from '../ports.js';
import type { Admin } from './deps.js';
import { requireUser } from './lookup.js';
import { profilePatch } from './profile.js';
import { userView } from './views.js';

const MIN_PASSWORD = 8;

export interface NewUserInput {
  username: string;
  email: string;
  emailVerified: boolean;
  name: string | null;
  password: string | null;
}

export async function createUser({ store, actor }: Admin, input: NewUserInput): Promise<User> {
  const { username, email } = input;
  if (!validUsername(username)) throw new IdpError('INVALID_VALUE', `'${username}' is not a valid username`, 'use letters, digits and . _ @ + - (up to 64)');
  if (!validEmail(email)) throw new IdpError('INVALID_VALUE', `'${email}' is not a valid email address`, hint`e.g. ${{ kind: 'option', option: 'email', value: 'dave@example.com' }}`);
  refuseEmailShapedUsername(username, email);
  if (store.users.identifierTaken(username)) throw new IdpError('USER_EXISTS', `username '${username}' is taken`, 'choose another username');
  if (store.users.byEmail(email)) throw new IdpError('USER_EXISTS', `email ${email} belongs to another user`, hint`see ${{ kind: 'show', what: 'user', name: email }}`);
  let passwordHash: string | null = null;
  if (input.password !== null) {
    if (input.password.length < MIN_PASSWORD) {
      throw new IdpError('INVALID_VALUE', `the password must have at least ${MIN_PASSWORD} characters`, hint`pipe a longer one to ${{ kind: 'option', option: 'password-stdin' }}`);
    }
    const { hashPassword } = await import('../core/password.js');
    passwordHash = await hashPassword(input.password);
  }
  return store.tx(() => {
    const created = store.users.insert({ username, email, emailVerified: input.emailVerified, name: input.name, passwordHash, source: 'local' });
    store.events.recordConfig({ actor, action: 'users.create', target: `user ${username}`, detail: `created local user ${username}`, before: null, after: userView(created) });
    return created;
  });
}

export interface UserSettings {
  /** Attribute edits (profile fields by name, anything else custom; an empty value removes it). */
  attributes?: [string, string][];
  status?: User['status'];
}

export function setUser({ store, actor }: Admin, ref: string, settings: UserSettings) {
  const user = requireUser(store, ref);
  const patch = profilePatch(store, user, settings.attributes ?? [], 'admin');
  const status = settings.status ?? user.status;
  const before = userView(user);
  const after = userView({ ...user, ...patch, status });
  const changed = JSON.stringify(before) !== JSON.stringify(after);
  // Unlocking (or enabling) also forgives wrong passwords and MFA codes counted so far, even on an active account.
  const reset = store.tx(() => {
    if (changed) {
      store.users.updateProfile(user.id, patch);
      if (status !== user.status) store.users.setStatus(user.id, status);
      store.events.recordConfig({ actor, action: 'users.set', target: `user ${user.username}`, detail: `changed user ${user.username}`, before, after });
    }
    const counters = settings.status === 'active' && store.users.resetFailures(user.id);
    if (counters) store.events.recordConfig({ actor, action: 'users.set', target: `user ${user.username}`, detail: `reset the wrong password and MFA code counts of ${user.username}`, before: null, after: null });
    return counters;
  });
  return { user, changed: changed || reset, before, after };
}

/**
 * The rules imported records must pass beyond their shape (which the parser checks): no protected claim as an
 * attribute, and no username shaped like an email other than the record's own.
 */
export function checkImportRecords(records: Iterable<{ line: number; username: string; email: string | null; attributes: Record<string, unknown> }>, file: string): void {
  const list = [...records];
  for (const r of list) {
    if (!usernameFitsEmail(r.username, r.email)) {
      throw new IdpError('IMPORT_INVALID', `${file}:${r.line}: username '${r.username}' looks like an email address but is not the record's email`, "use a username without @, or the record's own email; nothing was imported");
    }
  }
  refuseProtectedInRecords(list, file);
}

export function deleteUser({ store, actor }: Admin, ref: string): User {
  const user = requireUser(store, ref);
  store.tx(() => {
    store.users.delete(user.id);
    store.events.recordConfig({ actor, action: 'users.delete', target: `user ${user.username}`, detail: `deleted user ${user.username}`, before: userView(user), after: null });
  });
  return user;
}

/**
 * A page of users. A source that matches nobody and is neither `local` nor a connection is a typo, refused with the
 * closest name; users of a removed connection keep its name as their source, so a match is never refused.
 */
export function listUsers(store: Store, query: ListQuery): { users: User[]; next: string | null } {
  const page = store.users.list(query);
  const { source } = query;
  if (source === undefined || page.users.length > 0 || source === 'local' || store.connections.get(source)) return page;
  const known = ['local', ...store.connections.names()];
  const close = didYouMean(source, known);
  const list = { kind: 'list', what: 'connection' } as const;
  throw new IdpError('INVALID_VALUE', `no user source named '${source}': it is 'local' or a connection`, close ? hint`did you mean '${close}'? (${list} lists the connections)` : `sources: ${known.join(', ')}`);
}

/** A user with linked connections and MFA factors (never secrets). */
export function showUser(store: Store, ref: string) {
  const user = requireUser(store, ref);
  return { user, associations: store.associations.forUser(user.id), factors: store.factors.forUser(user.id) };
}
