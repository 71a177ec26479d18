// Account takeover through identifiers (issue 10, items 2, 3 and 6), each attack played through real sandbox logins
// into a real SQLite org: an email the provider never verified, one identifier naming two accounts, and an unverified
// local email standing in its real owner's way. The admin commands of the attack run as the real CLI on the same org.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { editProfile } from '../../src/app/account.js';
import { setConnection } from '../../src/app/connections.js';
import { adminOf } from '../../src/cli/context.js';
import { exitCodeFor } from '../../src/core/errors.js';
import { applyJit } from '../../src/flow/provision.js';
import { expectCode, runIdp } from '../helpers/idp.js';
import { hintOf } from '../helpers/hints.js';
import {
  expectDone,
  expectFailed,
  githubPersona,
  loginWorld,
  personasFile,
  type LoginWorld,
} from '../helpers/login.js';

async function mapNameToEmail(w: LoginWorld, linking: 'off' | 'verified-email'): Promise<void> {
  await setConnection(adminOf(w.store, 'test'), 'github', { map: [['name', 'email']], linking }, { dryRun: false });
}

function jitDetail(run: { stages: { stage: string; detail: string }[] }): string {
  return run.stages
    .filter((s) => s.stage === 'jit')
    .map((s) => s.detail)
    .join('\n');
}

test("item 2: --map name=email, linking verified-email: a GitHub user whose display name is alice's address is not linked to alice", async (t) => {
  const w = await loginWorld(t);
  await mapNameToEmail(w, 'verified-email');
  const alice = (await w.user('alice'))!;
  const personas = personasFile({
    github: [githubPersona('evil', 7001, { name: 'alice@example.com', email: 'evil@example.com' })],
  });
  const run = await w.login('github', 'evil', { personasFile: personas });
  const failed = expectFailed(run, 'LINK_CONFLICT', 7);
  assert.deepEqual(await w.store.associations.forUser(alice.id), [], 'evil is not attached to alice');
  assert.equal(await w.store.associations.get('github', '7001'), undefined);
  assert.doesNotMatch(jitDetail(run) + failed.error.message, /verified email alice@example\.com matches alice/);
  assert.match(failed.error.message, /does not say it is verified/);
  assert.deepEqual(await w.user('alice'), alice);
});

test("item 2: an email from any claim but the provider's own is stored unverified, and a verified owner later takes it over", async (t) => {
  const w = await loginWorld(t);
  await mapNameToEmail(w, 'off');
  const personas = personasFile({
    github: [githubPersona('evil', 7001, { name: 'bob@example.com', email: 'evil@example.com' })],
  });
  expectDone(await w.login('github', 'evil', { personasFile: personas }));
  const evil = (await w.user('evil'))!;
  assert.equal(evil.email, 'bob@example.com');
  assert.equal(evil.emailVerified, false, 'GitHub verified evil@example.com, not the display name');
  const bob = await w.login('google', 'bob');
  assert.equal(expectDone(bob).jit?.decision, 'provision');
  assert.equal((await w.store.users.byEmail('bob@example.com'))?.source, 'google');
  assert.equal((await w.store.users.byEmail('bob@example.com'))?.emailVerified, true);
  assert.equal((await w.store.users.byId(evil.id))?.email, null, 'the unverified copy is cleared');
});

test('item 2: no other claim can be mapped to email_verified', async (t) => {
  const w = await loginWorld(t);
  const before = await w.store.connections.get('github');
  await assert.rejects(
    async () =>
      setConnection(adminOf(w.store, 'test'), 'github', { map: [['name', 'email_verified']] }, { dryRun: false }),
    (err: Error & { code?: string }) => {
      assert.equal(err.code, 'INVALID_VALUE');
      assert.match(err.message, /name cannot be mapped to email_verified/);
      return true;
    },
  );
  assert.deepEqual(await w.store.connections.get('github'), before);
});

test("item 3: an upstream login equal to alice's email gets a username of its own; alice's email then names alice everywhere", async (t) => {
  const w = await loginWorld(t);
  const alice = (await w.user('alice'))!;
  const personas = personasFile({ github: [githubPersona('alice@example.com', 7002, { email: 'evil@example.com' })] });
  const first = expectDone(await w.login('github', 'alice@example.com', { personasFile: personas }));
  const impostor = (await w.store.users.byId(first.user!.id))!;
  assert.equal(impostor.username, 'alice-2', 'the address is cut to its local part, and alice is taken');
  assert.equal((await w.store.users.find('alice@example.com'))?.id, alice.id);

  // alice signs in with her email.
  assert.equal(expectDone(await w.passwordLogin('alice@example.com', 'thrift-demo')).user?.id, alice.id);
  // Five wrong passwords given with her email lock alice, not the impostor.
  for (let i = 0; i < 4; i++) await w.passwordLogin('alice@example.com', 'wrong-password');
  const locked = expectFailed(await w.passwordLogin('alice@example.com', 'wrong-password'), 'USER_LOCKED', 7);
  // The person is shown the identifier they typed, which names the account for the admin's unlock, never its username.
  assert.match(hintOf(locked.error), /idp users set alice@example\.com --unlock/);
  const again = expectFailed(await w.passwordLogin('alice@example.com', 'thrift-demo'), 'USER_LOCKED', 7);
  assert.doesNotMatch(`${again.error.message} ${hintOf(again.error)}`, /\balice\b(?!@)/);
  assert.equal((await w.store.users.byId(alice.id))?.status, 'locked');
  assert.equal((await w.store.users.byId(impostor.id))?.status, 'active');

  // Admin commands naming the address act on alice.
  expectCode(await runIdp(['users', 'set', 'alice@example.com', '--unlock'], { home: w.home }), 0);
  assert.equal((await w.store.users.byId(alice.id))?.status, 'active');
  expectCode(await runIdp(['users', 'mfa', 'enroll', 'alice', 'totp'], { home: w.home }), 0);
  expectCode(await runIdp(['users', 'mfa', 'remove', 'alice@example.com', '--yes'], { home: w.home }), 0);
  assert.deepEqual(await w.store.factors.forUser(alice.id), []);
  expectCode(await runIdp(['users', 'delete', 'alice@example.com', '--yes'], { home: w.home }), 0);
  assert.equal(await w.store.users.byId(alice.id), undefined);
  assert.ok(await w.store.users.byId(impostor.id), 'the impostor is untouched');
});

test("item 3: an upstream login equal to the person's own verified email is kept as the username", async (t) => {
  const w = await loginWorld(t);
  const personas = personasFile({ github: [githubPersona('dana@example.com', 7003, { email: 'dana@example.com' })] });
  const result = expectDone(await w.login('github', 'dana@example.com', { personasFile: personas }));
  assert.equal(result.user?.username, 'dana@example.com');
});

test("item 3: a username chosen at a JIT prompt may not be another person's address", async (t) => {
  const w = await loginWorld(t);
  await w.setJit('github', { scheme: 'prompt-username-password-consent' });
  const users = await w.store.users.count();
  const run = await w.login('github', 'octocat', {
    jitConsent: 'approve',
    jitUsername: 'alice@example.com',
    password: 'a-long-password',
  });
  const failed = expectFailed(run, 'INVALID_VALUE', 2);
  assert.match(failed.error.message, /looks like an email address but is not the user's own email/);
  assert.equal(await w.store.users.count(), users);
  const other = await w.login('github', 'octocat', {
    jitConsent: 'approve',
    jitUsername: 'bob@example.com',
    password: 'a-long-password',
  });
  expectFailed(other, 'INVALID_VALUE', 2);
});

test("item 6: an address squatted in My Account does not block its provider-verified owner, who is not told the squatter's name", async (t) => {
  const w = await loginWorld(t);
  expectDone(await w.login('github', 'octocat'));
  const octocat = await editProfile(w.store, (await w.user('octocat'))!, [['email', 'bob@example.com']]);
  assert.equal(octocat.emailVerified, false, 'an address set in My Account is unverified');

  const run = await w.login('google', 'bob');
  const result = expectDone(run);
  assert.equal(result.jit?.decision, 'provision');
  const bob = (await w.store.users.byId(result.user!.id))!;
  assert.equal(bob.email, 'bob@example.com');
  assert.equal(bob.emailVerified, true);
  assert.equal((await w.store.users.byId(octocat.id))?.email, null, "the squatter's unverified copy is cleared");
  assert.match(
    jitDetail(run),
    /held unverified by local user octocat, whose copy is cleared/,
    'the stage an admin reads names the squatter',
  );
  const [cleared] = (await w.store.events.list({ limit: 20 })).filter((e) => e.action === 'users.email-cleared');
  assert.match(cleared?.detail ?? '', /cleared the unverified email bob@example\.com of octocat: google verified it/);
});

test('item 6: refusals shown to the person signing in never name the local account holding the email', async (t) => {
  const w = await loginWorld(t);
  await w.store.users.insert({
    username: 'carol-local',
    email: 'carol@example.com',
    emailVerified: true,
    source: 'local',
  });
  const taken = expectFailed(await w.login('github', 'alice-gh'), 'LINK_CONFLICT', 7);
  await w.setJit('google', { linking: 'verified-email' });
  const unverified = await w.login('google', 'carol');
  const failed = expectFailed(unverified, 'LINK_CONFLICT', 7);
  for (const [view, holder] of [
    [taken, 'alice'],
    [failed, 'carol-local'],
  ] as const) {
    const { error } = view;
    assert.doesNotMatch(view.jit?.reason.replaceAll(/\S+@example\.com/g, '') ?? '', new RegExp(`\\b${holder}\\b`));
    const told = `${error.message}\n${hintOf(error)}`.replaceAll(/\S+@example\.com/g, '');
    assert.doesNotMatch(told, new RegExp(`\\b${holder}\\b`), told);
    assert.match(error.message, /belongs to an existing account/);
  }
  assert.match(jitDetail(unverified), /taken by local user carol-local/);
});

test('item 6: My Account may not take an address another user holds, verified or not, and is not told who holds it', async (t) => {
  const w = await loginWorld(t);
  await w.store.users.insert({ username: 'holder', email: 'held@example.com', emailVerified: false, source: 'local' });
  expectDone(await w.login('github', 'octocat'));
  const octocat = (await w.user('octocat'))!;
  for (const address of ['held@example.com', 'alice@example.com']) {
    await assert.rejects(
      async () => editProfile(w.store, octocat, [['email', address]]),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, 'USER_EXISTS');
        assert.doesNotMatch(err.message.replace(address, ''), /holder|alice/);
        return true;
      },
    );
  }
  assert.deepEqual(await w.user('octocat'), octocat);
});

test('a connection pointed at another provider during a sign-in links nobody: CONNECTION_CHANGED (exit 5)', async (t) => {
  const w = await loginWorld(t);
  const signedInAt = (await w.store.connections.get('github'))!;
  // The admin's change lands between the person's upstream sign-in and the JIT unit.
  await w.store.connections.update('github', { sandbox: false, baseUrl: 'https://ghe.example' });
  const claims = { sub: '4242', preferred_username: 'late', email: 'late@example.com', email_verified: true };
  await assert.rejects(applyJit(w.store, { connection: signedInAt, subject: '4242', claims }), (err: Error) => {
    assert.equal((err as { code?: string }).code, 'CONNECTION_CHANGED');
    assert.equal(exitCodeFor('CONNECTION_CHANGED'), 5);
    return true;
  });
  assert.equal(await w.store.associations.get('github', '4242'), undefined);
  assert.equal(await w.user('late'), undefined);
});
