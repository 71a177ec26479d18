// TOTP on otplib: the RFC 6238 appendix B SHA-1 vectors, the one-step window, replay refusal, enrolment helpers.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generate } from 'otplib';
import { checkTotp, newTotpSecret, otpauthUri, totpCode } from '../../src/mfa/totp.js';
import { IdpError } from '../../src/core/errors.js';
import { hintOf } from '../helpers/hints.js';

// RFC 6238 appendix B: the SHA-1 seed is the ASCII string "12345678901234567890"; this is its base32.
const RFC_SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const RFC_VECTORS: Array<[epoch: number, code8: string]> = [
  [59, '94287082'],
  [1111111109, '07081804'],
  [1111111111, '14050471'],
  [1234567890, '89005924'],
  [2000000000, '69279037'],
  [20000000000, '65353130'],
];
const at = (epoch: number): Date => new Date(epoch * 1000);

test('otplib reproduces the RFC 6238 SHA-1 vectors with 8 digits', async () => {
  assert.equal(Buffer.from('12345678901234567890').length, 20);
  for (const [epoch, code8] of RFC_VECTORS) {
    assert.equal(
      await generate({ secret: RFC_SECRET, epoch, digits: 8, algorithm: 'sha1', period: 30 }),
      code8,
      `T=${epoch}`,
    );
  }
});

test('6-digit codes are the last six digits of the RFC vectors and verify at their time', async () => {
  for (const [epoch, code8] of RFC_VECTORS) {
    const code6 = code8.slice(2);
    assert.equal(await totpCode(RFC_SECRET, at(epoch)), code6, `T=${epoch}`);
    assert.deepEqual(await checkTotp(RFC_SECRET, code6, { at: at(epoch), lastUsedStep: null }), {
      ok: true,
      step: Math.floor(epoch / 30),
    });
  }
});

test('the window accepts one step either side and refuses two', async () => {
  const secret = newTotpSecret();
  const now = at(1_700_000_015); // mid-step, so +-30 s lands in the neighbouring steps only
  const step = Math.floor(1_700_000_015 / 30);
  for (const offset of [-1, 0, 1]) {
    const code = await totpCode(secret, at(1_700_000_015 + offset * 30));
    assert.deepEqual(
      await checkTotp(secret, code, { at: now, lastUsedStep: null }),
      { ok: true, step: step + offset },
      `offset ${offset}`,
    );
  }
  for (const offset of [-2, 2]) {
    const code = await totpCode(secret, at(1_700_000_015 + offset * 30));
    assert.deepEqual(
      await checkTotp(secret, code, { at: now, lastUsedStep: null }),
      { ok: false, reason: 'invalid' },
      `offset ${offset}`,
    );
  }
});

test('a code is accepted once: its step or an earlier one is replayed', async () => {
  const secret = newTotpSecret();
  const now = at(1_700_000_015);
  const code = await totpCode(secret, now);
  const first = await checkTotp(secret, code, { at: now, lastUsedStep: null });
  assert.equal(first.ok, true);
  const step = first.ok ? first.step : -1;
  assert.deepEqual(await checkTotp(secret, code, { at: now, lastUsedStep: step }), { ok: false, reason: 'replayed' });
  const previous = await totpCode(secret, at(1_700_000_015 - 30));
  assert.deepEqual(await checkTotp(secret, previous, { at: now, lastUsedStep: step }), {
    ok: false,
    reason: 'replayed',
  });
  const next = await totpCode(secret, at(1_700_000_015 + 30));
  assert.deepEqual(await checkTotp(secret, next, { at: now, lastUsedStep: step }), { ok: true, step: step + 1 });
});

test('malformed or wrong codes are invalid, spaced codes and secrets are accepted', async () => {
  const secret = newTotpSecret();
  const now = at(1_700_000_015);
  const code = await totpCode(secret, now);
  const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
  for (const bad of ['', '12345', '1234567', 'abcdef', wrong]) {
    assert.deepEqual(
      await checkTotp(secret, bad, { at: now, lastUsedStep: null }),
      { ok: false, reason: 'invalid' },
      bad,
    );
  }
  const spaced = `${code.slice(0, 3)} ${code.slice(3)}`;
  const groupedSecret = secret.toLowerCase().replace(/(.{4})/g, '$1 ');
  assert.equal((await checkTotp(groupedSecret, spaced, { at: now, lastUsedStep: null })).ok, true);
});

test('a new secret is 20 random bytes of base32; a short secret is refused with a hint', async () => {
  const a = newTotpSecret();
  assert.match(a, /^[A-Z2-7]{32}$/);
  assert.notEqual(a, newTotpSecret());
  await assert.rejects(
    totpCode('JBSWY3DPEHPK3PXP'),
    (e: unknown) => e instanceof IdpError && e.code === 'INVALID_VALUE' && /16 bytes/.test(hintOf(e)),
  );
});

test('the otpauth URI names issuer, account and the parameters an authenticator needs', () => {
  const uri = new URL(otpauthUri({ secret: RFC_SECRET, account: 'alice@example.test', issuer: 'idp demo' }));
  assert.equal(uri.protocol, 'otpauth:');
  assert.equal(uri.host, 'totp');
  assert.equal(decodeURIComponent(uri.pathname), '/idp demo:alice@example.test');
  assert.equal(uri.searchParams.get('secret'), RFC_SECRET);
  assert.equal(uri.searchParams.get('issuer'), 'idp demo');
});
