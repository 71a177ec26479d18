// My Account self-service on a signed-in local user: profile edits, TOTP enrolment and removal, and unlinking
// connections, never the last way the user can sign in. An admin enrols and removes factors through the same use cases.
import { IdpError } from '../core/errors.js';
import { hint } from '../core/fixes.js';
import type { User } from '../core/types.js';
import type { Store } from '../ports.js';
import type { Admin } from './deps.js';
import { profilePatch } from './profile.js';

export function accountView(store: Store, user: User) {
  return {
    user: { id: user.id, username: user.username, email: user.email, email_verified: user.emailVerified, name: user.name, given_name: user.givenName, family_name: user.familyName, picture: user.picture, attributes: user.attributes, source: user.source },
    linked: store.associations.forUser(user.id).map((a) => ({ connection: a.connection, subject: a.subject, linked_at: a.linkedAt, last_login_at: a.lastLoginAt })),
    mfa: store.factors.forUser(user.id).map((f) => ({ id: f.id, type: f.type, created_at: f.created_at })),
    password: user.hasPassword,
  };
}

export function editProfile(store: Store, user: User, pairs: [string, string][]): User {
  const patch = profilePatch(store, user, pairs, 'self');
  store.tx(() => {
    store.users.updateProfile(user.id, patch);
    store.events.recordConfig({ actor: user.username, action: 'myaccount.profile', target: `user ${user.username}`, detail: `${user.username} edited ${pairs.map(([k]) => k).join(', ')} in My Account`, before: null, after: Object.fromEntries(pairs) });
  });
  return store.users.byId(user.id)!;
}

export function unlink(store: Store, user: User, connection: string): void {
  store.tx(() => {
    const links = store.associations.forUser(user.id);
    const link = links.find((a) => a.connection === connection);
    if (!link) throw new IdpError('USAGE', `${user.username} is not linked to ${connection}`, `linked: ${links.map((a) => a.connection).join(', ') || 'none'}`);
    const waysLeft = links.length - 1 + (store.users.passwordState(user.id).hash ? 1 : 0);
    if (waysLeft === 0) {
      throw new IdpError('LAST_SIGN_IN_METHOD', `${connection} is the only way ${user.username} can sign in`, 'link another connection or set a password first');
    }
    store.associations.delete(link.connection, link.subject);
    store.events.recordConfig({ actor: user.username, action: 'myaccount.unlink', target: `user ${user.username}`, detail: `${user.username} unlinked ${connection} in My Account`, before: { connection, subject: link.subject }, after: null });
  });
}

/** Enrols a TOTP factor (by the user in My Account, or by an admin with the `mfa enrol` use case). */
export async function enrolTotp({ store, actor, totp }: Admin, user: User): Promise<{ factor: string; secret: string; uri: string }> {
  const enrolled = () => new IdpError('USAGE', `${user.username} already has a TOTP factor`, hint`remove it first: ${{ kind: 'remove-factor', user: user.username }}`);
  if (store.factors.totpFor(user.id)) throw enrolled();
  const { secret, uri } = await totp.enrolment({ account: user.email ?? user.username, issuer: 'idp' });
  const factor = store.tx(() => {
    const id = store.factors.addTotp(user.id, store.seal(secret));
    if (id === null) throw enrolled();
    store.events.recordConfig({ actor, action: 'mfa.enroll', target: `user ${user.username}`, detail: `enrolled TOTP for ${user.username}`, before: null, after: { factor: id, type: 'totp' } });
    return id;
  });
  return { factor, secret, uri };
}

/** Removes one factor, or with no factorId every factor; naming a factor the user does not have is refused. */
export function removeFactors({ store, actor }: Pick<Admin, 'store' | 'actor'>, user: User, factorId?: string): number {
  return store.tx(() => {
    const removed = store.factors.remove(user.id, factorId);
    if (factorId && removed === 0) throw new IdpError('USAGE', `${user.username} has no factor ${factorId}`, hint`see ${{ kind: 'show', what: 'user', name: user.username }}`);
    if (removed) store.events.recordConfig({ actor, action: 'mfa.remove', target: `user ${user.username}`, detail: `removed ${removed} MFA factor(s) of ${user.username}`, before: { factors: removed }, after: null });
    return removed;
  });
}
