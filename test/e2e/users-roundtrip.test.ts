// `users export` then `users import` is lossless: a populated org (a password user, a JIT user linked to GitHub, a
// locked user, a TOTP-enrolled user) comes back in a fresh `init --empty` org with the same users, links and factors,
// and the JIT user's next GitHub sign-in is `returning`. MFA secrets travel only sealed (--with-secrets), and only an
// org holding the same secret.key takes them; colliding or dangling links are refused by line, nothing imported.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { openStore } from '../../src/store/store.js';
import { dbHash, expectCode, fileWith, idpJson, idpOk, runIdp, seededHome, tempDir } from '../helpers/idp.js';

/** What a store holds about its users, links and factors, row by row (factor ids are the new org's own). */
function storeRows(home: string) {
  const store = openStore(home);
  try {
    const all = (sql: string) => store.db.prepare(sql).all();
    return {
      users: all('SELECT * FROM users ORDER BY username'),
      associations: all(
        'SELECT connection, subject, user_id, linked_at, last_login_at FROM associations ORDER BY connection, subject',
      ),
      factors: all(
        'SELECT user_id, type, secret_sealed, last_used_step, created_at, confirmed_at FROM mfa_factors ORDER BY user_id',
      ),
    };
  } finally {
    store.close();
  }
}

/** A populated org: alice (password, TOTP), octocat (JIT from GitHub), lockie (password, locked); and alice's TOTP secret. */
async function populatedOrg(): Promise<{ home: string; totpSecret: string }> {
  const home = await seededHome();
  await idpOk(['login', '--app', 'thrift', '--connection', 'github', '--as', 'octocat'], { home });
  await idpOk(['users', 'create', 'lockie', '--email', 'lockie@example.com', '--email-verified', '--password-stdin'], {
    home,
    input: 'lockie-password',
  });
  await idpOk(['users', 'set', 'lockie', '--lock', '--attr', 'team=blue'], { home });
  const { secret } = await idpJson(['users', 'mfa', 'enroll', 'alice', 'totp', '--json'], { home });
  return { home, totpSecret: secret };
}

/** A fresh `init --empty` org with a sandbox github connection and a thrift app; `key` is a secret.key to start from. */
async function emptyOrg(key?: string): Promise<string> {
  const home = join(tempDir('import'), 'org');
  mkdirSync(home, { recursive: true, mode: 0o700 });
  if (key) copyFileSync(key, join(home, 'secret.key'));
  await idpOk(['init', '--empty'], { home });
  await idpOk(['connection', 'add', 'github', '--type', 'github', '--sandbox'], { home });
  await idpOk(['app', 'create', 'thrift', '--step', '1=password,github'], { home });
  return home;
}

test('export --with-password-hashes --with-secrets, import into a fresh org holding the same key: the same users, links and factors; octocat returns', async () => {
  const { home, totpSecret } = await populatedOrg();
  const exported = await idpOk(['users', 'export', '--with-password-hashes', '--with-secrets'], { home });
  assert.equal(exported.stdout.includes(totpSecret), false, 'the TOTP secret is never in the export in plaintext');
  const octocat = JSON.parse(exported.stdout).find((u: any) => u.username === 'octocat');
  assert.deepEqual(
    octocat.associations.map((a: any) => [a.connection, a.subject]),
    [['github', '583231']],
  );

  const target = await emptyOrg(join(home, 'secret.key'));
  const imported = await idpJson(['users', 'import', fileWith('backup.json', exported.stdout), '--json'], {
    home: target,
  });
  assert.deepEqual(
    [imported.imported, imported.associations, imported.mfa_factors, imported.mfa_to_enrol, imported.password_to_set],
    [3, 1, 1, [], []],
  );
  const [before, after] = [storeRows(home), storeRows(target)];
  assert.deepEqual(after.users, before.users, 'users: ids, source, hashes, status, email_verified, attributes, times');
  assert.deepEqual(after.associations, before.associations, 'associations: connection, subject, user, linked_at');
  assert.deepEqual(after.factors, before.factors, 'factors: sealed secrets under the same key');

  const login = await idpJson(['login', '--app', 'thrift', '--connection', 'github', '--as', 'octocat', '--json'], {
    home: target,
  });
  assert.equal(login.outcome, 'success', JSON.stringify(login.error));
  assert.equal(login.jit.decision, 'returning');
  assert.equal(login.jit.user.id, octocat.id, 'the same subject for the apps');
  const password = await runIdp(
    ['login', '--app', 'thrift', '--option', 'password', '--username', 'lockie', '--password-stdin', '--json'],
    { home: target, input: 'lockie-password' },
  );
  assert.equal(JSON.parse(expectCode(password, 7).stdout).error.code, 'USER_LOCKED', 'still locked');
});

test('a plain export keeps MFA enrolment flags but no secrets: the import restores no factor, and names who enrols again and who needs a password', async () => {
  const { home } = await populatedOrg();
  const exported = await idpOk(['users', 'export'], { home });
  const alice = JSON.parse(exported.stdout).find((u: any) => u.username === 'alice');
  assert.equal(alice.mfa.length, 1);
  assert.deepEqual(Object.keys(alice.mfa[0]).sort(), ['confirmed_at', 'created_at', 'type']);
  const target = await emptyOrg();
  const imported = await idpJson(['users', 'import', fileWith('plain.json', exported.stdout), '--json'], {
    home: target,
  });
  assert.deepEqual(
    [imported.associations, imported.mfa_factors, imported.mfa_to_enrol, imported.password_to_set],
    [1, 0, ['alice'], ['alice', 'lockie']],
  );
  const text = await idpOk(
    ['users', 'import', fileWith('again.json', '[{"username": "zed", "mfa": [{"type": "totp"}]}]')],
    { home: target },
  );
  assert.match(
    text.stdout,
    /^imported 1 user\(s\) from \S+again\.json\nnote: 1 user\(s\) had TOTP exported without its secret and enrol again at their next MFA sign-in: zed/,
  );
});

test('a CSV export round-trips links too', async () => {
  const { home } = await populatedOrg();
  const csv = await idpOk(['users', 'export', '--format', 'csv', '--with-password-hashes'], { home });
  const target = await emptyOrg();
  await idpOk(['users', 'import', fileWith('users.csv', csv.stdout)], { home: target });
  const [before, after] = [storeRows(home), storeRows(target)];
  assert.deepEqual(after.users, before.users);
  assert.deepEqual(after.associations, before.associations);
});

test('import refuses, by line and with exit 2, secrets sealed by another org, links to a missing connection, and links already taken; nothing changes', async () => {
  const { home } = await populatedOrg();
  const sealed = await idpOk(['users', 'export', '--with-password-hashes', '--with-secrets'], { home });
  const target = await emptyOrg();
  await idpOk(
    [
      'users',
      'import',
      fileWith(
        'taken.json',
        '[{"username": "octo-here", "associations": [{"connection": "github", "subject": "583231"}]}]',
      ),
    ],
    { home: target },
  );
  const untouched = dbHash(target);
  const cases: [string, RegExp][] = [
    [
      sealed.stdout,
      /^error: \S+:2: the sealed TOTP secret of alice does not open with this organisation's key\nhint: import into an organisation holding the exporting one's secret\.key/,
    ],
    [
      '[{"username": "x1", "associations": [{"connection": "gitlab", "subject": "7"}]}]',
      /^error: \S+:1: x1 is linked to connection gitlab, which does not exist here\nhint: create it first \(idp connection list lists those that do\)/,
    ],
    [
      '[{"username": "x1"},\n {"username": "x2", "associations": [{"connection": "github", "subject": "583231"}]}]',
      /^error: \S+:2: github subject 583231 of x2 is already linked to octo-here\n/,
    ],
    [
      '[{"username": "x1", "associations": [{"connection": "github", "subject": "9"}]},\n {"username": "x2", "associations": [{"connection": "github", "subject": "9"}]}]',
      /^error: \S+:2: github subject 9 of x2 is already linked to a user earlier in the file\n/,
    ],
    [
      '[{"username": "x1", "id": "42"}]',
      /^error: \S+:1: id '42' is not an idp user id \(a UUID\)\nhint: leave the id out/,
    ],
    [
      '[{"username": "x1", "mfa": [{"type": "totp", "secret_sealed": "JBSWY3DPEHPK3PXP"}]}]',
      /^error: \S+:1: secret_sealed must be a sealed value/,
    ],
  ];
  for (const [text, expected] of cases) {
    const r = expectCode(await runIdp(['users', 'import', fileWith('bad.json', text)], { home: target }), 2);
    assert.match(r.stderr, expected);
  }
  assert.equal(dbHash(target), untouched, 'nothing was imported');
});
