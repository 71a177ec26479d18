// The login engine on in-memory fakes of its ports: each waiting state's handler, the table that picks it, and the
// refusals that end a flow (or never start one), without SQLite, sockets or a sandbox provider.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exitCodeFor, isIdpError } from '../../src/core/errors.js';
import { hashPassword } from '../../src/core/password.js';
import { FlowEngine } from '../../src/flow/engine.js';
import type { FlowView } from '../../src/flow/types.js';
import { fakeApp, fakeConnection, fakeDeps, FakeStore, FakeUpstreams } from '../helpers/fake-ports.js';

const REDIRECT = 'http://127.0.0.1:4567/callback';

function world(steps: string[][], jit: Parameters<typeof fakeConnection>[1] = {}) {
  const store = new FakeStore();
  const upstreams = new FakeUpstreams();
  store.appMap.set('shop', fakeApp('shop', steps));
  store.connectionMap.set('github', fakeConnection('github', jit));
  return { store, upstreams, engine: new FlowEngine(fakeDeps(store, upstreams)) };
}

function waiting<K extends string>(view: FlowView, kind: K): Extract<FlowView, { waiting: K }> {
  assert.equal(view.status, 'active', JSON.stringify(view));
  assert.equal((view as { waiting: string }).waiting, kind);
  return view as Extract<FlowView, { waiting: K }>;
}

function failed(view: FlowView, code: string): Extract<FlowView, { status: 'failed' }> {
  assert.equal(view.status, 'failed', JSON.stringify(view));
  assert.equal((view as Extract<FlowView, { status: 'failed' }>).error.code, code);
  return view as Extract<FlowView, { status: 'failed' }>;
}

function stages(store: FakeStore): string[] {
  return store.stages.map((e) => `${e.stage}:${e.status}`);
}

test('choose -> password -> session: the person picks password, gives the right one, and gets a token', async () => {
  const w = world([['password', 'github']]);
  w.store.addUser({
    username: 'alice',
    email: 'alice@example.com',
    emailVerified: true,
    passwordHash: await hashPassword('correct horse'),
    source: 'local',
  });
  const choose = waiting(await w.engine.start('shop'), 'choose');
  assert.deepEqual(choose.options, ['password', 'github']);
  waiting(await w.engine.submit(choose.flow, { choose: 'password' }), 'credentials');
  const done = await w.engine.submit(choose.flow, { credentials: { username: 'alice', password: 'correct horse' } });
  assert.equal(done.status, 'done', JSON.stringify(done));
  assert.equal(done.result.user?.username, 'alice');
  assert.deepEqual(done.result.amr, ['pwd']);
  assert.equal(done.result.claims.sub, done.result.user?.id);
  assert.deepEqual(stages(w.store), ['app:ok', 'options:ok', 'password:ok', 'session:ok']);
  assert.equal(w.store.flowMap.get(choose.flow)?.status, 'done');
});

test('federated: redirect -> callback -> provision creates the user and the association, then a token', async () => {
  const w = world([['password', 'github']]);
  const choose = waiting(await w.engine.start('shop'), 'choose');
  const redirect = waiting(await w.engine.submit(choose.flow, { choose: 'github', redirectUri: REDIRECT }), 'redirect');
  assert.equal(redirect.url, 'https://upstream.test/authorize?state=good-state');
  const done = await w.engine.submit(choose.flow, { callback: `${REDIRECT}?code=c&state=good-state` });
  assert.equal(done.status, 'done', JSON.stringify(done));
  assert.equal(done.result.jit?.decision, 'provision');
  assert.equal(done.result.user?.username, 'octo');
  assert.equal(w.store.associationMap.get('github/gh-42')?.userId, done.result.user?.id);
  assert.equal(w.upstreams.exchanges, 1);
  assert.deepEqual(stages(w.store), [
    'app:ok',
    'options:ok',
    'redirect:ok',
    'consent:ok',
    'callback:ok',
    'token:ok',
    'userinfo:ok',
    'jit:ok',
    'session:ok',
  ]);
});

test('under a prompt scheme the flow asks before provisioning, and provisions only on consent', async () => {
  const w = world([['github']], { scheme: 'prompt-consent' });
  const start = await w.engine.start('shop');
  waiting(await w.engine.submit(start.flow, { choose: 'github', redirectUri: REDIRECT }), 'redirect');
  const prompt = waiting(
    await w.engine.submit(start.flow, { callback: `${REDIRECT}?code=c&state=good-state` }),
    'jit-prompt',
  );
  assert.deepEqual(prompt.proposed, { username: 'octo', email: 'octo@example.com', name: null });
  assert.equal(w.store.userMap.size, 0, 'nothing written before consent');
  const done = await w.engine.submit(start.flow, { jitAnswer: { consent: true } });
  assert.equal(done.status, 'done', JSON.stringify(done));
  assert.equal(w.store.userMap.size, 1);
});

test('a pass-through user (JIT off) reaching an MFA step fails with MFA_NEEDS_LOCAL_USER; nothing is written', async () => {
  const w = world([['github'], ['totp']], { enabled: false });
  const start = await w.engine.start('shop');
  waiting(await w.engine.submit(start.flow, { choose: 'github', redirectUri: REDIRECT }), 'redirect');
  const view = failed(
    await w.engine.submit(start.flow, { callback: `${REDIRECT}?code=c&state=good-state` }),
    'MFA_NEEDS_LOCAL_USER',
  );
  assert.equal(view.jit?.decision, 'pass-through');
  assert.equal(w.store.userMap.size, 0);
  assert.deepEqual(stages(w.store).slice(-2), ['jit:ok', 'mfa:failed']);
  assert.equal(w.store.flowMap.get(start.flow)?.status, 'failed');
});

test('a callback with another state fails at the callback stage and never reaches the token exchange', async () => {
  const w = world([['github']]);
  const start = await w.engine.start('shop');
  waiting(await w.engine.submit(start.flow, { choose: 'github', redirectUri: REDIRECT }), 'redirect');
  failed(await w.engine.submit(start.flow, { callback: `${REDIRECT}?code=c&state=forged` }), 'STATE_MISMATCH');
  assert.equal(w.upstreams.exchanges, 0);
  assert.deepEqual(stages(w.store).slice(-1), ['callback:failed']);
});

test('an answer the waiting state does not take fails the flow with USAGE; the flow is then finished', async () => {
  const w = world([['password', 'github']]);
  const choose = waiting(await w.engine.start('shop'), 'choose');
  const view = failed(await w.engine.submit(choose.flow, { otp: '123456' }), 'USAGE');
  assert.match(view.error.message, /is waiting for choose, not for that answer/);
  await assert.rejects(
    w.engine.submit(choose.flow, { choose: 'password' }),
    (err) => isIdpError(err) && err.code === 'FLOW_FINISHED' && err.exitCode === 2,
  );
});

test('an unknown flow is FLOW_NOT_FOUND (exit 2), not a usage error', async () => {
  const w = world([['password']]);
  await assert.rejects(
    w.engine.submit('f_nope', { choose: 'password' }),
    (err) => isIdpError(err) && err.code === 'FLOW_NOT_FOUND' && err.exitCode === 2,
  );
});

test('an MFA step with nobody identified, or for a user without email, is MFA_MISCONFIGURED (exit 3)', async () => {
  const nobody = world([['totp']]);
  const choose = waiting(await nobody.engine.start('shop'), 'choose');
  const first = failed(await nobody.engine.submit(choose.flow, { choose: 'totp' }), 'MFA_MISCONFIGURED');
  assert.match(first.error.message, /needs a user identified by an earlier step/);
  assert.equal(exitCodeFor(first.error.code), 3);

  const noEmail = world([['password'], ['email-otp']]);
  noEmail.store.addUser({
    username: 'bob',
    email: null,
    emailVerified: false,
    passwordHash: await hashPassword('correct horse'),
    source: 'local',
  });
  const start = waiting(await noEmail.engine.start('shop'), 'choose');
  waiting(await noEmail.engine.submit(start.flow, { choose: 'password' }), 'credentials');
  const view = failed(
    await noEmail.engine.submit(start.flow, { credentials: { username: 'bob', password: 'correct horse' } }),
    'MFA_MISCONFIGURED',
  );
  assert.match(view.error.message, /bob has no email address/);
  assert.equal(noEmail.store.mail.length, 0);
});

test('password then emailed code: the code from the mail finishes the flow with amr pwd,email', async () => {
  const w = world([['password'], ['email-otp']]);
  w.store.addUser({
    username: 'carol',
    email: 'carol@example.com',
    emailVerified: true,
    passwordHash: await hashPassword('correct horse'),
    source: 'local',
  });
  const start = waiting(await w.engine.start('shop'), 'choose');
  waiting(await w.engine.submit(start.flow, { choose: 'password' }), 'credentials');
  const mfa = waiting(
    await w.engine.submit(start.flow, { credentials: { username: 'carol', password: 'correct horse' } }),
    'mfa',
  );
  assert.equal(mfa.method, 'email-otp');
  assert.equal(w.store.mail.length, 1);
  const retry = waiting(await w.engine.submit(start.flow, { otp: '000000' }), 'mfa');
  assert.equal(retry.retry?.code, 'MFA_FAILED');
  const done = await w.engine.submit(start.flow, { otp: '654321' });
  assert.equal(done.status, 'done', JSON.stringify(done));
  assert.deepEqual(done.result.amr, ['pwd', 'email']);
});
