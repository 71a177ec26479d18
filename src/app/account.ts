// My Account self-service on a signed-in local user: profile edits, TOTP enrolment and removal, and unlinking
// connections, never the last way the user can sign in. An admin enrols, removes and resets factors, and unlinks
// connections (with the same last-way rule, which only an admin may override), through the same use cases.
import { profileClaims } from '../core/claims.js';
import { IdpError } from '../core/errors.js';
import { hint } from '../core/fixes.js';
import { passkeyFactorId, passkeyIdOf } from '../core/passkeys.js';
import { usedHeldFactor } from '../core/signin.js';
import type { Association, User } from '../core/types.js';
import { heldFactors } from '../flow/factors.js';
import type { Store, TotpVerifier } from '../ports.js';
import type { Admin } from './deps.js';
import { profilePatch } from './profile.js';

export async function accountView(store: Store, user: User) {
  return {
    user: {
      id: user.id,
      ...profileClaims(user),
      attributes: user.attributes,
      source: user.source,
    },
    linked: (await store.associations.forUser(user.id)).map((a) => ({
      connection: a.connection,
      subject: a.subject,
      linked_at: a.linkedAt,
      last_login_at: a.lastLoginAt,
    })),
    mfa: (await store.factors.forUser(user.id)).map((f) => ({ id: f.id, type: f.type, created_at: f.created_at })),
    password: user.hasPassword,
  };
}

export async function editProfile(store: Store, user: User, pairs: [string, string][]): Promise<User> {
  const patch = await profilePatch(store, user, pairs, 'self');
  await store.tx(async (tx) => {
    await tx.users.updateProfile(user.id, patch);
    await tx.events.recordConfig({
      actor: user.username,
      action: 'myaccount.profile',
      target: `user ${user.username}`,
      detail: `${user.username} edited ${pairs.map(([k]) => k).join(', ')} in My Account`,
      before: null,
      after: Object.fromEntries(pairs),
    });
  });
  return (await store.users.byId(user.id))!;
}

/** The user unlinks a connection in My Account: never the last way they can sign in. */
export async function unlink(store: Store, user: User, connection: string): Promise<void> {
  await unlinkConnection({ store, actor: user.username }, user, connection, { by: 'self' });
}

/**
 * Drops a user's link to a connection, with its audit event. The last way the user can sign in (no other link, no
 * password) is kept, for My Account always; an admin may insist (`force`), leaving the account to be repaired later.
 */
export async function unlinkConnection(
  { store, actor }: Pick<Admin, 'store' | 'actor'>,
  user: User,
  connection: string,
  opts: { by: 'self' } | { by: 'admin'; force: boolean },
): Promise<Association> {
  return store.tx(async (tx) => {
    const links = await tx.associations.forUser(user.id);
    const link = links.find((a) => a.connection === connection);
    if (!link)
      throw new IdpError(
        'USAGE',
        `${user.username} is not linked to ${connection}`,
        `linked: ${links.map((a) => a.connection).join(', ') || 'none'}`,
      );
    const waysLeft = links.length - 1 + ((await tx.users.passwordState(user.id)).hash ? 1 : 0);
    if (waysLeft === 0 && !(opts.by === 'admin' && opts.force)) {
      const fix =
        opts.by === 'self'
          ? 'link another connection or set a password first'
          : hint`give ${user.username} a password first (${{ kind: 'set', on: 'user', name: user.username, setting: 'password-stdin' }}), or unlink anyway with ${{ kind: 'option', option: 'force' }}`;
      throw new IdpError('LAST_SIGN_IN_METHOD', `${connection} is the only way ${user.username} can sign in`, fix);
    }
    await tx.associations.delete(link.connection, link.subject);
    const [action, detail] =
      opts.by === 'self'
        ? ['myaccount.unlink', `${user.username} unlinked ${connection} in My Account`]
        : [
            'users.unlink',
            `unlinked ${connection} from ${user.username}${waysLeft === 0 ? ' (forced: no way to sign in is left)' : ''}`,
          ];
    await tx.events.recordConfig({
      actor,
      action,
      target: `user ${user.username}`,
      detail,
      before: { connection, subject: link.subject, linked_at: link.linkedAt },
      after: null,
    });
    return link;
  });
}

/** Enrols a TOTP factor (by the user in My Account, or by an admin with the `mfa enrol` use case). */
export async function enrolTotp(
  { store, actor, totp }: Admin,
  user: User,
): Promise<{ factor: string; secret: string; uri: string }> {
  if (await store.factors.totpFor(user.id)) throw alreadyEnrolled(user);
  const { secret, uri } = await totp.enrolment({ account: user.email ?? user.username, issuer: 'idp' });
  const factor = await addTotp({ store, actor }, user, secret, null);
  return { factor, secret, uri };
}

/** A TOTP secret shown for enrolment, kept sealed until a code confirms it (My Account on the web). */
const PENDING_TOTP = 'PendingTotp';
const PENDING_TOTP_SECONDS = 10 * 60;

/** How recent the sign-in behind a self-service session must be to add or remove a factor (Keycloak's max_auth_age). */
export const FRESH_SIGN_IN_SECONDS = 5 * 60;

/** A self-service session (My Account on the web): who signed in, when (epoch seconds), and how (the ID token's amr). */
export interface SelfService {
  userId: string;
  signedInAt: number;
  amr: string[];
}

/**
 * A self-service session adds or removes a way to sign in only shortly after signing in, as GitHub's sudo mode does: a
 * session left open, or stolen, must not be enough to plant a passkey or strip a factor. Once the person holds a
 * factor, the sign-in must also have used one: a password alone would otherwise add a passkey that then passes every
 * app's passkey step. (Their first factor needs only the recent sign-in.) An admin's command has no session and needs
 * none.
 */
export async function requireFreshSignIn(store: Store, session: SelfService | undefined): Promise<void> {
  if (!session) return;
  const age = Math.floor(store.clock().getTime() / 1000) - session.signedInAt;
  if (age > FRESH_SIGN_IN_SECONDS)
    throw new IdpError(
      'SIGN_IN_TOO_OLD',
      `adding or removing a sign-in factor needs a sign-in from the last ${FRESH_SIGN_IN_SECONDS / 60} minutes`,
      'sign in again, then retry',
    );
  if ((await heldFactors(store, session.userId)).length > 0 && !usedHeldFactor(session.amr))
    throw new IdpError(
      'SIGN_IN_WITHOUT_FACTOR',
      'adding or removing a sign-in factor needs a sign-in that used one of your factors',
      'sign in again with your authenticator app or passkey, then retry',
    );
}

/**
 * Starts an enrolment that a code must confirm: a new secret, kept sealed for ten minutes, and the otpauth URI an
 * authenticator app scans. Nothing is enrolled until enrolConfirmedTotp.
 */
export async function beginTotpEnrolment(
  store: Store,
  verifier: TotpVerifier,
  user: User,
  session?: SelfService,
): Promise<{ secret: string; uri: string }> {
  await requireFreshSignIn(store, session);
  if (await store.factors.totpFor(user.id)) throw alreadyEnrolled(user);
  const secret = verifier.newSecret();
  const expires = Math.floor(store.clock().getTime() / 1000) + PENDING_TOTP_SECONDS;
  await store.oidc.upsert(PENDING_TOTP, user.id, { sealed: store.seal(secret) }, expires);
  return { secret, uri: totpUri(verifier, user, secret) };
}

/** The enrolment begun and not yet confirmed, if it has not expired. */
export async function pendingTotpEnrolment(
  store: Store,
  verifier: TotpVerifier,
  user: User,
): Promise<{ secret: string; uri: string } | undefined> {
  const pending = await store.oidc.find(PENDING_TOTP, user.id, Math.floor(store.clock().getTime() / 1000));
  if (typeof pending?.sealed !== 'string') return undefined;
  const secret = store.unseal(pending.sealed);
  return { secret, uri: totpUri(verifier, user, secret) };
}

/**
 * Enrols the pending TOTP secret once the person shows, with a current code, that their authenticator app holds it.
 * A wrong code leaves the enrolment pending; an expired one must be begun again.
 */
export async function enrolConfirmedTotp(
  { store, actor }: Pick<Admin, 'store' | 'actor'>,
  verifier: TotpVerifier,
  user: User,
  code: string,
): Promise<string> {
  if (await store.factors.totpFor(user.id)) throw alreadyEnrolled(user);
  const pending = await pendingTotpEnrolment(store, verifier, user);
  if (!pending) throw new IdpError('MFA_FAILED', 'that enrolment expired', 'start the enrolment again');
  const check = await verifier.check(pending.secret, code.trim(), { at: store.clock(), lastUsedStep: null });
  if (!check.ok)
    throw new IdpError(
      'MFA_FAILED',
      'that is not the current code for this secret',
      'type the 6-digit code your authenticator app shows now',
    );
  const factor = await addTotp({ store, actor }, user, pending.secret, check.step);
  await store.oidc.destroy(PENDING_TOTP, user.id);
  return factor;
}

function totpUri(verifier: TotpVerifier, user: User, secret: string): string {
  return verifier.enrolmentUri({ secret, account: user.email ?? user.username, issuer: 'idp' });
}

function alreadyEnrolled(user: User): IdpError {
  return new IdpError(
    'USAGE',
    `${user.username} already has a TOTP factor`,
    hint`remove it first: ${{ kind: 'remove-factor', user: user.username }}`,
  );
}

async function addTotp(
  { store, actor }: Pick<Admin, 'store' | 'actor'>,
  user: User,
  secret: string,
  step: number | null,
): Promise<string> {
  return store.tx(async (tx) => {
    const id = await tx.factors.addTotp(user.id, tx.seal(secret), step);
    if (id === null) throw alreadyEnrolled(user);
    await tx.events.recordConfig({
      actor,
      action: 'mfa.enroll',
      target: `user ${user.username}`,
      detail: `enrolled TOTP for ${user.username}`,
      before: null,
      after: { factor: id, type: 'totp' },
    });
    return id;
  });
}

/**
 * Removes one factor (a TOTP factor's id, or `passkey:<id>`), or with no factorId every factor and passkey; naming a
 * factor the user does not have is refused.
 */
export async function removeFactors(
  { store, actor }: Pick<Admin, 'store' | 'actor'>,
  user: User,
  factorId?: string,
  session?: SelfService,
): Promise<number> {
  await requireFreshSignIn(store, session);
  return store.tx(async (tx) => {
    const passkey = factorId === undefined ? undefined : passkeyIdOf(factorId);
    const removed =
      passkey !== undefined
        ? await tx.passkeys.remove(user.id, passkey)
        : (await tx.factors.remove(user.id, factorId)) +
          (factorId === undefined ? await tx.passkeys.remove(user.id) : 0);
    if (factorId && removed === 0)
      throw new IdpError(
        'USAGE',
        `${user.username} has no factor ${factorId}`,
        hint`see ${{ kind: 'list-factors', user: user.username }}`,
      );
    if (removed)
      await tx.events.recordConfig({
        actor,
        action: 'mfa.remove',
        target: `user ${user.username}`,
        detail: `removed ${factorId ? `factor ${factorId}` : `${removed} MFA factor(s)`} of ${user.username}`,
        before: { factors: removed, ...(factorId && { factor: factorId }) },
        after: null,
      });
    return removed;
  });
}

/**
 * Drops every factor and passkey of a user, so the next sign-in that asks for one enrols afresh: the admin's "lost my
 * phone" repair.
 */
export async function resetMfa({ store, actor }: Pick<Admin, 'store' | 'actor'>, user: User): Promise<number> {
  return store.tx(async (tx) => {
    const factors = [
      ...(await tx.factors.forUser(user.id)),
      ...(await tx.passkeys.forUser(user.id)).map((p) => ({ id: passkeyFactorId(p.id), type: 'passkey' })),
    ];
    const removed = (await tx.factors.remove(user.id)) + (await tx.passkeys.remove(user.id));
    await tx.events.recordConfig({
      actor,
      action: 'mfa.reset',
      target: `user ${user.username}`,
      detail: `reset MFA of ${user.username}: removed ${removed} factor(s)`,
      before: { factors: factors.map((f) => ({ id: f.id, type: f.type })) },
      after: { factors: [] },
    });
    return removed;
  });
}
