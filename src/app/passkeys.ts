// A user's passkeys outside a sign-in: listing, enrolment in two halves (options with a challenge held server-side,
// then the authenticator's answer, once, before it expires) for My Account and the CLI, and renaming. Removal is the
// factor removal of account.ts, with `passkey:<id>` factor ids.
import { IdpError } from '../core/errors.js';
import { hint } from '../core/fixes.js';
import {
  CHALLENGE_TTL_MS,
  defaultPasskeyName,
  passkeyFactorId,
  passkeyIdOf,
  isSoftwarePasskey,
  passkeyName,
  RP_ID,
  SOFTWARE_AAGUID,
  SOFTWARE_PASSKEY_FIX,
  softwarePasskeyRefusal,
} from '../core/passkeys.js';
import type { PublicKeyCredentialCreationOptionsJSON, SoftwareAuthenticator, Store, StoredPasskey } from '../ports.js';
import type { Admin } from './deps.js';
import { requireFreshSignIn, type SelfService } from './account.js';
import { requireUser } from './lookup.js';

export interface PasskeySummary {
  id: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
  aaguid: string;
  /** Made by idp's software authenticator (a testing aid), not by a device. */
  software: boolean;
}

function summary(p: StoredPasskey): PasskeySummary {
  return {
    id: p.id,
    name: p.name,
    createdAt: p.createdAt,
    lastUsedAt: p.lastUsedAt,
    aaguid: p.aaguid,
    // Rows stored before the AAGUID told (a page answered by the software authenticator) are listed as what they are.
    software: isSoftwarePasskey(p),
  };
}

export async function passkeyList({ store }: Pick<Admin, 'store'>, userRef: string): Promise<PasskeySummary[]> {
  return (await store.passkeys.forUser((await requireUser(store, userRef)).id)).map(summary);
}

/** A user's second factors as `users mfa list` and `users show` give them: factors, then passkeys with factor ids. */
export async function mfaList(store: Store, userRef: string) {
  const user = await requireUser(store, userRef);
  const passkeys = (await passkeyList({ store }, user.id)).map((p) => ({ factor: passkeyFactorId(p.id), ...p }));
  return { user, factors: await store.factors.forUser(user.id), passkeys };
}

/**
 * The origin idp's own pages are served from, as the org's base URL says: where `idp serve` would ask for a passkey,
 * and so the origin the software authenticator answers from.
 */
export async function orgOrigin(store: Store): Promise<string> {
  return new URL(await store.org.baseUrl()).origin;
}

/**
 * A passkey made by idp's software authenticator, through the same enrolment halves as a browser's, answering from the
 * org's origin. Its private key is returned once, encoded, and kept nowhere.
 */
export async function enrolSoftwarePasskey(
  admin: Pick<Admin, 'store' | 'actor' | 'passkeys'>,
  userRef: string,
  { name, authenticator }: { name?: string; authenticator: SoftwareAuthenticator },
): Promise<{ passkey: PasskeySummary; key: string }> {
  const user = await requireUser(admin.store, userRef);
  const origin = await orgOrigin(admin.store);
  const { pending, options } = await beginPasskeyEnrolment(admin, user.id, { origin, software: true });
  const { response, key } = authenticator.register(options, origin);
  const passkey = await finishPasskeyEnrolment(admin, user.id, { pending, response, origin, name, software: true });
  return { passkey, key };
}

/**
 * Options for the person's authenticator to make a passkey, with a fresh challenge held for this user (single use,
 * 5 minutes) under the returned `pending` id, bound to the origin of the page that will answer. `software`: for
 * idp's software authenticator, refused up front where it is (see refuseSoftwareOutsideSandbox).
 */
export async function beginPasskeyEnrolment(
  { store, passkeys }: Pick<Admin, 'store' | 'passkeys'>,
  userId: string,
  { origin, software, session }: { origin: string; software?: boolean; session?: SelfService },
): Promise<{ pending: string; options: PublicKeyCredentialCreationOptionsJSON }> {
  await requireFreshSignIn(store, session);
  const user = await requireUser(store, userId);
  if (software) await refuseSoftwareOutsideSandbox(store);
  const options = await passkeys.registrationOptions({
    rpId: RP_ID,
    rpName: await store.org.name(),
    user: { id: user.id, name: user.username, displayName: user.name ?? user.username },
    exclude: await store.passkeys.forUser(user.id),
    timeoutMs: CHALLENGE_TTL_MS,
  });
  const expiresAt = new Date(store.clock().getTime() + CHALLENGE_TTL_MS).toISOString();
  const pending = await store.passkeys.holdChallenge(user.id, { challenge: options.challenge, origin, expiresAt });
  return { pending, options };
}

/** Registers the passkey the authenticator made for a pending enrolment; the challenge is spent whatever the outcome. */
export async function finishPasskeyEnrolment(
  { store, actor, passkeys }: Pick<Admin, 'store' | 'actor' | 'passkeys'>,
  userId: string,
  answer: { pending: string; response: unknown; origin: string; name?: string; software?: boolean },
): Promise<PasskeySummary> {
  const user = await requireUser(store, userId);
  if (answer.software) await refuseSoftwareOutsideSandbox(store);
  const name = answer.name === undefined ? undefined : passkeyName(answer.name);
  const held = await store.tx((tx) => tx.passkeys.takeChallenge(user.id, answer.pending));
  if (!held)
    throw new IdpError(
      'MFA_FAILED',
      'that passkey enrolment expired or was already answered',
      'start the enrolment again',
    );
  if (held.origin !== answer.origin)
    throw new IdpError(
      'MFA_FAILED',
      `the enrolment was begun for ${held.origin}, and answered from ${answer.origin}`,
      'start the enrolment again from the same page',
    );
  const checked = await passkeys.verifyRegistration(answer.response, {
    challenge: held.challenge,
    origin: held.origin,
    rpId: RP_ID,
    requireUserVerification: false,
  });
  if (!checked.ok)
    throw new IdpError('MFA_FAILED', `the new passkey did not verify: ${checked.reason}`, 'start the enrolment again');
  const { userVerified: _, ...credential } = checked.value;
  // A page answered by the software authenticator does not say so: its AAGUID does.
  const software = isSoftwarePasskey({ software: answer.software === true, aaguid: credential.aaguid });
  if (software) await refuseSoftwareOutsideSandbox(store);
  return store.tx(async (tx) => {
    const existing = (await tx.passkeys.forUser(user.id)).map((p) => p.name);
    const given = name ?? defaultPasskeyName(existing, software);
    const added = await tx.passkeys.add(user.id, { ...credential, name: given, software });
    if (!added)
      throw new IdpError(
        'USAGE',
        'that passkey is already registered',
        hint`see ${{ kind: 'list-factors', user: user.username }}`,
      );
    await tx.events.recordConfig({
      actor,
      action: 'mfa.enroll',
      target: `user ${user.username}`,
      detail: `enrolled passkey "${given}" for ${user.username}${added.software ? ' (software authenticator)' : ''}`,
      before: null,
      after: { factor: passkeyFactorId(added.id), type: 'passkey', aaguid: added.aaguid },
    });
    return summary(added);
  });
}

/** A software passkey is made only where every connection is a sandbox one (core/passkeys.ts says why). */
async function refuseSoftwareOutsideSandbox(store: Store): Promise<void> {
  const refusal = softwarePasskeyRefusal(await store.connections.list());
  if (refusal) throw new IdpError('SOFTWARE_PASSKEY_REFUSED', refusal, SOFTWARE_PASSKEY_FIX);
}

/**
 * The users holding software passkeys, when the organisation has a real connection: a warning for whoever just added
 * one (the passkeys stay, but are refused at sign-in from now on), naming the first few. Null when there is none.
 */
export async function softwarePasskeyWarning(store: Store): Promise<string | null> {
  if (softwarePasskeyRefusal(await store.connections.list()) === null) return null;
  const holders = await store.passkeys.softwareHolders(SOFTWARE_AAGUID);
  if (holders.length === 0) return null;
  const named = `${holders.slice(0, 5).join(', ')}${holders.length > 5 ? ', ...' : ''}`;
  return `${holders.length} user(s) hold software passkeys (a testing aid), refused at sign-in now that this organisation has a real connection: ${named}; remove them and enrol device passkeys`;
}

/** Renames one of the user's passkeys (its id with or without the `passkey:` of its factor id). */
export async function renamePasskey(
  { store, actor }: Pick<Admin, 'store' | 'actor'>,
  userId: string,
  passkeyId: string,
  name: string,
): Promise<PasskeySummary> {
  const user = await requireUser(store, userId);
  const id = passkeyIdOf(passkeyId) ?? passkeyId;
  const newName = passkeyName(name);
  return store.tx(async (tx) => {
    const before = (await tx.passkeys.forUser(user.id)).find((p) => p.id === id);
    if (!before || !(await tx.passkeys.rename(user.id, id, newName)))
      throw new IdpError(
        'USAGE',
        `${user.username} has no passkey ${passkeyFactorId(id)}`,
        hint`see ${{ kind: 'list-factors', user: user.username }}`,
      );
    await tx.events.recordConfig({
      actor,
      action: 'mfa.rename',
      target: `user ${user.username}`,
      detail: `renamed passkey "${before.name}" of ${user.username} to "${newName}"`,
      before: { name: before.name },
      after: { name: newName },
    });
    return summary({ ...before, name: newName });
  });
}
