// Passkeys through the real CLI, answered by the software authenticator: enrolment with --software (and its refusals),
// `users mfa list/rename/remove`, headless logins with a passkey as step 2 and as a passwordless step 1, a scenario
// file, the pass-through conflict (login, app check, connection set warning, the skip-MFA script), and export/import.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dbHash, expectCode, fileWith, idpJson, idpOk, runIdp, seededHome, tempDir } from '../helpers/idp.js';

interface Enrolled {
  user: string;
  factor: string;
  key: string;
  testing_aid: boolean;
  passkey: { id: string; name: string; aaguid: string; software: boolean; last_used_at: string | null };
}

interface Login {
  outcome: string;
  claims: { amr?: string[]; username?: string } | null;
  stages: { stage: string; status: string; detail: string }[];
  error: { code: string; message: string } | null;
}

async function enrol(home: string, user = 'alice', ...flags: string[]): Promise<Enrolled> {
  return idpJson<Enrolled>(['users', 'mfa', 'enroll', user, 'passkey', '--software', '--json', ...flags], { home });
}

function login(home: string, key: string, args: string[], input?: string) {
  return runIdp(['login', '--app', 'thrift', '--headless', '--passkey-key-env', 'PK', '--json', ...args], {
    home,
    env: { PK: key },
    input,
  });
}

const PASSWORD = ['--option', 'password', '--username', 'alice', '--password-stdin'];

test('users mfa enroll USER passkey --software prints the key once, labelled a testing aid; list, rename and remove it', async () => {
  const home = await seededHome();
  const refused = expectCode(await runIdp(['users', 'mfa', 'enroll', 'alice', 'passkey'], { home }), 2);
  assert.match(refused.stderr, /enrolled in a browser/);
  assert.match(refused.stderr, /--software/);

  const enrolled = await enrol(home, 'alice', '--name', 'CI runner');
  assert.match(enrolled.key, /^idp-passkey-v1\./);
  assert.equal(enrolled.testing_aid, true);
  assert.equal(enrolled.factor, `passkey:${enrolled.passkey.id}`);
  assert.equal(enrolled.passkey.name, 'CI runner');
  assert.equal(enrolled.passkey.software, true);

  const listed = await idpJson<{ passkeys: (Enrolled['passkey'] & { factor: string; created_at: string })[] }>(
    ['users', 'mfa', 'list', 'alice', '--json'],
    { home },
  );
  assert.deepEqual(
    listed.passkeys.map((p) => [p.factor, p.name, p.software, p.last_used_at]),
    [[enrolled.factor, 'CI runner', true, null]],
  );
  assert.equal(JSON.stringify(listed).includes(enrolled.key.slice(20)), false, 'the key is never shown again');
  const text = (await idpOk(['users', 'mfa', 'list', 'alice'], { home })).stdout;
  assert.match(text, /LAST USED\s+AAGUID/);
  assert.match(text, new RegExp(`${enrolled.factor}\\s+passkey \\(software: testing aid\\)\\s+CI runner`));
  assert.match(text, new RegExp(enrolled.passkey.aaguid));

  await idpOk(['users', 'create', 'bob', '--email', 'bob@example.com'], { home });
  const before = dbHash(home);
  const badName = expectCode(
    await runIdp(['users', 'mfa', 'rename', 'alice', enrolled.factor, '--name', ' '], { home }),
    2,
  );
  assert.match(badName.stderr, /1 to 64 characters/);
  const unknown = expectCode(
    await runIdp(['users', 'mfa', 'rename', 'bob', enrolled.factor, '--name', 'Mine now'], { home }),
    2,
  );
  assert.match(unknown.stderr, /bob has no passkey/);
  assert.equal(dbHash(home), before, 'refusals change nothing');
  const renamed = await idpJson<{ passkey: { name: string } }>(
    ['users', 'mfa', 'rename', 'alice', enrolled.factor, '--name', 'Build box', '--json'],
    { home },
  );
  assert.equal(renamed.passkey.name, 'Build box');

  expectCode(await runIdp(['users', 'mfa', 'remove', 'bob', enrolled.factor, '--yes'], { home }), 2);
  await idpOk(['users', 'mfa', 'remove', 'alice', enrolled.factor, '--yes'], { home });
  const after = await idpJson<{ passkeys: unknown[] }>(['users', 'mfa', 'list', 'alice', '--json'], { home });
  assert.deepEqual(after.passkeys, []);
});

test('a software passkey is refused in an org with a real connection, changing nothing', async () => {
  const home = await seededHome();
  await idpOk(['connection', 'add', 'corp', '--type', 'github', '--client-id', 'x', '--client-secret-env', 'X'], {
    home,
  });
  const before = dbHash(home);
  const r = expectCode(await runIdp(['users', 'mfa', 'enroll', 'alice', 'passkey', '--software'], { home }), 3);
  assert.match(r.stderr, /testing aid.*real connections \(corp\)/);
  assert.equal(dbHash(home), before);
});

test('software passkeys made in a sandbox org: refused on import into a real org, and at sign-in once a real connection comes, with a warning', async () => {
  const sandbox = await seededHome();
  const { key } = await enrol(sandbox);
  const file = fileWith(
    'users.json',
    (await idpOk(['users', 'export', '--with-password-hashes'], { home: sandbox })).stdout,
  );
  const real = `${tempDir('import')}/org`;
  await idpOk(['init', '--empty', '--quiet'], { home: real });
  await idpOk(['connection', 'add', 'corp', '--type', 'github', '--client-id', 'x', '--client-secret-env', 'X'], {
    home: real,
  });
  const before = dbHash(real);
  const imported = expectCode(await runIdp(['users', 'import', file], { home: real }), 2);
  assert.match(imported.stderr, /alice holds a software passkey: a software passkey is a testing aid.*\(corp\)/);
  assert.equal(dbHash(real), before, 'nothing imported');

  await idpOk(['app', 'set', 'thrift', '--step', '2=passkey'], { home: sandbox });
  const added = await idpOk(
    ['connection', 'add', 'corp', '--type', 'github', '--client-id', 'x', '--client-secret-env', 'X'],
    { home: sandbox },
  );
  assert.match(added.stderr, /warning: 1 user\(s\) hold software passkeys .*refused at sign-in.*: alice/);
  const refused = expectCode(await login(sandbox, key, PASSWORD, 'thrift-demo'), 8);
  assert.match(refused.stdout + refused.stderr, /testing aid, and this organisation has real connections \(corp\)/);
});

test('headless login answers a step 2 passkey with the software key: amr pwd, swk, user; a wrong key is refused', async () => {
  const home = await seededHome();
  await idpOk(['app', 'set', 'thrift', '--step', '2=totp,passkey'], { home });
  const { key } = await enrol(home);
  const r = await login(home, key, [...PASSWORD, '--mfa', 'passkey'], 'thrift-demo');
  const doc = JSON.parse(expectCode(r, 0).stdout) as Login;
  assert.equal(doc.outcome, 'success');
  assert.deepEqual(doc.claims?.amr, ['pwd', 'swk', 'user'], 'RFC 8176 swk: a software key, not hardware');
  const mfa = doc.stages.find((s) => s.stage === 'mfa')!;
  assert.match(mfa.detail, /^passkey "Software passkey 1" verified for alice \(second factor/);
  assert.match(mfa.detail, /software authenticator: a testing aid/);
  const listed = await idpJson<{ passkeys: { last_used_at: string | null }[] }>(
    ['users', 'mfa', 'list', 'alice', '--json'],
    { home },
  );
  assert.notEqual(listed.passkeys[0]?.last_used_at, null, 'last used is recorded');

  // bob's passkey at alice's step 2: refused by the server, and headless mode does not ask again.
  await idpOk(['users', 'create', 'bob', '--email', 'bob@example.com'], { home });
  const bobs = await enrol(home, 'bob');
  const wrong = await login(home, bobs.key, [...PASSWORD, '--mfa', 'passkey'], 'thrift-demo');
  expectCode(wrong, 8);
  assert.match(wrong.stderr, /not registered for this account/);
});

test('passwordless step 1: --option passkey signs alice in with her software passkey alone', async () => {
  const home = await seededHome();
  const { key } = await enrol(home);
  await idpOk(['app', 'set', 'thrift', '--step', '1=passkey,github'], { home });
  const doc = JSON.parse(expectCode(await login(home, key, ['--option', 'passkey']), 0).stdout) as Login;
  assert.equal(doc.outcome, 'success');
  assert.equal(doc.claims?.username, 'alice');
  assert.deepEqual(doc.claims?.amr, ['swk', 'user']);
  assert.match(doc.stages.find((s) => s.stage === 'mfa')!.detail, /passwordless sign-in, user verified/);

  const missing = await runIdp(['login', '--app', 'thrift', '--headless', '--option', 'passkey'], { home });
  expectCode(missing, 2);
  assert.match(missing.stderr, /needs a passkey/);
  assert.match(missing.stderr, /--passkey-key-env/);
});

test('a headless step 2 for a user with no passkey says how to enrol one', async () => {
  const home = await seededHome();
  await idpOk(['app', 'set', 'thrift', '--step', '2=passkey'], { home });
  await idpOk(['users', 'create', 'bob', '--email', 'bob@example.com'], { home });
  const { key } = await enrol(home, 'bob');
  const r = expectCode(await login(home, key, PASSWORD, 'thrift-demo'), 8);
  assert.match(r.stderr, /no passkey, and a headless login cannot enrol one/);
  assert.match(r.stderr, /idp users mfa enroll USER passkey --software --json/);
});

test('a scenario file signs in with passkey_key_env, on the throwaway copy', async () => {
  const home = await seededHome();
  const { key } = await enrol(home);
  const file = fileWith(
    'passkeys.yaml',
    `name: passkeys
config:
  apps:
    thrift: { steps: [[password, github], [passkey]] }
scenarios:
  - name: alice with her software passkey as step 2
    login: { app: thrift, option: password, username: alice, password: thrift-demo, passkey_key_env: PK }
    expect: { outcome: success, claims: { amr: [pwd, swk, user] } }
  - name: passwordless is refused where step 1 does not offer it
    login: { app: thrift, option: passkey, passkey_key_env: PK }
    expect: { outcome: failed, error: UNKNOWN_SIGN_IN_OPTION }
`,
  );
  const before = dbHash(home);
  const r = await runIdp(['check', file, '--json'], { home, env: { PK: key } });
  expectCode(r, 0, r.stdout);
  assert.equal(dbHash(home), before, 'the org itself is not changed');
  const unset = await runIdp(['check', file], { home, env: { PK: undefined } });
  expectCode(unset, 9);
  assert.match(unset.stdout + unset.stderr, /\$PK, which is not set/);
});

test('a pass-through user at a passkey step: the login conflict, app check, the connection warning, and the skip-MFA script', async () => {
  const home = await seededHome();
  await idpOk(['app', 'set', 'thrift', '--step', '2=passkey'], { home });
  const warned = await idpOk(['connection', 'set', 'github', '--jit=false'], { home });
  assert.match(warned.stderr, /warning: thrift offers github in step 1 and requires MFA in step 2/);
  const check = await idpJson<{ hazards: { code: string }[] }>(['app', 'check', 'thrift', '--json'], { home });
  assert.ok(check.hazards.some((h) => h.code === 'MFA_NEEDS_LOCAL_USER'));

  const args = ['login', '--app', 'thrift', '--headless', '--connection', 'github', '--as', 'octocat', '--json'];
  const failed = expectCode(await runIdp(args, { home }), 8);
  const doc = JSON.parse(failed.stdout) as Login;
  assert.equal(doc.error?.code, 'MFA_NEEDS_LOCAL_USER');
  assert.match(failed.stderr, /idp connection set github --jit=true/);
  assert.match(failed.stderr, /skip-mfa-for-federated/);

  await idpOk(['app', 'script', 'set', 'thrift', '--template', 'skip-mfa-for-federated'], { home });
  const skipped = JSON.parse(expectCode(await runIdp(args, { home }), 0).stdout) as Login;
  assert.equal(skipped.outcome, 'success');
  assert.equal(
    skipped.stages.some((s) => s.stage === 'mfa'),
    false,
  );
});

test('users export carries passkeys and users import restores them: the same key signs in to the new org', async () => {
  const home = await seededHome();
  const { key, factor } = await enrol(home, 'alice', '--name', 'Round trip');
  const file = fileWith('users.json', (await idpOk(['users', 'export'], { home })).stdout);
  const target = `${tempDir('import')}/org`;
  await idpOk(['init', '--empty', '--quiet'], { home: target });
  const imported = await idpJson<{ passkeys: number }>(['users', 'import', file, '--json'], { home: target });
  assert.equal(imported.passkeys, 1);
  const listed = await idpJson<{ passkeys: { factor: string; name: string; software: boolean }[] }>(
    ['users', 'mfa', 'list', 'alice', '--json'],
    { home: target },
  );
  assert.deepEqual(
    listed.passkeys.map((p) => [p.factor, p.name, p.software]),
    [[factor, 'Round trip', true]],
  );
  await idpOk(['app', 'create', 'thrift'], { home: target });
  await idpOk(['app', 'set', 'thrift', '--step', '1=passkey'], { home: target });
  const doc = JSON.parse(expectCode(await login(target, key, ['--option', 'passkey']), 0).stdout) as Login;
  assert.equal(doc.claims?.username, 'alice');

  // A second import of the same file: the credential id is taken, and nothing is imported.
  const again = expectCode(await runIdp(['users', 'import', file], { home: target }), 2);
  assert.match(again.stderr, /already|exists/);
});
