// The JIT rule: the decision (DESIGN.md table) as a pure function, what a federated sign-in does to the user store
// and why, and whether the person is asked before an account is provisioned.
import type { ErrorCode } from './errors.js';
import { hint, type Hint } from './fixes.js';
import type { JitSettings, UserStatus } from './types.js';

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
  | { kind: 'provision'; reason: string }
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
    return { kind: 'returning', userId: user.id, reason: `${jitState}; association exists for ${user.username}, attribute sync ${input.jit.sync}` };
  }
  if (!on) {
    const email = input.emailOwner ? `email belongs to local user ${input.emailOwner.username} (not linked when JIT is off)` : 'no local account is created';
    return { kind: 'pass-through', reason: `${jitState}; no association, ${email}` };
  }
  const owner = input.emailOwner;
  if (!owner) return { kind: 'provision', reason: `${jitState}; no association, email ${input.upstreamEmail ? 'not taken' : 'not given upstream'}` };
  // Both sides must have proved the address: an unverified local email may have been put there by anyone first.
  if (input.jit.linking === 'verified-email' && input.upstreamEmailVerified && owner.emailVerified) {
    if (owner.status !== 'active') return refused(owner.status, owner.username, `${jitState}; verified email matches ${owner.username}`);
    return { kind: 'link', userId: owner.id, reason: `${jitState}; no association, verified email ${input.upstreamEmail} matches ${owner.username}, linking verified-email` };
  }
  const { why, hint } = linkRefusal(input, owner.username);
  return {
    kind: 'deny',
    reason: `${jitState}; no association, ${why}`,
    refusal: { code: 'LINK_CONFLICT', message: `cannot sign in through ${input.connection}: ${why}`, hint },
  };
}

/** What an admin does for a user who may not sign in: unlock or enable them. */
export function restoreAccessHint(username: string, status: Exclude<UserStatus, 'active'>): Hint {
  return hint`an admin can run: ${{ kind: 'set', on: 'user', name: username, setting: status === 'locked' ? 'unlock' : 'enable' }}`;
}

/** Why an email match is not linked, and what would let it be. */
function linkRefusal(input: JitInput, owner: string): { why: string; hint: Hint } {
  const taken = `email ${input.upstreamEmail} is taken by local user ${owner}`;
  if (input.jit.linking === 'off') {
    const linking = { kind: 'set', on: 'connection', name: input.connection, setting: 'linking', value: 'verified-email' } as const;
    return { why: `${taken} and linking is off`, hint: hint`to link verified emails: ${linking} (or sign in as ${owner} another way)` };
  }
  if (!input.upstreamEmailVerified) {
    return { why: `${taken} and ${input.connection} does not say it is verified`, hint: `verify the email at the provider, or sign in as ${owner} another way` };
  }
  return {
    why: `${taken}, whose local email is not verified`,
    hint: `only a verified local email is linked (anyone may have entered the address first): sign in as ${owner} another way, or have an admin check the account`,
  };
}
