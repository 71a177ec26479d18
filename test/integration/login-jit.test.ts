// Every row of the JIT decision table end to end: headless logins through the in-process sandbox GitHub and Google
// on real 127.0.0.1 sockets into a real SQLite org, then what the user store holds afterwards (users, associations,
// attributes after each sync policy), the ID token's subject, and the prompt schemes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  expectDone,
  expectFailed,
  FEDERATED_STAGES,
  githubPersona,
  loginWorld,
  personasFile,
  stageNames,
} from '../helpers/login.js';
import { hintOf } from '../helpers/hints.js';

const OCTOCAT_ID = '583231';

test('JIT on, no association, email free: octocat is provisioned from GitHub, with an association and an ID token for it', async (t) => {
  const w = await loginWorld(t);
  const run = await w.login('github', 'octocat');
  const result = expectDone(run);
  assert.deepEqual(stageNames(run.stages), FEDERATED_STAGES);
  assert.equal(result.jit?.decision, 'provision');
  const user = await w.user('octocat');
  assert.ok(user, 'a local user octocat exists');
  assert.equal(user.source, 'github');
  assert.equal(user.email, 'octocat@example.com');
  assert.equal(user.emailVerified, true);
  assert.equal(user.name, 'The Octocat');
  assert.equal(user.picture, 'https://avatars.example/octocat.png');
  assert.notEqual(user.lastLoginAt, null);
  assert.equal(
    (await w.store.associations.get('github', OCTOCAT_ID))?.userId,
    user.id,
    'keyed by the numeric GitHub id',
  );
  assert.deepEqual(result.user, { id: user.id, username: 'octocat' });
  assert.equal(result.claims.sub, user.id);
  assert.deepEqual(result.amr, ['fed']);
  assert.equal(result.claims.pass_through, undefined);
  const jit = run.stages.find((s) => s.stage === 'jit')!;
  assert.match(
    jit.detail,
    /^provisioned new user octocat [0-9a-f]{8} \(JIT on for github; no association, email not taken\)$/,
  );
});

test('hubber has no public email: the verified address from /user/emails is provisioned', async (t) => {
  const w = await loginWorld(t);
  expectDone(await w.login('github', 'hubber'));
  const user = await w.user('hubber');
  assert.equal(user?.email, 'hubber@example.com');
  assert.equal(user?.emailVerified, true);
});

test('an unverified upstream email is provisioned as unverified (GitHub unverified-gh, Google carol)', async (t) => {
  const w = await loginWorld(t);
  expectDone(await w.login('github', 'unverified-gh'));
  assert.equal((await w.user('unverified-gh'))?.email, 'unverified@example.com');
  assert.equal((await w.user('unverified-gh'))?.emailVerified, false);
  const carol = expectDone(await w.login('google', 'carol'));
  assert.equal(carol.jit?.decision, 'provision');
  const user = await w.store.users.byEmail('carol@example.com');
  assert.equal(user?.emailVerified, false);
  assert.equal(user?.source, 'google');
});

test('Google bob is provisioned with his name parts; the username comes from the email', async (t) => {
  const w = await loginWorld(t);
  const result = expectDone(await w.login('google', 'bob'));
  assert.equal(result.jit?.decision, 'provision');
  const user = await w.user('bob');
  assert.equal(user?.givenName, 'Bob');
  assert.equal(user?.familyName, 'Builder');
  assert.equal((await w.store.associations.get('google', '108234567890123456781'))?.userId, user?.id);
  assert.equal(result.claims.given_name, 'Bob');
});

test('association exists, JIT on: the second login is returning, to the same user, with no new row', async (t) => {
  const w = await loginWorld(t);
  const first = expectDone(await w.login('github', 'octocat'));
  const users = await w.store.users.count();
  const second = await w.login('github', 'octocat');
  const result = expectDone(second);
  assert.equal(result.jit?.decision, 'returning');
  assert.equal(result.user?.id, first.user?.id);
  assert.equal(result.claims.sub, first.claims.sub);
  assert.equal(await w.store.users.count(), users);
  assert.match(
    second.stages.find((s) => s.stage === 'jit')!.detail,
    /^returning user octocat \(JIT on for github; association exists for octocat, attribute sync override-all; nothing to update\)$/,
  );
});

test('association exists, JIT off: still returning (JIT governs creation only)', async (t) => {
  const w = await loginWorld(t);
  const first = expectDone(await w.login('github', 'octocat'));
  await w.setJit('github', { enabled: false });
  const result = expectDone(await w.login('github', 'octocat'));
  assert.equal(result.jit?.decision, 'returning');
  assert.equal(result.passThrough, false);
  assert.equal(result.user?.id, first.user?.id);
  assert.match(result.jit!.reason, /JIT off for github; association exists/);
});

test('JIT off, no association: pass-through writes no user row and the sub is a stable pt_ value', async (t) => {
  const w = await loginWorld(t);
  await w.setJit('github', { enabled: false });
  const users = await w.store.users.count();
  const first = await w.login('github', 'octocat');
  const result = expectDone(first);
  assert.equal(result.jit?.decision, 'pass-through');
  assert.equal(result.passThrough, true);
  assert.equal(result.user, null);
  assert.equal(await w.store.users.count(), users, 'no user row');
  assert.equal(await w.store.associations.get('github', OCTOCAT_ID), undefined, 'no association');
  assert.match(String(result.claims.sub), /^pt_[A-Za-z0-9_-]{20,}$/);
  assert.equal(result.claims.pass_through, true);
  assert.equal(result.claims.email, 'octocat@example.com', 'upstream attributes reach the app');
  assert.match(first.stages.find((s) => s.stage === 'jit')!.detail, /^pass-through, no local user written/);
  const again = expectDone(await w.login('github', 'octocat'));
  assert.equal(again.claims.sub, result.claims.sub, 'the same upstream user gets the same sub');
  const other = expectDone(await w.login('github', 'hubber'));
  assert.notEqual(other.claims.sub, result.claims.sub);
  assert.equal(await w.store.users.count(), users);
});

test('JIT off, email taken by a local user: pass-through; alice is neither linked nor changed', async (t) => {
  const w = await loginWorld(t);
  await w.setJit('github', { enabled: false, linking: 'verified-email' });
  const alice = (await w.user('alice'))!;
  const result = expectDone(await w.login('github', 'alice-gh'));
  assert.equal(result.jit?.decision, 'pass-through');
  assert.notEqual(result.claims.sub, alice.id);
  assert.deepEqual(await w.store.associations.forUser(alice.id), []);
  assert.deepEqual(await w.user('alice'), alice);
});

test('JIT on, linking off, email taken: LINK_CONFLICT (exit 7) names the fix, and nothing is written', async (t) => {
  const w = await loginWorld(t);
  const alice = (await w.user('alice'))!;
  const users = await w.store.users.count();
  const run = await w.login('github', 'alice-gh');
  const failed = expectFailed(run, 'LINK_CONFLICT', 7);
  assert.match(hintOf(failed.error), /idp connection set github --linking verified-email/);
  assert.equal(failed.jit?.decision, 'deny');
  assert.equal(await w.store.users.count(), users);
  assert.equal(await w.store.associations.get('github', '1000002'), undefined);
  assert.deepEqual(await w.user('alice'), alice);
  assert.deepEqual(run.stages.at(-1), { ...run.stages.at(-1)!, stage: 'jit', status: 'failed' });
});

test('linking verified-email: alice-gh links to local alice (one user, association added), then returns', async (t) => {
  const w = await loginWorld(t);
  await w.setJit('github', { linking: 'verified-email' });
  const alice = (await w.user('alice'))!;
  const users = await w.store.users.count();
  const result = expectDone(await w.login('github', 'alice-gh'));
  assert.equal(result.jit?.decision, 'link');
  assert.equal(result.user?.id, alice.id);
  assert.equal(result.claims.sub, alice.id);
  assert.equal(await w.store.users.count(), users, 'no second user');
  assert.equal((await w.store.associations.get('github', '1000002'))?.userId, alice.id);
  assert.equal((await w.user('alice'))?.source, 'local', 'still a local account');
  const again = expectDone(await w.login('github', 'alice-gh'));
  assert.equal(again.jit?.decision, 'returning');
  assert.equal(again.user?.id, alice.id);
});

test('linking verified-email on Google too: one local alice with two associations', async (t) => {
  const w = await loginWorld(t);
  await w.setJit('github', { linking: 'verified-email' });
  await w.setJit('google', { linking: 'verified-email' });
  const alice = (await w.user('alice'))!;
  expectDone(await w.login('github', 'alice-gh'));
  const result = expectDone(await w.login('google', 'alice'));
  assert.equal(result.jit?.decision, 'link');
  assert.deepEqual(
    (await w.store.associations.forUser(alice.id)).map((a) => a.connection),
    ['github', 'google'],
  );
});

test('linking verified-email but the upstream email is unverified: deny with LINK_CONFLICT (GitHub and Google)', async (t) => {
  const w = await loginWorld(t);
  await w.setJit('github', { linking: 'verified-email' });
  await w.setJit('google', { linking: 'verified-email' });
  await w.store.users.insert({
    username: 'una',
    email: 'unverified@example.com',
    emailVerified: true,
    source: 'local',
  });
  await w.store.users.insert({
    username: 'carol-local',
    email: 'carol@example.com',
    emailVerified: true,
    source: 'local',
  });
  const users = await w.store.users.count();
  const github = expectFailed(await w.login('github', 'unverified-gh'), 'LINK_CONFLICT', 7);
  assert.match(github.error.message, /does not say it is verified/);
  const google = expectFailed(await w.login('google', 'carol'), 'LINK_CONFLICT', 7);
  assert.match(hintOf(google.error), /verify the email/);
  assert.equal(await w.store.users.count(), users);
  assert.equal(
    (await w.store.associations.countForConnection('github')) +
      (await w.store.associations.countForConnection('google')),
    0,
  );
});

test('linking verified-email never links into a local account whose own email is unverified (account pre-hijacking)', async (t) => {
  const w = await loginWorld(t);
  await w.setJit('github', { linking: 'verified-email' });
  // Anyone can put an address on a local account (My Account, users add) without proving it: it is then unverified.
  const squatter = await w.store.users.insert({
    username: 'squatter',
    email: 'hubber@example.com',
    emailVerified: false,
    source: 'local',
  });
  const run = await w.login('github', 'hubber');
  const result = expectDone(run);
  assert.equal(result.jit?.decision, 'provision', 'the provider-verified owner gets an account of their own');
  assert.notEqual(result.user?.id, squatter.id);
  assert.deepEqual(
    await w.store.associations.forUser(squatter.id),
    [],
    "hubber's GitHub identity is not attached to the squatter",
  );
  assert.equal((await w.store.associations.get('github', '1000001'))?.userId, result.user?.id);
  assert.equal((await w.store.users.byEmail('hubber@example.com'))?.id, result.user?.id);
});

test('a locked associated user is refused (USER_LOCKED, exit 7), a disabled one too, and neither is synced', async (t) => {
  const w = await loginWorld(t);
  expectDone(await w.login('github', 'octocat'));
  const user = (await w.user('octocat'))!;
  await w.store.users.updateProfile(user.id, { name: 'Changed Locally' });
  await w.store.users.setStatus(user.id, 'locked');
  const locked = expectFailed(await w.login('github', 'octocat'), 'USER_LOCKED', 7);
  assert.match(hintOf(locked.error), /idp users set octocat --unlock/);
  assert.equal(locked.jit?.decision, 'deny');
  await w.store.users.setStatus(user.id, 'disabled');
  expectFailed(await w.login('github', 'octocat'), 'USER_DISABLED', 7);
  assert.equal((await w.user('octocat'))?.name, 'Changed Locally', 'a refused login syncs nothing');
});

/** Octocat as GitHub shows him after renaming himself and changing his public email: same login, same id. */
function renamedOctocat(): string {
  return personasFile({
    github: [githubPersona('octocat', Number(OCTOCAT_ID), { name: 'Octo Renamed', email: 'renamed@example.com' })],
  });
}

test('returning login with override-all: the local user takes the upstream name and email', async (t) => {
  const w = await loginWorld(t);
  expectDone(await w.login('github', 'octocat'));
  const result = expectDone(await w.login('github', 'octocat', { personasFile: renamedOctocat() }));
  assert.equal(result.jit?.decision, 'returning');
  const user = (await w.user('octocat'))!;
  assert.equal(user.name, 'Octo Renamed');
  assert.equal(user.email, 'renamed@example.com');
  assert.equal(result.claims.name, 'Octo Renamed', 'the ID token carries the synced values');
  assert.equal((await w.store.associations.get('github', OCTOCAT_ID))?.lastClaims.name, 'Octo Renamed');
});

test('returning login with preserve-local: local values stay, only empty ones are filled', async (t) => {
  const w = await loginWorld(t);
  await w.setJit('github', { sync: 'preserve-local' });
  expectDone(await w.login('github', 'octocat'));
  const id = (await w.user('octocat'))!.id;
  await w.store.users.updateProfile(id, { name: 'Local Name', picture: null });
  expectDone(await w.login('github', 'octocat', { personasFile: renamedOctocat() }));
  const user = (await w.user('octocat'))!;
  assert.equal(user.name, 'Local Name');
  assert.equal(user.email, 'octocat@example.com');
  assert.equal(user.picture, 'https://avatars.example/octocat.png', 'an empty local picture is filled');
});

test('returning login with sync none: the local user is not touched', async (t) => {
  const w = await loginWorld(t);
  await w.setJit('github', { sync: 'none' });
  expectDone(await w.login('github', 'octocat'));
  const id = (await w.user('octocat'))!.id;
  await w.store.users.updateProfile(id, { picture: null });
  const before = (await w.store.users.byId(id))!;
  const result = expectDone(await w.login('github', 'octocat', { personasFile: renamedOctocat() }));
  assert.equal(result.jit?.decision, 'returning');
  const after = (await w.store.users.byId(id))!;
  assert.deepEqual({ ...after, lastLoginAt: null, updatedAt: null }, { ...before, lastLoginAt: null, updatedAt: null });
  assert.equal(after.updatedAt, before.updatedAt, 'no profile write at all');
});

test('override-all never takes an email another local user holds', async (t) => {
  const w = await loginWorld(t);
  expectDone(await w.login('github', 'octocat'));
  await w.store.users.insert({
    username: 'renamed-owner',
    email: 'renamed@example.com',
    emailVerified: true,
    source: 'local',
  });
  expectDone(await w.login('github', 'octocat', { personasFile: renamedOctocat() }));
  const user = (await w.user('octocat'))!;
  assert.equal(user.email, 'octocat@example.com');
  assert.equal(user.name, 'Octo Renamed', 'the rest still syncs');
});

test('a provisioned username that is taken gets -2', async (t) => {
  const w = await loginWorld(t);
  const file = personasFile({ github: [githubPersona('alice', 2000001, { email: 'other-alice@personas.example' })] });
  const result = expectDone(await w.login('github', 'alice', { personasFile: file }));
  assert.equal(result.jit?.decision, 'provision');
  assert.equal(result.user?.username, 'alice-2');
  assert.equal((await w.user('alice'))?.source, 'local', 'the local alice is untouched');
});

test('consent denied at the provider: UPSTREAM_DENIED (exit 4), no token request, nothing written', async (t) => {
  const w = await loginWorld(t);
  const users = await w.store.users.count();
  const run = await w.login('github', 'octocat', { consent: 'deny' });
  expectFailed(run, 'UPSTREAM_DENIED', 4);
  assert.deepEqual(stageNames(run.stages), ['app', 'options', 'redirect', 'consent']);
  assert.equal(run.callbacks.length, 0, 'no code was redeemed');
  assert.equal(await w.store.users.count(), users);
  assert.equal(await w.store.associations.countForConnection('github'), 0);
});

test('prompt-consent: declining is JIT_DENIED with no user; approving provisions; a returning login is not asked', async (t) => {
  const w = await loginWorld(t);
  await w.setJit('github', { scheme: 'prompt-consent' });
  const users = await w.store.users.count();
  const declined = expectFailed(await w.login('github', 'octocat', { jitConsent: 'deny' }), 'JIT_DENIED', 7);
  assert.match(hintOf(declined.error), /nothing was written/);
  assert.equal(await w.store.users.count(), users);
  assert.equal(await w.store.associations.countForConnection('github'), 0);

  const missing = expectFailed(await w.login('github', 'octocat'), 'MISSING_ANSWER', 2);
  assert.match(hintOf(missing.error), /--jit-consent/);

  const approved = expectDone(await w.login('github', 'octocat', { jitConsent: 'approve' }));
  assert.equal(approved.jit?.decision, 'provision');
  assert.ok(await w.user('octocat'));
  const returning = expectDone(await w.login('github', 'octocat'));
  assert.equal(returning.jit?.decision, 'returning');
});

test('prompt-username-password-consent: the chosen username and password make an account that signs in with a password', async (t) => {
  const w = await loginWorld(t);
  await w.setJit('github', { scheme: 'prompt-username-password-consent' });
  const result = expectDone(
    await w.login('github', 'octocat', {
      jitConsent: 'approve',
      jitUsername: 'octo-chosen',
      password: 'correct horse 1',
    }),
  );
  assert.equal(result.user?.username, 'octo-chosen');
  const user = (await w.user('octo-chosen'))!;
  assert.equal(user.hasPassword, true);
  assert.equal(user.email, 'octocat@example.com');
  assert.equal(await w.user('octocat'), undefined);

  const local = expectDone(await w.passwordLogin('octo-chosen', 'correct horse 1'));
  assert.equal(local.user?.id, user.id);
  assert.deepEqual(local.amr, ['pwd']);
  expectFailed(await w.passwordLogin('octo-chosen', 'wrong horse'), 'BAD_CREDENTIALS', 7);
});

test('prompt-username-password-consent refuses a taken username and a short password, writing nothing', async (t) => {
  const w = await loginWorld(t);
  await w.setJit('github', { scheme: 'prompt-username-password-consent' });
  const users = await w.store.users.count();
  expectFailed(
    await w.login('github', 'octocat', { jitConsent: 'approve', jitUsername: 'alice', password: 'long enough' }),
    'USER_EXISTS',
    2,
  );
  expectFailed(
    await w.login('github', 'octocat', { jitConsent: 'approve', jitUsername: 'octo', password: 'short' }),
    'INVALID_VALUE',
    2,
  );
  assert.equal(await w.store.users.count(), users);
  assert.equal(await w.store.associations.countForConnection('github'), 0);
});
