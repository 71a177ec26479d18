// The sealing key of an org on PostgreSQL, read from IDP_SEAL_KEY or IDP_SEAL_KEY_FILE: exactly 32 bytes in base64url
// (or base64), one source at a time, and a key file readable by its owner only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isIdpError } from '../../src/core/errors.js';
import { sealKeyFromEnv } from '../../src/store-pg/seal-key.js';
import { tempDir } from '../helpers/idp.js';
import { hintOf } from '../helpers/hints.js';

function refusal(run: () => unknown): { code: string; message: string; hint: string } {
  try {
    run();
  } catch (err) {
    assert.ok(isIdpError(err), String(err));
    return { code: err.code, message: err.message, hint: hintOf(err) };
  }
  assert.fail('expected a refusal');
}

test('no variable, no key: the store asks for one only when a secret is sealed or opened', () => {
  assert.equal(sealKeyFromEnv({}), undefined);
});

test('IDP_SEAL_KEY: 32 bytes in base64url or base64, padded or not; anything else is refused, not half-read', () => {
  const key = randomBytes(32);
  assert.deepEqual(sealKeyFromEnv({ IDP_SEAL_KEY: key.toString('base64url') }), key);
  assert.deepEqual(sealKeyFromEnv({ IDP_SEAL_KEY: key.toString('base64') }), key);
  for (const bad of [
    key.toString('hex'),
    randomBytes(31).toString('base64url'),
    `${key.toString('base64url')}!`,
    'x',
  ]) {
    const err = refusal(() => sealKeyFromEnv({ IDP_SEAL_KEY: bad }));
    assert.equal(err.code, 'SEAL_KEY_INVALID', bad);
    assert.doesNotMatch(err.message, new RegExp(bad.slice(0, 20).replace(/[+/]/g, '.')), 'the value is not echoed');
    assert.match(err.hint, /base64url/);
  }
});

test('IDP_SEAL_KEY_FILE: a file its owner alone can read, holding the key as IDP_SEAL_KEY would', () => {
  const key = randomBytes(32);
  const file = join(tempDir('seal-key'), 'seal.key');
  writeFileSync(file, `${key.toString('base64url')}\n`, { mode: 0o600 });
  assert.deepEqual(sealKeyFromEnv({ IDP_SEAL_KEY_FILE: file }), key);
  chmodSync(file, 0o640);
  const open = refusal(() => sealKeyFromEnv({ IDP_SEAL_KEY_FILE: file }));
  assert.equal(open.code, 'SEAL_KEY_INVALID');
  assert.match(open.message, /open to group or others \(mode 640\)/);
  assert.equal(refusal(() => sealKeyFromEnv({ IDP_SEAL_KEY_FILE: join(file, 'missing') })).code, 'SEAL_KEY_INVALID');
  const both = refusal(() => sealKeyFromEnv({ IDP_SEAL_KEY: key.toString('base64url'), IDP_SEAL_KEY_FILE: file }));
  assert.match(both.message, /both/);
});
