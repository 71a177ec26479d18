// Audit you can read (issue 11, item 8): `idp events` filtered by kind, user, flow, connection and time, and
// `idp flows list` saying what each flow did: app, chosen options, user or pass-through, JIT decision, outcome, error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expectCode, idpJson, idpOk, runIdp, seededHome } from '../helpers/idp.js';

const home = await seededHome();
const login = (...args: string[]) => runIdp(['login', '--app', 'thrift', '--headless', ...args], { home });

// A small history: a JIT login, a config change, a pass-through login, a denied consent, a wrong password, and an
// MFA step a pass-through user cannot do.
expectCode(await login('--connection', 'github', '--as', 'octocat'), 0);
await idpOk(['users', 'set', 'octocat', '--attr', 'department=ops'], { home });
await idpOk(['connection', 'set', 'google', '--jit=false'], { home });
expectCode(await login('--connection', 'google', '--as', 'bob'), 0);
expectCode(await login('--connection', 'github', '--as', 'hubber', '--consent', 'deny'), 4);
expectCode(
  await runIdp(['login', '--app', 'thrift', '--option', 'password', '--username', 'alice', '--password-stdin'], {
    home,
    input: 'not-her-password',
  }),
  7,
);
await idpOk(['app', 'set', 'thrift', '--step', '2=email-otp'], { home });
expectCode(await login('--connection', 'google', '--as', 'bob'), 8);

interface Event {
  kind: 'stage' | 'config';
  flow: string | null;
  action: string | null;
  target: string | null;
  at: string;
}
const events = async (...filters: string[]): Promise<Event[]> =>
  (await idpJson(['events', '--json', '--limit', '10000', ...filters], { home })).events;
const { flows } = await idpJson(['flows', 'list', '--json'], { home });

test('flows list shows per flow the app, the options chosen, the user or pass-through, the JIT decision, the outcome and the error code', () => {
  const rows = flows.map((f: any) => [f.app, f.options, f.user, f.jit, f.outcome, f.error]);
  assert.deepEqual(rows, [
    [
      'thrift',
      ['google'],
      { kind: 'pass-through', connection: 'google' },
      'pass-through',
      'failed',
      'MFA_NEEDS_LOCAL_USER',
    ],
    ['thrift', ['password'], null, null, 'failed', 'BAD_CREDENTIALS'],
    ['thrift', ['github'], null, null, 'failed', 'UPSTREAM_DENIED'],
    ['thrift', ['google'], { kind: 'pass-through', connection: 'google' }, 'pass-through', 'success', null],
    ['thrift', ['github'], { kind: 'local', username: 'octocat' }, 'provision', 'success', null],
  ]);
});

test('flows list as a table: one line per flow with its user, JIT decision, outcome and error', async () => {
  const { stdout } = await idpOk(['flows', 'list'], { home });
  const lines = stdout.trim().split('\n');
  assert.match(lines[0]!, /^FLOW +STARTED +APP +OPTIONS +USER +JIT +OUTCOME +ERROR$/);
  assert.match(lines[1]!, /thrift +google +pass-through \(google\) +pass-through +failed +MFA_NEEDS_LOCAL_USER$/);
  assert.match(lines[5]!, /thrift +github +octocat +provision +success +-$/);
});

test('events --kind keeps one kind', async () => {
  const [stages, config, all] = await Promise.all([events('--kind', 'stage'), events('--kind', 'config'), events()]);
  assert.ok(stages.length > 0 && stages.every((e) => e.kind === 'stage'));
  assert.deepEqual(
    config.map((e) => e.action),
    ['app.set', 'connection.set', 'users.set', 'init'],
  );
  assert.equal(stages.length + config.length, all.length);
  expectCode(await runIdp(['events', '--kind', 'stages'], { home }), 2);
});

test("events --user: changes to the user and the stages of the user's sign-ins (by username, email or id)", async () => {
  const octocatFlow = flows.find((f: any) => f.user?.username === 'octocat').id;
  for (const ref of ['octocat', 'octocat@example.com']) {
    const found = await events('--user', ref);
    assert.deepEqual([...new Set(found.filter((e) => e.kind === 'stage').map((e) => e.flow))], [octocatFlow], ref);
    assert.deepEqual(
      found.filter((e) => e.kind === 'config').map((e) => e.target),
      ['user octocat'],
      ref,
    );
  }
  assert.deepEqual(await events('--user', 'octocat', '--kind', 'config').then((l) => l.map((e) => e.action)), [
    'users.set',
  ]);
  const typo = expectCode(await runIdp(['events', '--user', 'octocatt'], { home }), 2);
  assert.match(typo.stderr, /did you mean 'octocat'/);
});

test('events --connection: changes to the connection and the stages of sign-ins that chose it', async () => {
  const googleFlows = flows
    .filter((f: any) => f.options.includes('google'))
    .map((f: any) => f.id)
    .sort();
  const found = await events('--connection', 'google');
  assert.deepEqual([...new Set(found.filter((e) => e.kind === 'stage').map((e) => e.flow))].sort(), googleFlows);
  assert.deepEqual(
    found.filter((e) => e.kind === 'config').map((e) => e.action),
    ['connection.set'],
  );
  const github = await events('--connection', 'github', '--kind', 'stage');
  assert.equal(new Set(github.map((e) => e.flow)).size, 2, 'octocat and the denied hubber');
  expectCode(await runIdp(['events', '--connection', 'gogle'], { home }), 2);
});

test('events --flow, and --since as a duration or an ISO time', async () => {
  const denied = flows.find((f: any) => f.error === 'UPSTREAM_DENIED').id;
  const stages = await events('--flow', denied);
  assert.ok(stages.length > 2 && stages.every((e) => e.flow === denied));
  const all = await events();
  assert.equal((await events('--since', '1h')).length, all.length);
  assert.equal((await events('--since', '2020-01-01')).length, all.length);
  assert.deepEqual(await events('--since', '2999-01-01T00:00:00Z'), []);
  const middle = all[Math.floor(all.length / 2)]!.at;
  const recent = await events('--since', middle);
  assert.ok(recent.length > 0 && recent.length < all.length && recent.every((e) => e.at >= middle));
  const bad = expectCode(await runIdp(['events', '--since', 'yesterday'], { home }), 2);
  assert.match(bad.stderr, /hint: e\.g\. --since 15m/);
  assert.match((await idpOk(['events', '--since', '2999-01-01'], { home })).stdout, /no events match/);
});
