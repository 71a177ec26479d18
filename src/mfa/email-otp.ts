// Email one-time codes as pure helpers: generation, the flow-bound hash the store keeps, and the check.
// The store persists the hash and counts attempts; no code is ever stored or logged in clear.

import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';
import type { EmailOtpCheck, OtpVerifier, StoredEmailOtp } from '../ports.js';

export const OTP_TTL_MS = 10 * 60_000;
export const MAX_EMAIL_OTP_ATTEMPTS = 5;

/** Six digits from the CSPRNG, and the hash to store for this flow. */
export function newEmailOtp(flowId: string): { code: string; hash: string } {
  const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
  return { code, hash: hashOtp(code, flowId) };
}

/** Keyed by the flow id, so a code (or its hash) from one flow is worthless in another. */
export function hashOtp(code: string, flowId: string): string {
  return createHmac('sha256', flowId).update(code).digest('base64url');
}

export function checkEmailOtp(stored: StoredEmailOtp, code: string, flowId: string, now: Date): EmailOtpCheck {
  if (stored.flowId !== flowId) return 'wrong-flow';
  if (stored.usedAt !== null) return 'used';
  if (stored.attempts >= MAX_EMAIL_OTP_ATTEMPTS) return 'too-many-attempts';
  if (now.getTime() >= Date.parse(stored.expiresAt)) return 'expired';
  const given = Buffer.from(hashOtp(code.replace(/\s+/g, ''), flowId));
  const expected = Buffer.from(stored.hash);
  return given.length === expected.length && timingSafeEqual(given, expected) ? 'ok' : 'invalid';
}

export const emailOtps: OtpVerifier = { ttlMs: OTP_TTL_MS, issue: newEmailOtp, check: checkEmailOtp };
