// TOTP enrolment and verification on otplib (RFC 6238: SHA-1, 6 digits, 30 s steps, window of one step either side).
// Replay protection is ours: the caller stores the last accepted step and a code for that step or earlier is refused.

import { randomBytes } from 'node:crypto';
import { IdpError } from '../core/errors.js';
import type { TotpCheck, TotpVerifier } from '../ports.js';

type Otplib = typeof import('otplib');
let otplib: Promise<Otplib> | null = null;

/** otplib loads only when a code is computed or checked: most logins never need it. */
function lib(): Promise<Otplib> {
  otplib ??= import('otplib');
  return otplib;
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function base32(bytes: Buffer): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return bits > 0 ? out + BASE32[(value << (5 - bits)) & 31] : out;
}

const PERIOD_SECONDS = 30;
const DIGITS = 6;
const SECRET_BYTES = 20;

/** Base32 of 20 bytes from the CSPRNG (RFC 4226 recommends 160 bits). */
export function newTotpSecret(): string {
  return base32(randomBytes(SECRET_BYTES));
}

/** The Key URI Format authenticator apps scan: otpauth://totp/ISSUER:ACCOUNT?secret=...&issuer=... */
export function otpauthUri(opts: { secret: string; account: string; issuer: string }): string {
  const label = `${encodeURIComponent(opts.issuer)}:${encodeURIComponent(opts.account)}`;
  const query = new URLSearchParams({
    secret: normaliseSecret(opts.secret),
    issuer: opts.issuer,
    algorithm: 'SHA1',
    digits: String(DIGITS),
    period: String(PERIOD_SECONDS),
  });
  return `otpauth://totp/${label}?${query.toString()}`;
}

/** The current code, for the headless driver (--totp-secret-env) and tests. */
export async function totpCode(secret: string, at: Date = new Date()): Promise<string> {
  const { generate } = await lib();
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
  const { verify } = await lib();
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

export const totp: TotpVerifier = {
  newSecret: newTotpSecret,
  enrolmentUri: otpauthUri,
  check: checkTotp,
  code: totpCode,
};
