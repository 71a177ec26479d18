// TOTP enrolment and verification on otplib (RFC 6238: SHA-1, 6 digits, 30 s steps, window of one step either side).
// Replay protection is ours: the caller stores the last accepted step and a code for that step or earlier is refused.

import { generate, generateSecret, generateURI, verify } from 'otplib';
import { IdpError } from '../core/errors.js';

const PERIOD_SECONDS = 30;
const DIGITS = 6;
const SECRET_BYTES = 20;

export type TotpCheck = { ok: true; step: number } | { ok: false; reason: 'invalid' | 'replayed' };

/** Base32, 20 bytes from the platform CSPRNG (otplib's default crypto plugin uses getRandomValues). */
export function newTotpSecret(): string {
  return generateSecret({ length: SECRET_BYTES });
}

export function otpauthUri(opts: { secret: string; account: string; issuer: string }): string {
  return generateURI({
    issuer: opts.issuer,
    label: opts.account,
    secret: normaliseSecret(opts.secret),
    algorithm: 'sha1',
    digits: DIGITS,
    period: PERIOD_SECONDS,
  });
}

/** The current code, for the headless driver (--totp-secret-env) and tests. */
export async function totpCode(secret: string, at: Date = new Date()): Promise<string> {
  return withSecretErrors(() =>
    generate({ secret: normaliseSecret(secret), epoch: epochSeconds(at), digits: DIGITS, period: PERIOD_SECONDS }),
  );
}

export async function checkTotp(
  secret: string,
  code: string,
  opts: { at?: Date; lastUsedStep: number | null },
): Promise<TotpCheck> {
  const token = code.replace(/\s+/g, '');
  if (!new RegExp(`^\\d{${DIGITS}}$`).test(token)) return { ok: false, reason: 'invalid' };
  const result = await withSecretErrors(() =>
    verify({
      secret: normaliseSecret(secret),
      token,
      epoch: epochSeconds(opts.at ?? new Date()),
      epochTolerance: PERIOD_SECONDS,
      digits: DIGITS,
      period: PERIOD_SECONDS,
    }),
  );
  // The functional API's result type also covers HOTP, which has no timeStep.
  if (!result.valid || !('timeStep' in result)) return { ok: false, reason: 'invalid' };
  if (opts.lastUsedStep !== null && result.timeStep <= opts.lastUsedStep) return { ok: false, reason: 'replayed' };
  return { ok: true, step: result.timeStep };
}

/** Authenticator apps show secrets in spaced groups, sometimes lower case. */
function normaliseSecret(secret: string): string {
  return secret.replace(/\s+/g, '').toUpperCase();
}

function epochSeconds(at: Date): number {
  return Math.floor(at.getTime() / 1000);
}

async function withSecretErrors<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw new IdpError(
      'INVALID_VALUE',
      `unusable TOTP secret: ${err instanceof Error ? err.message : String(err)}`,
      'a TOTP secret is the base32 text shown at enrolment (at least 16 bytes, i.e. 26+ characters)',
      { cause: err },
    );
  }
}
