// The `passkey` state: WebAuthn in a flow. With nobody identified yet (step 1) it signs in passwordless with a
// discoverable credential (user verification required); later it checks a passkey of the user an earlier step
// identified (verification preferred), or enrols one the user lacks. Each answer, right or wrong, consumes the
// challenge: a retry gets a fresh one. Wrong answers count against the user as wrong MFA codes do, once an earlier
// step identified the user (in a passwordless step, per flow only).
import { IdpError, isIdpError } from '../../core/errors.js';
import {
  assertionCredential,
  CHALLENGE_TTL_MS,
  counterAdvanced,
  defaultPasskeyName,
  isSoftwarePasskey,
  passkeyName,
  RP_ID,
  SOFTWARE_LABEL,
  softwarePasskeyRefusal,
} from '../../core/passkeys.js';
import { LOCAL_OPTION_AMR, SOFTWARE_KEY_AMR, USER_VERIFIED_AMR } from '../../core/signin.js';
import type { User } from '../../core/types.js';
import type { StoredPasskey } from '../../ports.js';
import { MAX_MFA_ATTEMPTS } from '../mfa.js';
import type { FlowError, FlowView, PasskeyAnswer, Waiting } from '../types.js';
import { enrolmentRefused, refuseEnrolment } from './enrolment.js';
import { completeStep, localUser, type Kit, type Run } from './kit.js';
import { lockIfTooMany } from './lockout.js';
import { refuseInactive } from './mfa.js';

type PasskeyWaiting = Extract<Waiting, { kind: 'passkey' }>;
type PasskeyView = Extract<FlowView, { waiting: 'passkey' }>;

/** A refused answer: why (shown to the person), and whose account it counts against (none for an unknown key). */
interface Refusal {
  reason: string;
  user?: User;
}

/**
 * Starts the step: options for the person's authenticator, with a fresh challenge. Enrolling a passkey the user lacks
 * is refused (a retry in the step) when the account holds another second factor: see enrolment.ts.
 */
export async function startPasskey(kit: Kit, run: Run, attempts = 0): Promise<FlowView> {
  run.current = 'mfa';
  const next = await challenge(kit, run, attempts);
  return 'refused' in next ? refuseEnrolment(kit, run, 'passkey', next.refused) : kit.wait(run, next);
}

/** The view of a waiting passkey step: its options, and the step's other options as the fallback. */
export function passkeyView(run: Run, waiting: PasskeyWaiting): PasskeyView {
  return {
    flow: run.id,
    app: run.app.name,
    step: run.state.step,
    status: 'active',
    waiting: 'passkey',
    mode: waiting.mode,
    options: waiting.options,
    alternatives: (run.state.steps[run.state.step - 1] ?? []).filter((o) => o !== 'passkey'),
  };
}

/**
 * The option a `choose` sent to a waiting passkey step switches to: another of the step's options. Choosing the
 * passkey again is refused, or it would start the step afresh and so outrun the per-flow attempt cap.
 */
export function fallbackOption(run: Run, option: string): string {
  if (option === 'passkey')
    throw new IdpError(
      'USAGE',
      `step ${run.state.step} of ${run.app.name} is already waiting for a passkey`,
      'answer it, or choose another option of the step',
    );
  return option;
}

async function challenge(kit: Kit, run: Run, attempts: number): Promise<PasskeyWaiting | { refused: IdpError }> {
  const { store, passkeys } = kit.deps;
  const expiresAt = new Date(store.clock().getTime() + CHALLENGE_TTL_MS).toISOString();
  const timeoutMs = CHALLENGE_TTL_MS;
  if (run.state.identity === null) {
    const options = await passkeys.authenticationOptions({
      rpId: RP_ID,
      userVerification: 'required',
      allow: [],
      timeoutMs,
    });
    return { kind: 'passkey', mode: 'authenticate', options, expiresAt, attempts };
  }
  const user = activeUser(await localUser(kit, run));
  // One passkey is one factor: a step that already took one cannot be followed by a passkey counted as a second.
  const earlier = run.state.completed.find((c) => c.option === 'passkey');
  if (earlier)
    return {
      refused: new IdpError(
        'MFA_MISCONFIGURED',
        `a passkey already signed in step ${earlier.step}: step ${run.state.step} needs another kind of factor`,
        'choose another option of this step; the app should not offer a passkey in two steps',
      ),
    };
  const held = await store.passkeys.forUser(user.id);
  if (held.length > 0) {
    const options = await passkeys.authenticationOptions({
      rpId: RP_ID,
      userVerification: 'preferred',
      allow: held,
      timeoutMs,
    });
    return { kind: 'passkey', mode: 'authenticate', options, expiresAt, attempts };
  }
  const refused = await enrolmentRefused(kit, run, user, 'passkey');
  if (refused) return { refused };
  const options = await passkeys.registrationOptions({
    rpId: RP_ID,
    rpName: await store.org.name(),
    user: { id: user.id, name: user.username, displayName: user.name ?? user.username },
    exclude: [],
    timeoutMs,
  });
  return { kind: 'passkey', mode: 'enrol', options, expiresAt, attempts };
}

export async function checkPasskey(
  kit: Kit,
  run: Run,
  waiting: PasskeyWaiting,
  answer: PasskeyAnswer,
): Promise<FlowView> {
  run.current = 'mfa';
  if (kit.deps.store.clock().toISOString() >= waiting.expiresAt)
    return refuse(kit, run, waiting, { reason: 'the passkey challenge expired; answer the new one' });
  if (waiting.mode === 'enrol') {
    // The account may have gained a second factor elsewhere since the step began.
    const refused = await enrolmentRefused(kit, run, activeUser(await localUser(kit, run)), 'passkey');
    if (refused) return refuseEnrolment(kit, run, 'passkey', refused);
  }
  const outcome =
    waiting.mode === 'enrol' ? await enrol(kit, run, waiting, answer) : await authenticate(kit, run, waiting, answer);
  if ('reason' in outcome) return refuse(kit, run, waiting, outcome);
  return kit.next(run);
}

/**
 * Checks an assertion. In a passwordless step nobody is identified yet, so a refusal counts per flow only: counting it
 * against the account its credential id names would let anyone who knows that id lock the owner out.
 */
async function authenticate(
  kit: Kit,
  run: Run,
  waiting: PasskeyWaiting,
  answer: PasskeyAnswer,
): Promise<Refusal | { done: true }> {
  const { store, passkeys } = kit.deps;
  const passwordless = run.state.identity === null;
  const named = assertionCredential(answer.response);
  if (!named) return { reason: 'that is not a passkey assertion' };
  const key = await store.passkeys.byCredential(named.credentialId);
  const expected = passwordless ? undefined : await localUser(kit, run);
  if (!key || (expected && key.userId !== expected.id))
    return { reason: 'that passkey is not registered for this account', user: expected };
  // A discoverable credential names its user twice (userHandle and the stored key): both must agree.
  if (passwordless && named.userHandle !== null && named.userHandle !== key.userId)
    return { reason: 'that passkey does not belong to the account it names' };
  const software = isSoftwarePasskey(key) ? softwarePasskeyRefusal(await store.connections.list()) : null;
  if (software) return { reason: software };
  const user = activeUser((await store.users.byId(key.userId)) ?? missingUser());
  const checked = await passkeys.verifyAuthentication(answer.response, {
    challenge: waiting.options.challenge,
    origin: answer.origin,
    rpId: RP_ID,
    requireUserVerification: passwordless,
    key,
  });
  // Locked by another sign-in while this answer was checked: even a good answer does not finish the step.
  activeUser((await store.users.byId(user.id)) ?? user);
  if (!checked.ok) return { reason: `the passkey did not verify: ${checked.reason}`, user: expected };
  const { counter, userVerified } = checked.value;
  if (!counterAdvanced(key.counter, counter) || !(await store.passkeys.recordUse(key.id, counter)))
    throw await cloneWarning(kit, run, user, key, counter);
  await store.users.recordMfaSuccess(user.id);
  if (passwordless) {
    await store.users.recordLogin(user.id);
    run.state.identity = { kind: 'local', userId: user.id, username: user.username };
  }
  const how = `${passwordless ? 'passwordless sign-in' : 'second factor'}${userVerified ? ', user verified' : ''}`;
  kit.stage(
    run,
    'mfa',
    'ok',
    `passkey "${key.name}" verified for ${user.username} (${how}${softwareNote(key)})`,
    kit.waited(run),
  );
  complete(kit, run, key, userVerified);
  return { done: true };
}

async function enrol(
  kit: Kit,
  run: Run,
  waiting: PasskeyWaiting,
  answer: PasskeyAnswer,
): Promise<Refusal | { done: true }> {
  const { store, passkeys } = kit.deps;
  const user = activeUser(await localUser(kit, run));
  // Before the challenge is verified: a bad name is the person's typing, so a retry, not a failed sign-in.
  const named = givenName(answer.name);
  if ('reason' in named) return named;
  const checked = await passkeys.verifyRegistration(answer.response, {
    challenge: waiting.options.challenge,
    origin: answer.origin,
    rpId: RP_ID,
    requireUserVerification: false,
  });
  if (!checked.ok) return { reason: `the new passkey did not verify: ${checked.reason}`, user };
  const { userVerified, ...credential } = checked.value;
  // Only the CLI flags the software authenticator's passkeys; one registered through a page is known by its AAGUID.
  const software = isSoftwarePasskey({ software: false, aaguid: credential.aaguid });
  const refusal = software ? softwarePasskeyRefusal(await store.connections.list()) : null;
  if (refusal) return { reason: refusal };
  const name =
    named.name ??
    defaultPasskeyName(
      (await store.passkeys.forUser(user.id)).map((p) => p.name),
      software,
    );
  const added = await store.passkeys.add(user.id, { ...credential, name, software });
  if (!added) return { reason: 'that passkey is already registered', user };
  await store.users.recordMfaSuccess(user.id);
  kit.stage(
    run,
    'mfa',
    'ok',
    `passkey "${name}" enrolled and verified for ${user.username}${userVerified ? ' (user verified)' : ''}${softwareNote(added)}`,
    kit.waited(run),
  );
  complete(kit, run, added, userVerified);
  return { done: true };
}

/** The name the person gave their new passkey, checked (undefined: none given, a default is chosen). */
function givenName(raw: string | undefined): { name: string | undefined } | Refusal {
  if (raw === undefined) return { name: undefined };
  try {
    return { name: passkeyName(raw) };
  } catch (err) {
    if (isIdpError(err)) return { reason: err.message };
    throw err;
  }
}

/**
 * RFC 8176: `hwk` for a device's key, `swk` for the software authenticator's (a key in a variable, not hardware),
 * and `user` when the authenticator verified the person (PIN or biometrics).
 */
function complete(kit: Kit, run: Run, key: StoredPasskey, userVerified: boolean): void {
  completeStep(kit, run, 'passkey', 'LOCAL', isSoftwarePasskey(key) ? SOFTWARE_KEY_AMR : LOCAL_OPTION_AMR.passkey);
  if (userVerified && !run.state.amr.includes(USER_VERIFIED_AMR)) run.state.amr.push(USER_VERIFIED_AMR);
}

/** A wrong answer: counted (per flow, and against the account as a wrong MFA code), then a fresh challenge. */
async function refuse(kit: Kit, run: Run, waiting: PasskeyWaiting, refusal: Refusal): Promise<FlowView> {
  const { user } = refusal;
  if (user)
    await lockIfTooMany(
      kit,
      run,
      user,
      await kit.deps.store.users.recordFailedMfa(user.id),
      'MFA answers',
      user.username,
    );
  const attempts = waiting.attempts + 1;
  kit.stage(
    run,
    'mfa',
    'failed',
    `passkey: ${refusal.reason} (attempt ${attempts} of ${MAX_MFA_ATTEMPTS})`,
    kit.waited(run),
  );
  if (attempts >= MAX_MFA_ATTEMPTS)
    throw new IdpError('MFA_TOO_MANY_ATTEMPTS', 'too many refused passkey answers', 'sign in again');
  const view = (await startPasskey(kit, run, attempts)) as PasskeyView;
  const retry: FlowError = {
    code: 'MFA_FAILED',
    message: `${refusal.reason}: ${MAX_MFA_ATTEMPTS - attempts} attempt(s) left`,
    hint: null,
  };
  return { ...view, retry };
}

/**
 * A signature counter that did not grow: two authenticators may hold this key. The sign-in is refused, and an audit
 * event says so beside the flow's failed stage, since it concerns the account rather than this one sign-in.
 */
async function cloneWarning(kit: Kit, run: Run, user: User, key: StoredPasskey, counter: number): Promise<IdpError> {
  await kit.deps.store.events.recordConfig({
    actor: 'idp',
    action: 'passkey.clone-warning',
    target: `user ${user.username}`,
    detail: `passkey "${key.name}" of ${user.username} answered with signature counter ${counter}, not above ${key.counter}: it may have been cloned (flow ${run.id} to ${run.app.name})`,
    before: { counter: key.counter },
    after: { counter },
  });
  return new IdpError(
    'MFA_FAILED',
    `passkey "${key.name}": its signature counter went from ${key.counter} to ${counter}, so it may have been cloned`,
    'remove that passkey and enrol the authenticator again, or sign in another way',
  );
}

function softwareNote(key: StoredPasskey): string {
  return isSoftwarePasskey(key) ? `; ${SOFTWARE_LABEL}` : '';
}

/** The account as the step may go on with it: locked and disabled users are refused (steps/mfa.ts). */
function activeUser(user: User): User {
  refuseInactive(user);
  return user;
}

function missingUser(): never {
  throw new IdpError('MFA_FAILED', 'the account of that passkey no longer exists', 'sign in another way');
}
