// Email OTP helpers with injected dates: generation, flow binding, expiry, single use, attempt cap.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StoredEmailOtp } from '../../src/ports.js';
import { checkEmailOtp, hashOtp, MAX_EMAIL_OTP_ATTEMPTS, newEmailOtp, OTP_TTL_MS } from '../../src/mfa/email-otp.js';

const issuedAt = new Date('2025-03-01T10:00:00.000Z');
const FLOW = 'flow-7c1e';

function stored(hash: string, extra: Partial<StoredEmailOtp> = {}): StoredEmailOtp {
  return {
    hash,
    flowId: FLOW,
    expiresAt: new Date(issuedAt.getTime() + OTP_TTL_MS).toISOString(),
    usedAt: null,
    attempts: 0,
    ...extra,
  };
}

test('a new code is six digits and its hash is not the code', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 50; i++) {
    const { code, hash } = newEmailOtp(FLOW);
    assert.match(code, /^\d{6}$/);
    assert.equal(hash, hashOtp(code, FLOW));
    assert.ok(!hash.includes(code));
    seen.add(code);
  }
  assert.ok(seen.size > 1);
  assert.equal(OTP_TTL_MS, 600_000);
});

test('the right code within ten minutes is ok; spaces are ignored', () => {
  const { code, hash } = newEmailOtp(FLOW);
  assert.equal(checkEmailOtp(stored(hash), code, FLOW, issuedAt), 'ok');
  assert.equal(
    checkEmailOtp(
      stored(hash),
      `${code.slice(0, 3)} ${code.slice(3)}`,
      FLOW,
      new Date(issuedAt.getTime() + OTP_TTL_MS - 1),
    ),
    'ok',
  );
});

test('a wrong code is invalid and the cap applies after five failures', () => {
  const { code, hash } = newEmailOtp(FLOW);
  const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
  assert.equal(checkEmailOtp(stored(hash), wrong, FLOW, issuedAt), 'invalid');
  assert.equal(checkEmailOtp(stored(hash), '', FLOW, issuedAt), 'invalid');
  assert.equal(checkEmailOtp(stored(hash, { attempts: MAX_EMAIL_OTP_ATTEMPTS - 1 }), code, FLOW, issuedAt), 'ok');
  assert.equal(
    checkEmailOtp(stored(hash, { attempts: MAX_EMAIL_OTP_ATTEMPTS }), code, FLOW, issuedAt),
    'too-many-attempts',
  );
  assert.equal(MAX_EMAIL_OTP_ATTEMPTS, 5);
});

test('expired at ten minutes, single use, and bound to its flow', () => {
  const { code, hash } = newEmailOtp(FLOW);
  assert.equal(checkEmailOtp(stored(hash), code, FLOW, new Date(issuedAt.getTime() + OTP_TTL_MS)), 'expired');
  assert.equal(checkEmailOtp(stored(hash, { usedAt: issuedAt.toISOString() }), code, FLOW, issuedAt), 'used');
  assert.equal(checkEmailOtp(stored(hash), code, 'flow-other', issuedAt), 'wrong-flow');
  // The same code issued to another flow hashes differently, so a stolen row cannot be replayed elsewhere.
  assert.notEqual(hashOtp(code, FLOW), hashOtp(code, 'flow-other'));
  assert.equal(
    checkEmailOtp({ ...stored(hashOtp(code, 'flow-other')), flowId: FLOW }, code, FLOW, issuedAt),
    'invalid',
  );
});
