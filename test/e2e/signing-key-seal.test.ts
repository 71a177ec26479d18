// The org's private signing key at rest: sealed with secret.key, so idp.db alone (a backup, a copy) cannot mint
// ID tokens; and an org written before the key was sealed is upgraded in place and keeps signing with the same key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { dbPath } from '../../src/store/db.js';
import { SCHEMA_VERSION } from '../../src/store/migrations.js';
import { unseal } from '../../src/store-rows/seal.js';
import { SEAL_KEY_FILE } from '../../src/store/store.js';
import type { SigningKey } from '../../src/ports.js';
import { jwks } from '../../src/core/jwks.js';
import { expectCode, runIdp, seededHome } from '../helpers/idp.js';
import { downgradeTo7 } from '../helpers/migrations.js';

/** Opens idp.db for reading only, behind idp's back. */
function inspect(home: string): Database.Database {
  const readonly = true;
  return new Database(dbPath(home), { readonly, fileMustExist: true });
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi'];

/** Every byte SQLite keeps for the org: the database and its write-ahead log. */
function databaseBytes(home: string): string {
  return ['', '-wal']
    .map((suffix) => `${dbPath(home)}${suffix}`)
    .filter(existsSync)
    .map((p) => readFileSync(p).toString('latin1'))
    .join('');
}

function keyRows(home: string): Record<string, unknown>[] {
  const db = inspect(home);
  try {
    return db.prepare('SELECT * FROM signing_keys').all() as Record<string, unknown>[];
  } finally {
    db.close();
  }
}

function passwordLogin(...extra: string[]): string[] {
  return ['login', '--app', 'thrift', '--option', 'password', '--username', 'alice', '--password-stdin', ...extra];
}

test('a new org stores its private signing key sealed: no private member is readable from idp.db without secret.key', async () => {
  const home = await seededHome();
  const [row] = keyRows(home);
  assert.ok(row, 'the org has a signing key');
  assert.equal('private_jwk' in row, false, 'no plaintext column is left');
  const sealed = String(row.private_sealed);
  assert.match(sealed, /^v1\./);
  const privateJwk = JSON.parse(unseal(readFileSync(join(home, SEAL_KEY_FILE)), sealed)) as Record<string, string>;
  const bytes = databaseBytes(home);
  for (const member of PRIVATE_MEMBERS.filter((m) => privateJwk[m] !== undefined)) {
    assert.equal(
      bytes.includes(privateJwk[member]!),
      false,
      `the private member ${member} is not in the database file`,
    );
  }
  assert.equal(/"d"\s*:/.test(bytes), false, 'no JWK with a "d" member is in the database file');
});

test('an org from before sealing is upgraded in one step and still signs tokens the old JWKS verifies', async () => {
  const home = await seededHome();
  // Turn the seeded org back into what the previous schema stored: the private JWK in the clear, schema 3.
  const db = new Database(dbPath(home), { fileMustExist: true });
  downgradeTo7(db);
  const [row] = db.prepare('SELECT * FROM signing_keys').all() as {
    kid: string;
    private_sealed: string;
    public_jwk: string;
    created_at: string;
  }[];
  const privateJwk = JSON.parse(
    unseal(readFileSync(join(home, SEAL_KEY_FILE)), row!.private_sealed),
  ) as SigningKey['privateJwk'];
  db.exec('ALTER TABLE signing_keys RENAME COLUMN private_sealed TO private_jwk');
  db.prepare('UPDATE signing_keys SET private_jwk = ? WHERE kid = ?').run(JSON.stringify(privateJwk), row!.kid);
  db.exec('DROP INDEX flows_active; ALTER TABLE flows DROP COLUMN expired_at'); // migration 5, undone as well
  db.exec('ALTER TABLE connections DROP COLUMN token_auth; ALTER TABLE connections DROP COLUMN base_url'); // and 7
  db.exec(
    'DROP TRIGGER users_email_username_insert; DROP TRIGGER users_email_username_update; ALTER TABLE users DROP COLUMN mfa_failures',
  ); // and 6
  db.pragma('user_version = 3');
  db.close();
  const oldKey: SigningKey = {
    kid: row!.kid,
    alg: 'ES256',
    privateJwk,
    publicJwk: JSON.parse(row!.public_jwk),
    createdAt: row!.created_at,
  };
  const oldJwks = jwks([oldKey]);

  // Apps sign RS256 since schema 8 (with a key the upgrade adds); the old key still signs for an app that asks ES256.
  expectCode(await runIdp(['app', 'set', 'thrift', '--id-token-alg', 'ES256'], { home }), 0);
  const r = expectCode(await runIdp(passwordLogin('--print', 'id_token'), { home, input: 'thrift-demo' }), 0);
  const { protectedHeader } = await jwtVerify(r.stdout.trim(), createLocalJWKSet(oldJwks), { algorithms: ['ES256'] });
  assert.equal(protectedHeader.kid, oldKey.kid);

  const check = inspect(home);
  try {
    assert.equal(check.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  } finally {
    check.close();
  }
  const migrated = keyRows(home).find((k) => k.kid === oldKey.kid);
  assert.match(String(migrated!.private_sealed), /^v1\./);
  assert.equal(databaseBytes(home).includes(privateJwk.d!), false, 'the old plaintext key is sealed in place');
});

test('without secret.key the org cannot sign: login fails naming the missing key file, doctor says so, and no new key is made', async () => {
  const home = await seededHome();
  rmSync(join(home, SEAL_KEY_FILE));
  const r = expectCode(await runIdp(passwordLogin(), { home, input: 'thrift-demo' }), 3);
  assert.match(r.stderr, /secret\.key is missing/);
  assert.equal(existsSync(join(home, SEAL_KEY_FILE)), false, 'a fresh key would open nothing: none is created');
  const report = JSON.parse((await runIdp(['doctor', '--json'], { home })).stdout) as {
    checks: { name: string; status: string; detail: string }[];
  };
  const check = report.checks.find((c) => c.name === 'secret key');
  assert.equal(check?.status, 'failed');
  assert.match(check!.detail, /signing key/);
});

test('publishing keys needs no secret.key: keys jwks and org show read only the public halves', async () => {
  const home = await seededHome();
  const before = JSON.parse(expectCode(await runIdp(['keys', 'jwks'], { home }), 0).stdout) as {
    keys: Record<string, string>[];
  };
  rmSync(join(home, SEAL_KEY_FILE));
  const after = JSON.parse(expectCode(await runIdp(['keys', 'jwks'], { home }), 0).stdout) as {
    keys: Record<string, string>[];
  };
  assert.deepEqual(after, before);
  assert.equal(after.keys.length, 2, 'an RS256 and an ES256 key');
  for (const member of PRIVATE_MEMBERS)
    for (const key of after.keys) assert.equal(member in key, false, `no private member ${member} is published`);
  const org = JSON.parse(expectCode(await runIdp(['org', 'show', '--json'], { home }), 0).stdout) as {
    signing_keys: string[];
  };
  assert.deepEqual(
    org.signing_keys,
    before.keys.map((k) => k.kid),
  );
  assert.equal(existsSync(join(home, SEAL_KEY_FILE)), false, 'reading public keys creates no seal key');
});
