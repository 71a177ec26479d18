// My Account through the real CLI: refused to pass-through sign-ins (exit 7), open to JIT-provisioned and local users,
// self-service edits, TOTP enrolment, never unlinking the last sign-in method; and the built-in app is protected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aliceLogin, expectCode, idpJson, idpOk, runIdp, seededHome } from '../helpers/idp.js';

const OCTOCAT = ['account', '--headless', '--connection', 'github', '--as', 'octocat', '--json'];
const ALICE = ['account', '--option', 'password', '--username', 'alice', '--password-stdin', '--json'];
const PASSWORD = { input: 'thrift-demo' };

interface AccountDoc {
  user: { id: string; username: string; attributes: Record<string, string> };
  linked: { connection: string; subject: string }[];
  mfa: { id: string; type: string }[];
  password: boolean;
}

interface UserDoc {
  attributes: Record<string, string>;
  associations: { connection: string; subject: string }[];
  mfa_factors: { id: string }[];
}

test('a pass-through sign-in (google, JIT off, bob) is refused: exit 7, NEEDS_LOCAL_USER naming the fix; no user is written', async () => {
  const home = await seededHome();
  await idpOk(['connection', 'set', 'google', '--jit=false'], { home });
  const r = await runIdp(['account', '--headless', '--connection', 'google', '--as', 'bob', '--json'], { home });
  expectCode(r, 7);
  const { error } = JSON.parse(r.stdout) as { error: { code: string; message: string; hint: string } };
  assert.equal(error.code, 'NEEDS_LOCAL_USER');
  assert.match(error.message, /google has JIT off/);
  assert.match(error.hint, /idp connection set google --jit=true/);
  assert.match(r.stderr, /✗ session/);
  expectCode(await runIdp(['users', 'show', 'bob'], { home }), 2);
});

test('octocat, provisioned by JIT through github, is let in and sees github linked; unlinking his only method is refused (exit 7)', async () => {
  const home = await seededHome();
  const account = await idpJson<AccountDoc>(OCTOCAT, { home });
  assert.equal(account.user.username, 'octocat');
  assert.deepEqual(
    account.linked.map((l) => [l.connection, l.subject]),
    [['github', '583231']],
  );
  assert.equal(account.password, false);

  const r = await runIdp([...OCTOCAT, '--unlink', 'github'], { home });
  expectCode(r, 7);
  assert.equal(JSON.parse(r.stdout).error.code, 'LAST_SIGN_IN_METHOD');
  assert.match(r.stderr, /github is the only way octocat can sign in/);
  const octocat = await idpJson<UserDoc>(['users', 'show', 'octocat', '--json'], { home });
  assert.deepEqual(
    octocat.associations.map((a) => a.connection),
    ['github'],
    'the association stays',
  );
});

test('alice, linked to github by verified email, can unlink it in My Account: her password remains', async () => {
  const home = await seededHome();
  await idpOk(['connection', 'set', 'github', '--linking', 'verified-email'], { home });
  await idpOk(['login', '--app', 'thrift', '--headless', '--connection', 'github', '--as', 'alice-gh'], { home });
  assert.deepEqual(
    (await idpJson<UserDoc>(['users', 'show', 'alice', '--json'], { home })).associations.map((a) => a.connection),
    ['github'],
  );
  const account = await idpJson<AccountDoc>([...ALICE, '--unlink', 'github'], { home, ...PASSWORD });
  assert.deepEqual(account.linked, []);
  assert.equal(account.password, true);
  assert.deepEqual((await idpJson<UserDoc>(['users', 'show', 'alice', '--json'], { home })).associations, []);
});

test('alice (password) edits her attribute with --attr; the user store holds it', async () => {
  const home = await seededHome();
  const account = await idpJson<AccountDoc>([...ALICE, '--attr', 'department=finance'], { home, ...PASSWORD });
  assert.equal(account.user.attributes.department, 'finance');
  const alice = await idpJson<UserDoc>(['users', 'show', 'alice', '--json'], { home });
  assert.deepEqual(alice.attributes, { department: 'finance' });
});

test('alice enrols TOTP with --enroll-totp --json: {secret, uri}, and the factor then guards her thrift logins', async () => {
  const home = await seededHome();
  const enrolled = await idpJson<{ factor: string; secret: string; uri: string; user: string }>(
    [...ALICE, '--enroll-totp'],
    { home, ...PASSWORD },
  );
  assert.match(enrolled.secret, /^[A-Z2-7]{32}$/);
  assert.ok(
    enrolled.uri.startsWith('otpauth://totp/') && enrolled.uri.includes(`secret=${enrolled.secret}`),
    enrolled.uri,
  );
  const alice = await idpJson<UserDoc>(['users', 'show', 'alice', '--json'], { home });
  assert.deepEqual(
    alice.mfa_factors.map((f) => f.id),
    [enrolled.factor],
  );

  await idpOk(['app', 'set', 'thrift', '--step', '2=totp'], { home });
  const login = await idpJson(aliceLogin('--totp-secret-env', 'MY_TOTP', '--json'), {
    home,
    ...PASSWORD,
    env: { MY_TOTP: enrolled.secret },
  });
  assert.deepEqual(login.claims.amr, ['pwd', 'otp']);
});

test('app list includes the built-in myaccount; app delete myaccount --yes is refused (exit 2) and it stays', async () => {
  const home = await seededHome();
  const names = async () =>
    (await idpJson<{ apps: { name: string }[] }>(['app', 'list', '--json'], { home })).apps.map((a) => a.name);
  assert.ok((await names()).includes('myaccount'));
  const r = await runIdp(['app', 'delete', 'myaccount', '--yes'], { home });
  expectCode(r, 2);
  assert.match(r.stderr, /myaccount is built in and cannot be deleted/);
  assert.ok((await names()).includes('myaccount'), 'it stays');
});
