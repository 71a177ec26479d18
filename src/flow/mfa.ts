// MFA steps inside a flow: starting a TOTP (or enrolling one) or an email OTP, and checking the code the person gives.
// Codes are single use: a TOTP step is claimed atomically, an email OTP row is marked used atomically.
import { IdpError } from '../core/errors.js';
import { hint } from '../core/fixes.js';
import { LOCAL_OPTION_AMR } from '../core/signin.js';
import type { User } from '../core/types.js';
import type { MailMessage, OtpVerifier, Store, TotpVerifier } from '../ports.js';
import type { Waiting } from './types.js';

/** Per flow; wrong codes also count per user across flows (steps/lockout.ts), as wrong passwords do. */
export const MAX_MFA_ATTEMPTS = 3;

type MfaWaiting = Extract<Waiting, { kind: 'mfa' }>;
export type MfaMethod = MfaWaiting['method'];

/** The ports an MFA step uses. */
export interface MfaDeps {
  store: Store;
  totp: TotpVerifier;
  emailOtps: OtpVerifier;
}

export function amrFor(method: MfaMethod): string {
  return LOCAL_OPTION_AMR[method];
}

function maskEmail(email: string): string {
  const [local = '', domain = ''] = email.split('@');
  return `${local.slice(0, 1)}***@${domain}`;
}

/**
 * Prepares an MFA step for `user`: finds the TOTP factor (or starts enrolment), or sends an email code to the outbox.
 * The email comes back apart from the waiting state, which is persisted with the flow and must never hold the code.
 */
export async function beginMfa(
  { store, totp, emailOtps }: MfaDeps,
  flowId: string,
  appName: string,
  user: User,
  method: MfaMethod,
): Promise<{ waiting: MfaWaiting; mail?: MailMessage }> {
  if (method === 'totp') {
    const factor = await store.factors.totpFor(user.id);
    if (factor) return { waiting: { kind: 'mfa', method, factorId: factor.id, attempts: 0 } };
    return { waiting: { kind: 'mfa', method, enrolSecret: store.seal(totp.newSecret()), attempts: 0 } };
  }
  if (!user.email) {
    const addEmail = { kind: 'set', on: 'user', name: user.username, setting: 'attr', value: 'email=ADDRESS' } as const;
    throw new IdpError(
      'MFA_MISCONFIGURED',
      `${user.username} has no email address to send a code to`,
      hint`${addEmail}`,
    );
  }
  const { code, hash } = emailOtps.issue(flowId);
  const expiresAt = new Date(store.clock().getTime() + emailOtps.ttlMs).toISOString();
  const mail = {
    to: user.email,
    subject: `Your ${appName} sign-in code`,
    body: `Your code is ${code}. It expires in 10 minutes and works once.`,
  };
  await store.tx(async (tx) => {
    await tx.codes.issue(flowId, user.id, mail.to, hash, expiresAt);
    await tx.codes.deliver({ ...mail, flow: flowId });
  });
  return { waiting: { kind: 'mfa', method, attempts: 0 }, mail };
}

export function mfaPrompt(
  { store, totp }: MfaDeps,
  user: User,
  waiting: MfaWaiting,
): { hint: string; enrol?: { secret: string; uri: string } } {
  if (waiting.method === 'email-otp')
    return { hint: `6-digit code sent to ${maskEmail(user.email ?? '')} (also in idp's outbox)` };
  if (!waiting.enrolSecret) return { hint: '6-digit code from your authenticator app' };
  const secret = store.unseal(waiting.enrolSecret);
  return {
    hint: `scan the QR code or enter the secret in an authenticator app, then type its 6-digit code`,
    enrol: { secret, uri: totp.enrolmentUri({ secret, account: user.email ?? user.username, issuer: 'idp' }) },
  };
}

/** 'ok', or why the code was refused (the caller counts attempts). Expired and spent codes end the step. */
export async function verifyMfa(
  { store, totp, emailOtps }: MfaDeps,
  flowId: string,
  user: User,
  waiting: MfaWaiting,
  code: string,
): Promise<'ok' | string> {
  if (waiting.method === 'totp') {
    const factor = waiting.factorId ? await store.factors.totpFor(user.id) : undefined;
    if (waiting.factorId && !factor)
      throw new IdpError(
        'MFA_NOT_ENROLLED',
        `${user.username}'s TOTP factor was removed during this sign-in`,
        'sign in again; it will offer to enrol a new one',
      );
    const secret = store.unseal(factor?.secretSealed ?? waiting.enrolSecret!);
    const result = await totp.check(secret, code, { at: store.clock(), lastUsedStep: factor?.lastUsedStep ?? null });
    if (!result.ok)
      return result.reason === 'replayed' ? 'that code was already used; wait for the next one' : 'wrong code';
    if (factor)
      return (await store.factors.claimStep(factor.id, result.step))
        ? 'ok'
        : 'that code was already used; wait for the next one';
    if ((await store.factors.addTotp(user.id, waiting.enrolSecret!, result.step)) === null) {
      throw new IdpError(
        'MFA_FAILED',
        `${user.username} enrolled a TOTP factor in another sign-in meanwhile`,
        'sign in again and use that factor',
      );
    }
    return 'ok';
  }
  const stored = await store.codes.latestForFlow(flowId);
  if (!stored) throw new IdpError('MFA_FAILED', 'no email code was sent for this flow', 'sign in again');
  const check = emailOtps.check(stored, code, flowId, store.clock());
  if (check === 'ok') return (await store.codes.markUsed(stored.id)) ? 'ok' : 'that code was already used';
  if (check === 'expired')
    throw new IdpError(
      'MFA_FAILED',
      'the emailed code has expired (codes last 10 minutes)',
      'sign in again for a new code',
    );
  if (check === 'used')
    throw new IdpError('MFA_FAILED', 'the emailed code was already used', 'sign in again for a new code');
  if (check === 'too-many-attempts')
    throw new IdpError(
      'MFA_TOO_MANY_ATTEMPTS',
      'too many wrong codes for this email OTP',
      'sign in again for a new code',
    );
  await store.codes.recordAttempt(stored.id);
  return 'wrong code';
}
