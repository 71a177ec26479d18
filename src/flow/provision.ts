// Applies the JIT decision to the store in one unit of work (store.tx): the decision is re-made on fresh reads
// inside it, so concurrent first logins of one upstream user create exactly one local user and one association.
import { mapClaims, provisionUsername, syncPatch, type MappedProfile, type ProfilePatch } from '../core/claims.js';
import { IdpError } from '../core/errors.js';
import { decideJit, type JitDecision } from '../core/jit.js';
import { upstreamChanges } from '../core/upstream-identity.js';
import { shortId } from '../core/ids.js';
import type { Connection, SyncPolicy, User } from '../core/types.js';
import { refuseEmailShapedUsername, usernameFitsEmail, validUsername } from '../core/user-fields.js';
import type { Store } from '../ports.js';

export interface UpstreamUser {
  connection: Connection;
  subject: string;
  claims: Record<string, unknown>;
}

export interface JitApplied {
  decision: JitDecision;
  profile: MappedProfile;
  user: User | null;
  /** A sentence for the `jit` stage: what happened and why. */
  detail: string;
}

export async function readDecision(
  store: Store,
  upstream: UpstreamUser,
): Promise<{ decision: JitDecision; profile: MappedProfile }> {
  const { connection, subject } = upstream;
  const profile = mapClaims(upstream.claims, connection.type, connection.attributeMap);
  const association = await store.associations.get(connection.name, subject);
  const associatedUser = association && (await store.users.byId(association.userId));
  const emailOwner = !association && profile.email ? await store.users.byEmail(profile.email) : undefined;
  const decision = decideJit({
    connection: connection.name,
    jit: connection.jit,
    associatedUser,
    emailOwner,
    upstreamEmail: profile.email,
    upstreamEmailVerified: profile.emailVerified,
  });
  return { decision, profile };
}

export function proposedUsername(store: Store, upstream: UpstreamUser, profile: MappedProfile): Promise<string> {
  return provisionUsername(profile, upstream.connection.name, upstream.subject, (u) => store.users.identifierTaken(u));
}

/** The username a person chose at a JIT prompt: well formed, naming no other account, and not someone else's address. */
export async function checkChosenUsername(store: Store, profile: MappedProfile, username: string): Promise<void> {
  if (!validUsername(username))
    throw new IdpError(
      'INVALID_VALUE',
      `'${username}' is not a valid username`,
      'use letters, digits and . _ @ + - (up to 64)',
    );
  refuseEmailShapedUsername(username, profile.emailVerified ? profile.email : null);
  if (await store.users.identifierTaken(username))
    throw new IdpError('USER_EXISTS', `username '${username}' is taken`, 'choose another username');
}

/**
 * What a returning login changes locally: the sync policy's patch, minus an email another local user holds, and minus
 * any email change for a user whose username is their email (the two must stay one identifier).
 */
export async function returningPatch(
  store: Store,
  user: User,
  profile: MappedProfile,
  sync: SyncPolicy,
): Promise<ProfilePatch> {
  const patch = syncPatch(user, profile, sync);
  const emailOwner = patch.email ? await store.users.byEmail(patch.email) : undefined;
  if (
    (emailOwner && emailOwner.id !== user.id) ||
    (patch.email !== undefined && !usernameFitsEmail(user.username, patch.email))
  ) {
    // Keep the old email rather than break uniqueness.
    delete patch.email;
    delete patch.emailVerified;
  }
  return patch;
}

export function applyJit(
  store: Store,
  upstream: UpstreamUser,
  chosen: { username?: string; passwordHash?: string } = {},
): Promise<JitApplied> {
  // Constraints suffice: a decision made on reads another login then changes is caught by the key the write would
  // break (one link per connection and subject, one user per username and per email), and the unit runs again.
  return store.tx((tx) => decideAndWrite(tx, upstream, chosen), { constraintsSuffice: true });
}

/** The JIT decision on the unit's fresh reads, and the rows it writes for it. */
async function decideAndWrite(
  tx: Store,
  upstream: UpstreamUser,
  chosen: { username?: string; passwordHash?: string },
): Promise<JitApplied> {
  // The provider the person signed in at must still be the connection's: a link made after a change of upstream
  // would hand this subject's account to whoever holds the same subject at the new provider.
  const stored = await tx.connections.getForLink(upstream.connection.name);
  if (!stored || upstreamChanges(upstream.connection, stored).length > 0)
    throw new IdpError(
      'CONNECTION_CHANGED',
      `connection ${upstream.connection.name} was ${stored ? 'pointed at another provider' : 'deleted'} during this sign-in`,
      'sign in again',
    );
  const { decision, profile } = await readDecision(tx, upstream);
  const { connection, subject, claims } = upstream;
  switch (decision.kind) {
    case 'returning': {
      const user = (await tx.users.byId(decision.userId))!;
      const patch = await returningPatch(tx, user, profile, connection.jit.sync);
      if (Object.keys(patch).length > 0) await tx.users.updateProfile(user.id, patch);
      await tx.associations.recordLogin(connection.name, subject, claims);
      await tx.users.recordLogin(user.id);
      const synced = Object.keys(patch);
      return {
        decision,
        profile,
        user: (await tx.users.byId(user.id))!,
        detail: `returning user ${user.username} (${decision.reason}${synced.length ? `; updated ${synced.join(', ')}` : '; nothing to update'})`,
      };
    }
    case 'provision': {
      if (decision.takesEmailFrom)
        await clearUnverifiedEmail(tx, decision.takesEmailFrom, profile.email!, connection.name);
      const username = chosen.username ?? (await proposedUsername(tx, upstream, profile));
      const user = await tx.users.insert({
        ...profile,
        username,
        passwordHash: chosen.passwordHash ?? null,
        source: connection.name,
      });
      await linkSubject(tx, upstream, user.id);
      return {
        decision,
        profile,
        user,
        detail: `provisioned new user ${username} ${shortId(user.id)} (${decision.reason})`,
      };
    }
    case 'link': {
      const user = (await tx.users.byId(decision.userId))!;
      await linkSubject(tx, upstream, user.id);
      return {
        decision,
        profile,
        user,
        detail: `linked ${connection.name} to existing user ${user.username} (${decision.reason})`,
      };
    }
    case 'pass-through':
      return { decision, profile, user: null, detail: `pass-through, no local user written (${decision.reason})` };
    case 'deny':
      return { decision, profile, user: null, detail: `denied (${decision.reason})` };
  }
}

/** Links the upstream subject to the local user, and records the sign-in. */
async function linkSubject(tx: Store, { connection, subject, claims }: UpstreamUser, userId: string): Promise<void> {
  await tx.associations.insert({ connection: connection.name, subject, userId, claims });
  await tx.users.recordLogin(userId);
}

/** The squatter's side of a takeover by a provider-verified owner: their unproven copy goes, with an audit event. */
async function clearUnverifiedEmail(
  store: Store,
  holder: { id: string; username: string },
  email: string,
  connection: string,
): Promise<void> {
  await store.users.updateProfile(holder.id, { email: null, emailVerified: false });
  await store.events.recordConfig({
    actor: 'idp',
    action: 'users.email-cleared',
    target: `user ${holder.username}`,
    detail: `cleared the unverified email ${email} of ${holder.username}: ${connection} verified it for a first sign-in`,
    before: { email, email_verified: false },
    after: { email: null },
  });
}
