// The `mfa` state: a TOTP (or its enrolment) or an emailed code for the user an earlier step identified. Wrong codes
// count against the user across sign-ins (lockout.ts), besides the per-flow cap.
import { IdpError } from '../../core/errors.js';
import { restoreAccessHint } from '../../core/jit.js';
import type { User } from '../../core/types.js';
import type { MailMessage } from '../../ports.js';
import { amrFor, beginMfa, MAX_MFA_ATTEMPTS, verifyMfa, type MfaMethod } from '../mfa.js';
import type { FlowView, Waiting } from '../types.js';
import { enrolmentRefused, refuseEnrolment } from './enrolment.js';
import { completeStep, localUser, type Kit, type Run } from './kit.js';
import { lockIfTooMany } from './lockout.js';

export async function startMfa(kit: Kit, run: Run, method: MfaMethod): Promise<FlowView> {
  run.current = 'mfa';
  const user = await localUser(kit, run);
  const refused =
    method === 'totp' &&
    !(await kit.deps.store.factors.totpFor(user.id)) &&
    (await enrolmentRefused(kit, run, user, 'totp'));
  if (refused) return refuseEnrolment(kit, run, 'totp', refused);
  const { waiting, mail } = await beginMfa(kit.deps, run.id, run.app.name, user, method);
  if (mail) kit.stage(run, 'mfa', 'waiting', `email code sent to ${mail.to} (idp outbox${await relay(kit, mail)})`, 0);
  return kit.wait(run, waiting);
}

/** The SMTP relay's part of the stage detail. A relay that fails does not fail the step: the outbox has the code. */
async function relay(kit: Kit, mail: MailMessage): Promise<string> {
  const { mailer } = kit.deps;
  if (!mailer) return '';
  try {
    await mailer.send(mail);
    return `; relayed to ${mailer.target}`;
  } catch (err) {
    return `; the relay to ${mailer.target} failed: ${(err as Error).message}`;
  }
}

export async function checkMfa(
  kit: Kit,
  run: Run,
  waiting: Extract<Waiting, { kind: 'mfa' }>,
  code: string,
): Promise<FlowView> {
  run.current = 'mfa';
  const user = await localUser(kit, run);
  refuseInactive(user);
  const refused = waiting.enrolSecret !== undefined && (await enrolmentRefused(kit, run, user, 'totp'));
  if (refused) return refuseEnrolment(kit, run, 'totp', refused);
  const verdict = await verifyMfa(kit.deps, run.id, user, waiting, code);
  // Locked by another sign-in while this code was checked: even the right code does not finish the step.
  refuseInactive((await kit.deps.store.users.byId(user.id)) ?? user);
  if (verdict !== 'ok') {
    await lockIfTooMany(
      kit,
      run,
      user,
      await kit.deps.store.users.recordFailedMfa(user.id),
      'MFA codes',
      user.username,
    );
    waiting.attempts++;
    kit.stage(
      run,
      'mfa',
      'failed',
      `${waiting.method}: ${verdict} (attempt ${waiting.attempts} of ${MAX_MFA_ATTEMPTS})`,
      kit.waited(run),
    );
    if (waiting.attempts >= MAX_MFA_ATTEMPTS)
      throw new IdpError('MFA_TOO_MANY_ATTEMPTS', `too many wrong ${waiting.method} codes`, 'sign in again');
    const retry = {
      code: 'MFA_FAILED' as const,
      message: `${verdict}: ${MAX_MFA_ATTEMPTS - waiting.attempts} attempt(s) left`,
      hint: null,
    };
    return { ...((await kit.view(run)) as Extract<FlowView, { waiting: 'mfa' }>), retry };
  }
  await kit.deps.store.users.recordMfaSuccess(user.id);
  const enrolled = waiting.method === 'totp' && waiting.enrolSecret ? ' (new factor enrolled)' : '';
  kit.stage(run, 'mfa', 'ok', `${waiting.method} verified for ${user.username}${enrolled}`, kit.waited(run));
  completeStep(kit, run, waiting.method, 'LOCAL', amrFor(waiting.method));
  return kit.next(run);
}

/** A locked or disabled user gets no further code checked (the account may have been locked by wrong codes). */
export function refuseInactive(user: User): void {
  if (user.status !== 'active')
    throw new IdpError(
      user.status === 'locked' ? 'USER_LOCKED' : 'USER_DISABLED',
      `the account is ${user.status}`,
      restoreAccessHint('<user>', user.status),
    );
}
