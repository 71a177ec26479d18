// The JIT rule: the decision (DESIGN.md table) as a pure function, what a federated sign-in does to the user store
// and why, and whether the person is asked before an account is provisioned.
import type { ErrorCode } from './errors.js';
import { hint, type Hint } from './fixes.js';
import type { JitSettings, UserStatus } from './types.js';
import { sameIdentifier } from './user-fields.js';

export interface JitInput {
  connection: string;
  jit: JitSettings;
  /** The local user the (connection, subject) association points at, if there is one. */
  associatedUser: { id: string; username: string; status: UserStatus } | undefined;
  /** A local user holding the upstream email, when there is no association. */
  emailOwner: { id: string; username: string; status: UserStatus; emailVerified: boolean } | undefined;
  upstreamEmail: string | null;
  upstreamEmailVerified: boolean;
}

export interface JitRefusal {
  code: ErrorCode;
  message: string;
  hint: Hint;
}

/** `reason` is one sentence a person can act on; stages and JSON output print it. */
export type JitDecision =
  | { kind: 'returning'; userId: string; reason: string }
  | { kind: 'link'; userId: string; reason: string }
  /** `takesEmailFrom`: a local user holding the upstream's verified address unverified, whose address is cleared. */
  | { kind: 'provision'; reason: string; takesEmailFrom?: { id: string; username: string } }
  | { kind: 'pass-through'; reason: string }
  | { kind: 'deny'; reason: string; refusal: JitRefusal };

/** A provisioning under a prompt scheme waits for the person's consent (and chosen username); nothing else does. */
export function asksBeforeProvisioning(jit: JitSettings, decision: JitDecision): boolean {
  return decision.kind === 'provision' && jit.enabled && jit.scheme !== 'silent';
}

function refused(status: Exclude<UserStatus, 'active'>, username: string, why: string): JitDecision {
  const code: ErrorCode = status === 'locked' ? 'USER_LOCKED' : 'USER_DISABLED';
  return {
    kind: 'deny',
    reason: `${why}, but user ${username} is ${status}`,
    refusal: { code, message: `user ${username} is ${status}`, hint: restoreAccessHint(username, status) },
  };
}

export function decideJit(input: JitInput): JitDecision {
  const on = input.jit.enabled;
  const jitState = `JIT ${on ? 'on' : 'off'} for ${input.connection}`;
  if (input.associatedUser) {
    const user = input.associatedUser;
    if (user.status !== 'active') return refused(user.status, user.username, `association points to ${user.username}`);
    return {
      kind: 'returning',
      userId: user.id,
      reason: `${jitState}; association exists for ${user.username}, attribute sync ${input.jit.sync}`,
    };
  }
  if (!on) {
    const email = input.emailOwner
      ? `email belongs to local user ${input.emailOwner.username} (not linked when JIT is off)`
      : 'no local account is created';
    return { kind: 'pass-through', reason: `${jitState}; no association, ${email}` };
  }
  const owner = input.emailOwner;
  const email = input.upstreamEmail;
  if (!owner || !email)
    return {
      kind: 'provision',
      reason: `${jitState}; no association, email ${email ? 'not taken' : 'not given upstream'}`,
    };
  // Both sides must have proved the address: an unverified local email may have been put there by anyone first.
  if (input.jit.linking === 'verified-email' && input.upstreamEmailVerified && owner.emailVerified) {
    if (owner.status !== 'active')
      return refused(owner.status, owner.username, `${jitState}; verified email matches ${owner.username}`);
    return {
      kind: 'link',
      userId: owner.id,
      reason: `${jitState}; no association, verified email ${email} matches ${owner.username}, linking verified-email`,
    };
  }
  // Proof beats a claim: the provider-verified owner gets the address, and the unproven local copy is cleared (the
  // email column is unique). Not when it is also the holder's username: then the account was made for that address.
  if (input.upstreamEmailVerified && !owner.emailVerified && !sameIdentifier(owner.username, email)) {
    return {
      kind: 'provision',
      reason: `${jitState}; no association, email ${email} is verified upstream but held unverified by local user ${owner.username}, whose copy is cleared`,
      takesEmailFrom: { id: owner.id, username: owner.username },
    };
  }
  const { why, told, hint } = linkRefusal(input, email, owner.username);
  return {
    kind: 'deny',
    reason: `${jitState}; no association, ${why}`,
    refusal: { code: 'LINK_CONFLICT', message: `cannot sign in through ${input.connection}: ${told}`, hint },
  };
}

/** What an admin does for a user who may not sign in: unlock or enable them. */
export function restoreAccessHint(username: string, status: Exclude<UserStatus, 'active'>): Hint {
  return hint`an admin can run: ${{ kind: 'set', on: 'user', name: username, setting: status === 'locked' ? 'unlock' : 'enable' }}`;
}

/**
 * Why an email match is not linked (`why`, for the stage an admin reads, names the local user), what the person
 * signing in is told (`told`: never another account's username), and what would let it be.
 */
function linkRefusal(input: JitInput, email: string, owner: string): { why: string; told: string; hint: Hint } {
  const taken = `email ${email} is taken by local user ${owner}`;
  const exists = `email ${email} belongs to an existing account`;
  const another = 'sign in to that account another way';
  if (input.jit.linking === 'off') {
    const linking = {
      kind: 'set',
      on: 'connection',
      name: input.connection,
      setting: 'linking',
      value: 'verified-email',
    } as const;
    return {
      why: `${taken} and linking is off`,
      told: `${exists} and linking is off`,
      hint: hint`to link verified emails: ${linking} (or ${another})`,
    };
  }
  if (!input.upstreamEmailVerified) {
    const unverified = `${input.connection} does not say it is verified`;
    return {
      why: `${taken} and ${unverified}`,
      told: `${exists} and ${unverified}`,
      hint: `verify the email at the provider, or ${another}`,
    };
  }
  return {
    why: `${taken}, whose local email is not verified and is also its username`,
    told: `${exists} whose email is not verified`,
    hint: `${another}, or have an admin check the account`,
  };
}
