// An admin repairing accounts through the real CLI: a password set (or reset) from stdin, also for a user imported
// without a hash; email verification; unlock clearing the failed-attempt counter; unlinking a connection, refused
// when it is the last way to sign in unless --force; and an MFA reset. Each leaves an audit event.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openStore } from '../../src/store/store.js';
import { expectCode, fileWith, idpJson, idpOk, runIdp, seededHome } from '../helpers/idp.js';

async function withStore<T>(home: string, use: (store: ReturnType<typeof openStore>) => Promise<T>): Promise<T> {
  const store = openStore(home);
  try {
    return await use(store);
  } finally {
    store.close();
  }
}

async function lastEvent(home: string): Promise<{ action: string; detail: string; before: any; after: any }> {
  return (await idpJson(['events', '--json', '--limit', '1'], { home })).events[0];
}

function passwordLogin(username: string): string[] {
  return ['login', '--app', 'thrift', '--option', 'password', '--username', username, '--password-stdin', '--json'];
}

test('users set --password-stdin gives a user imported without a hash a password, and resets it; too short is refused', async () => {
  const home = await seededHome();
  await idpOk(['users', 'import', fileWith('bob.json', '[{"username": "bob", "email": "bob@example.com"}]')], { home });
  const short = expectCode(await runIdp(['users', 'set', 'bob', '--password-stdin'], { home, input: 'short' }), 2);
  assert.match(
    short.stderr,
    /^error: the password must have at least 8 characters\nhint: pipe a longer one to --password-stdin\n$/,
  );

  const set = await idpJson(['users', 'set', 'bob', '--password-stdin', '--json'], { home, input: 'first-password\n' });
  assert.deepEqual([set.changed, set.before.has_password, set.after.has_password], [true, false, true]);
  const event = await lastEvent(home);
  assert.deepEqual([event.action, event.detail], ['users.set', 'changed user bob: password']);
  assert.doesNotMatch(
    JSON.stringify(event),
    /scrypt|first-password/,
    'neither the hash nor the password is in the audit trail',
  );
  assert.equal((await idpJson(passwordLogin('bob'), { home, input: 'first-password' })).outcome, 'success');

  await idpOk(['users', 'set', 'bob', '--password-stdin'], { home, input: 'second-password' });
  assert.equal((await lastEvent(home)).detail, 'changed user bob: password');
  expectCode(await runIdp(passwordLogin('bob'), { home, input: 'first-password' }), 7);
  assert.equal((await idpJson(passwordLogin('bob'), { home, input: 'second-password' })).outcome, 'success');
});

test('users set --email-verified true|false; a user without an email cannot be marked verified', async () => {
  const home = await seededHome();
  await idpOk(
    [
      'users',
      'import',
      fileWith('u.json', '[{"username": "bob", "email": "bob@example.com"}, {"username": "noemail"}]'),
    ],
    { home },
  );
  const on = await idpJson(['users', 'set', 'bob', '--email-verified', 'true', '--json'], { home });
  assert.deepEqual([on.before.email_verified, on.after.email_verified], [false, true]);
  assert.equal((await lastEvent(home)).detail, 'changed user bob: email_verified');
  assert.equal((await idpJson(['users', 'show', 'bob', '--json'], { home })).email_verified, true);
  assert.equal(
    (await idpJson(['users', 'set', 'bob', '--email-verified=false', '--json'], { home })).after.email_verified,
    false,
  );
  const bad = expectCode(await runIdp(['users', 'set', 'bob', '--email-verified', 'maybe'], { home }), 2);
  assert.match(bad.stderr, /--email-verified takes true or false, not 'maybe'/);
  const none = expectCode(await runIdp(['users', 'set', 'noemail', '--email-verified', 'true'], { home }), 2);
  assert.match(
    none.stderr,
    /^error: noemail has no email address to mark verified\nhint: give one first: idp users set noemail --attr email=ADDRESS\n$/,
  );
});

test('users set --unlock lifts a lockout and resets the failed-login counter, also of an active user; a disabled user is not unlocked', async () => {
  const home = await seededHome();
  const alice = await withStore(home, async (store) => {
    const user = (await store.users.find('alice'))!;
    await store.users.recordFailedLogin(user.id);
    await store.users.recordFailedLogin(user.id);
    return user;
  });
  const active = await idpJson(['users', 'set', 'alice', '--unlock', '--json'], { home });
  assert.deepEqual(
    [active.changed, active.before.failed_logins, active.after.failed_logins, active.after.status],
    [true, 2, 0, 'active'],
  );
  assert.equal(await withStore(home, async (store) => (await store.users.passwordState(alice.id)).failedLogins), 0);

  await withStore(home, async (store) => {
    for (let i = 0; i < 5; i++) await store.users.recordFailedLogin(alice.id);
    await store.users.setStatus(alice.id, 'locked');
    await store.users.recordFailedLogin(alice.id);
  });
  expectCode(await runIdp(passwordLogin('alice'), { home, input: 'thrift-demo' }), 7);
  const unlocked = await idpJson(['users', 'set', 'alice', '--unlock', '--json'], { home });
  assert.deepEqual(
    [unlocked.before.status, unlocked.after.status, unlocked.after.failed_logins],
    ['locked', 'active', 0],
  );
  assert.equal((await lastEvent(home)).detail, 'changed user alice: status, failed_logins');
  assert.equal((await idpJson(passwordLogin('alice'), { home, input: 'thrift-demo' })).outcome, 'success');
  assert.equal(
    (await idpJson(['users', 'set', 'alice', '--unlock', '--json'], { home })).changed,
    false,
    'nothing to lift',
  );

  await idpOk(['users', 'set', 'alice', '--disable'], { home });
  const disabled = expectCode(await runIdp(['users', 'set', 'alice', '--unlock'], { home }), 2);
  assert.match(
    disabled.stderr,
    /^error: alice is disabled, not locked\nhint: enable the account instead: idp users set alice --enable\n$/,
  );
});

test('users unlink drops one association with an event; the last way to sign in needs --force', async () => {
  const home = await seededHome();
  const octo = await withStore(home, async (store) => {
    const alice = (await store.users.find('alice'))!;
    await store.associations.insert({ connection: 'github', subject: '1001', userId: alice.id, claims: {} });
    const user = await store.users.insert({
      username: 'octocat',
      email: 'octocat@example.com',
      emailVerified: true,
      source: 'github',
    });
    await store.associations.insert({ connection: 'github', subject: '583231', userId: user.id, claims: {} });
    return user;
  });
  const unlinked = await idpJson(['users', 'unlink', 'alice', 'github', '--json'], { home });
  assert.deepEqual(unlinked, { user: 'alice', unlinked: { connection: 'github', subject: '1001' } });
  const event = await lastEvent(home);
  assert.deepEqual(
    [event.action, event.detail, event.before.subject, event.after],
    ['users.unlink', 'unlinked github from alice', '1001', null],
  );
  expectCode(await runIdp(['users', 'unlink', 'alice', 'github'], { home }), 2);

  const last = expectCode(await runIdp(['users', 'unlink', 'octocat', 'github'], { home }), 7);
  assert.equal(
    last.stderr,
    'error: github is the only way octocat can sign in\nhint: give octocat a password first (idp users set octocat --password-stdin), or unlink anyway with --force\n',
  );
  assert.equal(
    await withStore(home, async (store) => (await store.associations.forUser(octo.id)).length),
    1,
    'nothing was unlinked',
  );
  await idpOk(['users', 'unlink', 'octocat', 'github', '--force'], { home });
  assert.equal((await lastEvent(home)).detail, 'unlinked github from octocat (forced: no way to sign in is left)');
  assert.equal(await withStore(home, async (store) => (await store.associations.forUser(octo.id)).length), 0);
});

test('users mfa reset drops every factor with an mfa.reset event; without a terminal it needs --yes', async () => {
  const home = await seededHome();
  const enrolled = await idpJson(['users', 'mfa', 'enroll', 'alice', 'totp', '--json'], { home });
  expectCode(await runIdp(['users', 'mfa', 'reset', 'alice'], { home }), 2);
  const reset = await idpJson(['users', 'mfa', 'reset', 'alice', '--yes', '--json'], { home });
  assert.deepEqual(reset, { user: 'alice', removed: 1 });
  const event = await lastEvent(home);
  assert.deepEqual(
    [event.action, event.before, event.after],
    ['mfa.reset', { factors: [{ id: enrolled.factor, type: 'totp' }] }, { factors: [] }],
  );
  assert.deepEqual((await idpJson(['users', 'mfa', 'list', 'alice', '--json'], { home })).factors, []);
  assert.match(
    (await idpOk(['users', 'mfa', 'reset', 'alice', '--yes'], { home })).stdout,
    /reset MFA of alice: removed 0 factor\(s\)/,
  );
});
