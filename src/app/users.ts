// Use cases on local users: create, set (profile attributes, email verification, status and unlock, a password),
// unlink a connection, delete and show, each change with its audit event (listing is user-list.ts). A password arrives
// already read; the use case checks and hashes it.
import { IdpError } from '../core/errors.js';
import { hint, type Hint } from '../core/fixes.js';
import { isSoftwarePasskey, SOFTWARE_PASSKEY_FIX, softwarePasskeyRefusal } from '../core/passkeys.js';
import { refuseProtectedInRecords } from '../core/protected-claims.js';
import type { User } from '../core/types.js';
import type { UserRecord } from '../core/user-records.js';
import {
  MIN_PASSWORD_LENGTH,
  refuseEmailShapedUsername,
  usernameFitsEmail,
  validEmail,
  validUsername,
} from '../core/user-fields.js';
import type { Store } from '../ports.js';
import type { Admin } from './deps.js';
import { mfaList } from './passkeys.js';
import { requireUser } from './lookup.js';
import { profilePatch } from './profile.js';
import { userView } from './views.js';

export interface NewUserInput {
  username: string;
  email: string;
  emailVerified: boolean;
  name: string | null;
  password: string | null;
}

export async function createUser({ store, actor }: Admin, input: NewUserInput): Promise<User> {
  const { username, email } = input;
  if (!validUsername(username))
    throw new IdpError(
      'INVALID_VALUE',
      `'${username}' is not a valid username`,
      'use letters, digits and . _ @ + - (up to 64)',
    );
  if (!validEmail(email))
    throw new IdpError(
      'INVALID_VALUE',
      `'${email}' is not a valid email address`,
      hint`e.g. ${{ kind: 'option', option: 'email', value: 'dave@example.com' }}`,
    );
  refuseEmailShapedUsername(username, email);
  if (await store.users.identifierTaken(username))
    throw new IdpError('USER_EXISTS', `username '${username}' is taken`, 'choose another username');
  if (await store.users.byEmail(email))
    throw new IdpError(
      'USER_EXISTS',
      `email ${email} belongs to another user`,
      hint`see ${{ kind: 'show', what: 'user', name: email }}`,
    );
  const passwordHash = input.password === null ? null : await checkedHash(input.password);
  return store.tx(async (tx) => {
    const created = await tx.users.insert({
      username,
      email,
      emailVerified: input.emailVerified,
      name: input.name,
      passwordHash,
      source: 'local',
    });
    await tx.events.recordConfig({
      actor,
      action: 'users.create',
      target: `user ${username}`,
      detail: `created local user ${username}`,
      before: null,
      after: userView(created),
    });
    return created;
  });
}

export interface UserSettings {
  /** Attribute edits (profile fields by name, anything else custom; an empty value removes it). */
  attributes?: [string, string][];
  status?: User['status'];
  /** Lift a lockout: status active and every failed-attempt counter back to zero. */
  unlock?: boolean;
  emailVerified?: boolean;
  /** A new password, already read; checked and hashed here. */
  password?: string;
}

/**
 * Changes a user in one transaction with one audit event naming what changed (a password only as "set", never its
 * hash). Any way back to `active` (unlock, enable, status active) goes through the store's one unlock, which also clears
 * the failed-attempt counters; unlocking a disabled user is refused, as disabling is an admin's decision, not a lockout.
 */
export async function setUser({ store, actor }: Admin, ref: string, settings: UserSettings) {
  const user = await requireUser(store, ref);
  if (settings.unlock && user.status === 'disabled') {
    throw new IdpError(
      'USAGE',
      `${user.username} is disabled, not locked`,
      hint`enable the account instead: ${{ kind: 'set', on: 'user', name: user.username, setting: 'enable' }}`,
    );
  }
  const patch = await profilePatch(store, user, settings.attributes ?? [], 'admin');
  if (settings.emailVerified !== undefined) {
    if (settings.emailVerified && !(patch.email ?? user.email))
      throw new IdpError(
        'INVALID_VALUE',
        `${user.username} has no email address to mark verified`,
        hint`give one first: ${{ kind: 'set', on: 'user', name: user.username, setting: 'attr', value: 'email=ADDRESS' }}`,
      );
    patch.emailVerified = settings.emailVerified;
  }
  const passwordHash = settings.password === undefined ? undefined : await checkedHash(settings.password);
  const status = settings.unlock ? 'active' : (settings.status ?? user.status);
  const { failedLogins, mfaFailures } = await store.users.passwordState(user.id);
  // Unlocking or enabling also forgives the wrong passwords and MFA codes counted so far, even on an active account.
  const forgiving = settings.unlock === true || settings.status === 'active';
  const unlocking = status === 'active' && (user.status !== 'active' || (forgiving && failedLogins + mfaFailures > 0));
  const before = { ...userView(user), failed_logins: failedLogins, mfa_failures: mfaFailures };
  const after = {
    ...userView({ ...user, ...patch, status, hasPassword: user.hasPassword || passwordHash !== undefined }),
    failed_logins: unlocking ? 0 : failedLogins,
    mfa_failures: unlocking ? 0 : mfaFailures,
  };
  const differing = (Object.keys(after) as (keyof typeof after)[]).filter(
    (k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]),
  );
  const changes =
    passwordHash === undefined ? differing : [...differing.filter((k) => k !== 'has_password'), 'password'];
  const changed = changes.length > 0;
  if (changed) {
    await store.tx(async (tx) => {
      await tx.users.updateProfile(user.id, patch);
      if (unlocking) await tx.users.unlock(user.id);
      else if (status !== user.status) await tx.users.setStatus(user.id, status);
      if (passwordHash !== undefined) await tx.users.setPasswordHash(user.id, passwordHash);
      await tx.events.recordConfig({
        actor,
        action: 'users.set',
        target: `user ${user.username}`,
        detail: `changed user ${user.username}: ${changes.join(', ')}`,
        before,
        after,
      });
    });
  }
  return { user, changed, before, after };
}

async function checkedHash(password: string): Promise<string> {
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new IdpError(
      'INVALID_VALUE',
      `the password must have at least ${MIN_PASSWORD_LENGTH} characters`,
      hint`pipe a longer one to ${{ kind: 'option', option: 'password-stdin' }}`,
    );
  }
  const { hashPassword } = await import('../core/password.js');
  return hashPassword(password);
}

/**
 * The rules imported records must pass beyond their shape (which the parser checks), each refusal naming the record's
 * line: no protected claim as an attribute, no username shaped like an email other than the record's own; a linked connection must exist here and its (connection, subject) pair be
 * free, in the store and earlier in the file; a software passkey only into an organisation without real connections;
 * a sealed MFA secret must open with this organisation's key.
 */
export async function checkImportRecords(store: Store, records: readonly UserRecord[], file: string): Promise<void> {
  refuseProtectedInRecords(records, file);
  for (const r of records) {
    if (!usernameFitsEmail(r.username, r.email)) {
      throw new IdpError(
        'IMPORT_INVALID',
        `${file}:${r.line}: username '${r.username}' looks like an email address but is not the record's email`,
        "use a username without @, or the record's own email; nothing was imported",
      );
    }
  }
  const connections = new Set(await store.connections.names());
  const linked = new Set<string>();
  const refuse = (
    r: UserRecord,
    message: string,
    fix: Hint = 'fix that record and import again; nothing was imported',
  ) => new IdpError('IMPORT_INVALID', `${file}:${r.line}: ${message}`, fix);
  for (const r of records) {
    for (const a of r.associations) {
      if (!connections.has(a.connection))
        throw refuse(
          r,
          `${r.username} is linked to connection ${a.connection}, which does not exist here`,
          hint`create it first (${{ kind: 'list', what: 'connection' }} lists those that do), then import again; nothing was imported`,
        );
      const pair = JSON.stringify([a.connection, a.subject]);
      const owner = await store.associations.get(a.connection, a.subject);
      if (owner || linked.has(pair)) {
        const who = owner
          ? ((await store.users.byId(owner.userId))?.username ?? owner.userId)
          : 'a user earlier in the file';
        throw refuse(r, `${a.connection} subject ${a.subject} of ${r.username} is already linked to ${who}`);
      }
      linked.add(pair);
    }
    const software = r.passkeys.some(isSoftwarePasskey) && softwarePasskeyRefusal(await store.connections.list());
    if (software)
      throw refuse(
        r,
        `${r.username} holds a software passkey: ${software}`,
        `${SOFTWARE_PASSKEY_FIX}; or import without that passkey; nothing was imported`,
      );
    if (r.mfa.some((f) => f.secretSealed !== null && !opensHere(store, f.secretSealed))) {
      throw refuse(
        r,
        `the sealed TOTP secret of ${r.username} does not open with this organisation's key`,
        "import into an organisation holding the exporting one's secret.key, or export without secrets so the user enrols again; nothing was imported",
      );
    }
  }
}

function opensHere(store: Store, sealed: string): boolean {
  try {
    store.unseal(sealed);
    return true;
  } catch (err) {
    if (err instanceof IdpError) return false;
    throw err;
  }
}

export async function deleteUser({ store, actor }: Admin, ref: string): Promise<User> {
  const user = await requireUser(store, ref);
  await store.tx(async (tx) => {
    await tx.users.delete(user.id);
    await tx.events.recordConfig({
      actor,
      action: 'users.delete',
      target: `user ${user.username}`,
      detail: `deleted user ${user.username}`,
      before: userView(user),
      after: null,
    });
  });
  return user;
}

/** A user with linked connections, MFA factors and passkeys (never secrets). */
export async function showUser(store: Store, ref: string) {
  const { user, factors, passkeys } = await mfaList(store, ref);
  return { user, associations: await store.associations.forUser(user.id), factors, passkeys };
}
