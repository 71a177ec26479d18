// The rules of passkeys (WebAuthn) that are idp's own rather than the protocol's: the relying party, how long a
// challenge lives, when a signature counter is a clone warning, what a passkey may be named, and how a passkey is
// named among a user's factors (`passkey:<id>`).
import { hasControl } from './control.js';
import { IdpError } from './errors.js';
import { FLOW_LIFETIME_MS } from './flow-lifetime.js';

/** idp runs on localhost (its loopback pages and `idp serve` both): the RP ID every passkey is bound to. */
export const RP_ID = 'localhost';

/** A challenge is answered within 5 minutes, and never after the flow that holds it has expired. */
export const CHALLENGE_TTL_MS = Math.min(5 * 60 * 1000, FLOW_LIFETIME_MS);

export const PASSKEY_NAME_MAX = 64;

/** The factor id `users mfa list` shows and `users mfa remove` takes for a passkey. */
export const PASSKEY_FACTOR_PREFIX = 'passkey:';

export function passkeyFactorId(id: string): string {
  return `${PASSKEY_FACTOR_PREFIX}${id}`;
}

/** The passkey id a factor id names, or undefined for a factor of another kind. */
export function passkeyIdOf(factorId: string): string | undefined {
  return factorId.startsWith(PASSKEY_FACTOR_PREFIX) ? factorId.slice(PASSKEY_FACTOR_PREFIX.length) : undefined;
}

/**
 * A signature counter must grow, unless the authenticator keeps none (0 both times, as many platform authenticators
 * do). One that stands still or goes back means two authenticators hold the same key: a clone.
 */
export function counterAdvanced(stored: number, received: number): boolean {
  return received > stored || (received === 0 && stored === 0);
}

export const PASSKEY_NAME_RULE = `a passkey name must be 1 to ${PASSKEY_NAME_MAX} characters without control characters`;

/**
 * What a stored passkey name is (typed, or read from an import file): trimmed, 1 to PASSKEY_NAME_MAX characters, and no
 * control character (core/control.ts), so a name shown in a listing or a page cannot reorder or hide text around it.
 */
export function isPasskeyName(name: string): boolean {
  return name.trim() === name && name.length >= 1 && name.length <= PASSKEY_NAME_MAX && !hasControl(name);
}

/** A passkey name as a person types it: trimmed, then held to isPasskeyName. */
export function passkeyName(raw: string): string {
  const name = raw.trim();
  if (!isPasskeyName(name)) throw new IdpError('INVALID_VALUE', PASSKEY_NAME_RULE, 'e.g. "Work laptop"');
  return name;
}

/**
 * The name a passkey gets when the person gives none: the next free "Passkey N", or "Software passkey N" for one of
 * idp's software authenticator, so a user's CI keys are told apart from each other and from their devices.
 */
export function defaultPasskeyName(existing: string[], software = false): string {
  const stem = software ? 'Software passkey' : 'Passkey';
  for (let n = existing.length + 1; ; n++) if (!existing.includes(`${stem} ${n}`)) return `${stem} ${n}`;
}

/** What stage details and listings add for a passkey made by idp's software authenticator. */
export const SOFTWARE_LABEL = 'software authenticator: a testing aid, not a device';

/** The AAGUID idp's software authenticator reports ("idpsoftware-test"), so its passkeys are known wherever made. */
export const SOFTWARE_AAGUID = '69647073-6f66-7477-6172-652d74657374';

/**
 * A passkey of the software authenticator: flagged so when the CLI made it, or carrying its AAGUID when it was
 * registered some other way (a page answered by the software authenticator is stored unflagged).
 */
export function isSoftwarePasskey(p: { software: boolean; aaguid: string }): boolean {
  return p.software || p.aaguid === SOFTWARE_AAGUID;
}

/**
 * Why a software passkey may not be made, imported or used in an organisation with these connections: its private
 * key lives in a CI variable, so where people sign in through a real provider it would be a credential of a real
 * account that anyone reading that variable holds. Null where every connection is a sandbox one (test data).
 */
export function softwarePasskeyRefusal(connections: readonly { name: string; sandbox: boolean }[]): string | null {
  const real = connections.filter((c) => !c.sandbox).map((c) => c.name);
  return real.length === 0
    ? null
    : `a software passkey is a testing aid, and this organisation has real connections (${real.join(', ')})`;
}

export const SOFTWARE_PASSKEY_FIX =
  'use a sandbox organisation for CI (its own idp home), or enrol a device passkey in a browser';

/**
 * The credential an assertion names and its userHandle (the user id it was made for), read before any check so the
 * stored key can be found; the verifier then checks everything against that key. Null when it is no assertion.
 */
export function assertionCredential(response: unknown): { credentialId: string; userHandle: string | null } | null {
  if (typeof response !== 'object' || response === null) return null;
  const { id, response: inner } = response as { id?: unknown; response?: { userHandle?: unknown } };
  if (typeof id !== 'string' || id === '' || typeof inner !== 'object' || inner === null) return null;
  const handle = inner.userHandle;
  return {
    credentialId: id,
    userHandle: typeof handle === 'string' && handle !== '' ? Buffer.from(handle, 'base64url').toString('utf8') : null,
  };
}
