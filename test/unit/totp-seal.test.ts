// Sealing secrets at rest: AES-256-GCM round trip, tamper detection, and the 0600 key file created once.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { loadOrCreateKey } from '../../src/store/seal.js';
import { seal, unseal } from '../../src/store-rows/seal.js';
import { IdpError } from '../../src/core/errors.js';

const isIdpError = (e: unknown): boolean => e instanceof IdpError;

test('seal and unseal round-trip; each seal uses a fresh IV', () => {
  const key = randomBytes(32);
  const secret = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ — ünïcode';
  const a = seal(key, secret);
  const b = seal(key, secret);
  assert.match(a, /^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
  assert.notEqual(a, b);
  assert.ok(!a.includes('GEZDGNBV'));
  assert.equal(unseal(key, a), secret);
  assert.equal(unseal(key, b), secret);
  assert.equal(unseal(key, seal(key, '')), '');
});

test('tampering with any part, the wrong key or a bad format throws', () => {
  const key = randomBytes(32);
  const sealed = seal(key, 'client-secret-value');
  const parts = sealed.split('.');
  for (const index of [1, 2, 3]) {
    const bytes = Buffer.from(parts[index]!, 'base64url');
    bytes[0] = bytes[0]! ^ 0x80;
    const altered = parts.map((p, i) => (i === index ? bytes.toString('base64url') : p)).join('.');
    assert.throws(() => unseal(key, altered), isIdpError, `part ${index}`);
  }
  assert.throws(() => unseal(randomBytes(32), sealed), isIdpError);
  assert.throws(() => unseal(key, sealed.replace(/^v1/, 'v2')), isIdpError);
  assert.throws(() => unseal(key, 'plaintext'), isIdpError);
  assert.throws(() => seal(randomBytes(16), 'x'), isIdpError);
});

test('the key file is created once with mode 0600 and re-read afterwards', () => {
  const dir = mkdtempSync(join(tmpdir(), 'idp-seal-'));
  try {
    const path = join(dir, 'nested', 'seal.key');
    const key = loadOrCreateKey(path);
    assert.equal(key.length, 32);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.deepEqual(loadOrCreateKey(path), key);
    assert.equal(unseal(loadOrCreateKey(path), seal(key, 'kept')), 'kept');

    const broken = join(dir, 'short.key');
    writeFileSync(broken, randomBytes(5));
    assert.throws(() => loadOrCreateKey(broken), isIdpError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
