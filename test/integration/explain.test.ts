// `explain` in process, with persona profiles read from the in-process sandbox exactly as `idp explain --as` reads
// them: each JIT decision (provision, deny, link, returning with each sync policy, pass-through), the steps the app
// and its script would run, whether MFA is possible, and that not a byte of the org's database changes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { personaProfile } from '../../src/cli/commands/explain.js';
import { IdpError } from '../../src/core/errors.js';
import { explain, type Explanation } from '../../src/app/explain.js';
import { scriptRunner } from '../../src/script/runner.js';
import type { SqliteStore as Store } from '../../src/store/store.js';
import { expectDone, githubPersona, loginWorld, personasFile, type LoginWorld } from '../helpers/login.js';
import { hintOf } from '../helpers/hints.js';
import { SKIP_MFA_SCRIPT } from '../helpers/scripts.js';

/** Every byte and every row of the org: the database file and its WAL, and each table's rows. */
function fingerprint(store: Store): string {
  const files = ['idp.db', 'idp.db-wal']
    .map((f) => join(store.home, f))
    .filter((f) => existsSync(f))
    .map((f) => `${f} ${createHash('sha256').update(readFileSync(f)).digest('hex')}`);
  const tables = store.db
    .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
    .pluck()
    .all() as string[];
  assert.ok(tables.includes('users') && tables.includes('events') && tables.includes('associations'));
  const rows = tables.map((t) => `${t} ${JSON.stringify(store.db.prepare(`SELECT * FROM "${t}"`).all())}`);
  return [...files, ...rows].join('\n');
}

/** Explains a sign-in to thrift as a sandbox persona, asserting that the org did not change at all. */
async function explainAs(
  world: LoginWorld,
  connection: string,
  persona: string,
  personas?: string,
): Promise<Explanation> {
  const { store } = world;
  const before = fingerprint(store);
  const conn = (await store.connections.get(connection))!;
  const result = await explain(
    store,
    (await store.apps.get('thrift'))!,
    conn,
    await personaProfile(store, conn, persona, personas),
    scriptRunner,
  );
  assert.equal(fingerprint(store), before, `explaining ${persona} through ${connection} wrote to the org`);
  return result;
}

const stepsOf = (r: Explanation): [number, string[]][] => r.steps.map((s) => [s.step, s.options]);

test('first GitHub login with the email free: provision, the proposed user and its attributes; the login then does it', async (t) => {
  const world = await loginWorld(t);
  const r = await explainAs(world, 'github', 'octocat');
  assert.equal(r.decision, 'provision');
  assert.match(r.reason, /JIT on for github; no association, email not taken/);
  assert.deepEqual(r.user, { id: null, username: 'octocat', email: 'octocat@example.com', state: 'new' });
  assert.deepEqual(r.attributes, [
    { attribute: 'email', before: null, after: 'octocat@example.com' },
    { attribute: 'email_verified', before: null, after: true },
    { attribute: 'name', before: null, after: 'The Octocat' },
    { attribute: 'picture', before: null, after: 'https://avatars.example/octocat.png' },
  ]);
  assert.deepEqual(stepsOf(r), [[1, ['github']]]);
  assert.equal(r.mfa_required, false);
  assert.equal(r.mfa_possible, true);
  assert.equal(r.upstream.subject, '583231');
  assert.equal(await world.user('octocat'), undefined, 'explain created nobody');

  expectDone(await world.login('github', 'octocat'));
  const created = await world.user('octocat');
  assert.equal(created?.email, 'octocat@example.com');
  assert.equal(created?.name, 'The Octocat');
});

test('email taken by a local user: deny with linking off, link with verified-email', async (t) => {
  const world = await loginWorld(t);
  const denied = await explainAs(world, 'github', 'alice-gh');
  assert.equal(denied.decision, 'deny');
  assert.match(denied.reason, /alice@example\.com is taken by local user alice and linking is off/);
  assert.equal(denied.user, null);
  assert.deepEqual(denied.attributes, []);
  assert.deepEqual(stepsOf(denied), [[1, ['github']]]);
  assert.equal(denied.mfa_possible, false);

  await world.setJit('github', { linking: 'verified-email' });
  const linked = await explainAs(world, 'github', 'alice-gh');
  assert.equal(linked.decision, 'link');
  const alice = (await world.user('alice'))!;
  assert.deepEqual(linked.user, { id: alice.id, username: 'alice', email: 'alice@example.com', state: 'existing' });
  assert.equal(linked.mfa_possible, true);
  assert.equal(await world.store.associations.get('github', '1000002'), undefined, 'no association was written');
});

test('returning user: override-all shows the renamed persona, preserve-local and none change nothing', async (t) => {
  const world = await loginWorld(t);
  expectDone(await world.login('github', 'octocat'));
  const octocat = (await world.user('octocat'))!;
  const renamed = personasFile({
    github: [githubPersona('octocat', 583231, { name: 'Octo Renamed', email: 'octocat@example.com' })],
  });

  const override = await explainAs(world, 'github', 'octocat', renamed);
  assert.equal(override.decision, 'returning');
  assert.deepEqual(override.user, {
    id: octocat.id,
    username: 'octocat',
    email: 'octocat@example.com',
    state: 'existing',
  });
  assert.deepEqual(override.attributes, [{ attribute: 'name', before: 'The Octocat', after: 'Octo Renamed' }]);
  assert.equal((await world.user('octocat'))?.name, 'The Octocat');

  for (const sync of ['preserve-local', 'none'] as const) {
    await world.setJit('github', { sync });
    const r = await explainAs(world, 'github', 'octocat', renamed);
    assert.equal(r.decision, 'returning');
    assert.deepEqual(r.attributes, [], `${sync}: nothing changes`);
  }

  // What explain predicted is what the login does.
  await world.setJit('github', { sync: 'override-all' });
  expectDone(await world.login('github', 'octocat', { personasFile: renamed }));
  assert.equal((await world.user('octocat'))?.name, 'Octo Renamed');
});

test('returning user with a new email: attributes use the same names as a provision and list only real changes', async (t) => {
  const world = await loginWorld(t);
  expectDone(await world.login('github', 'octocat'));
  const moved = personasFile({
    github: [githubPersona('octocat', 583231, { name: 'The Octocat', email: 'octo@moved.example' })],
  });
  const r = await explainAs(world, 'github', 'octocat', moved);
  assert.deepEqual(r.attributes, [{ attribute: 'email', before: 'octocat@example.com', after: 'octo@moved.example' }]);
});

test('JIT off: pass-through with no user and no MFA possible; a second step makes MFA required but impossible', async (t) => {
  const world = await loginWorld(t);
  await world.setJit('google', { enabled: false });
  const r = await explainAs(world, 'google', 'bob');
  assert.equal(r.decision, 'pass-through');
  assert.match(r.reason, /JIT off/);
  assert.equal(r.user, null);
  assert.deepEqual(r.attributes, []);
  assert.equal(r.mfa_required, false);
  assert.equal(r.mfa_possible, false);

  await world.store.apps.update('thrift', { steps: [['password', 'google', 'github'], ['email-otp']] });
  const mfa = await explainAs(world, 'google', 'bob');
  assert.deepEqual(stepsOf(mfa), [
    [1, ['google']],
    [2, ['email-otp']],
  ]);
  assert.equal(mfa.mfa_required, true);
  assert.equal(mfa.mfa_possible, false);
});

test('step 2 email-otp runs for a provisioned user; the skip-MFA script leaves only step 1 for federated sign-ins', async (t) => {
  const world = await loginWorld(t);
  await world.store.apps.update('thrift', { steps: [['password', 'google', 'github'], ['email-otp']] });
  const plain = await explainAs(world, 'github', 'octocat');
  assert.deepEqual(stepsOf(plain), [
    [1, ['github']],
    [2, ['email-otp']],
  ]);
  assert.equal(plain.mfa_required, true);
  assert.equal(plain.mfa_possible, true);

  await world.store.apps.update('thrift', { script: SKIP_MFA_SCRIPT });
  const scripted = await explainAs(world, 'github', 'octocat');
  assert.deepEqual(stepsOf(scripted), [[1, ['github']]]);
  assert.equal(scripted.mfa_required, false);

  await world.setJit('google', { enabled: false });
  const passThrough = await explainAs(world, 'google', 'bob');
  assert.equal(passThrough.decision, 'pass-through');
  assert.deepEqual(stepsOf(passThrough), [[1, ['google']]]);
  assert.equal(passThrough.mfa_required, false);
});

test('a connection the app does not offer in step 1 is refused', async (t) => {
  const world = await loginWorld(t);
  await world.store.apps.update('thrift', { steps: [['password', 'github']] });
  const google = (await world.store.connections.get('google'))!;
  await assert.rejects(
    explain(
      world.store,
      (await world.store.apps.get('thrift'))!,
      google,
      { subject: '1', claims: { email: 'x@example.com', email_verified: true } },
      scriptRunner,
    ),
    (err: unknown) =>
      err instanceof IdpError &&
      err.code === 'UNKNOWN_SIGN_IN_OPTION' &&
      err.exitCode === 2 &&
      /step 1 offers: password, github/.test(hintOf(err)),
  );
});
