// MFA as step 2 of thrift, driven through the real FlowEngine on a real SQLite org with an injected clock. TOTP: amr/acr,
// replay across flows, racing submissions, the per-flow attempt cap, sealing at rest, in-flow enrolment. Email OTP:
// the outbox, expiry, single use, binding to its flow, the attempt cap.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { codeInOutbox } from '../../src/cli/commands/login.js';
import { loginEngine, upstreamsFor } from '../../src/cli/context.js';
import { headlessLogin } from '../../src/cli/drivers/headless.js';
import type { User } from '../../src/core/types.js';
import { MAX_MFA_ATTEMPTS } from '../../src/flow/mfa.js';
import { OTP_TTL_MS } from '../../src/mfa/email-otp.js';
import { enrolTotp } from '../../src/app/account.js';
import { setUser } from '../../src/app/users.js';
import { LOCKOUT_AFTER_FAILURES } from '../../src/flow/steps/lockout.js';
import { adminOf } from '../../src/cli/context.js';
import type { FlowView } from '../../src/flow/types.js';
import type { FlowEngine } from '../../src/flow/engine.js';
import type { Upstreams } from '../../src/ports.js';
import { totpCode } from '../../src/mfa/totp.js';
import { DB_FILE } from '../../src/store/db.js';
import { openStore, type SqliteStore as Store } from '../../src/store/store.js';
import { demoHome, expectDone, expectFailed } from '../helpers/login.js';
import { hintOf } from '../helpers/hints.js';

/** One second into a 30-second TOTP step, so "the same step" and "the next step" are exact. */
const T0 = Math.floor(Date.now() / 30_000) * 30_000 + 1_000;

interface World {
  home: string;
  store: Store;
  upstreams: Upstreams;
  engine: FlowEngine;
  alice: User;
  /** Moves the store's clock (what TOTP verification reads) forward. */
  advance(ms: number): void;
  now(): Date;
  /** Starts a password login for alice and answers step 1; returns the view of step 2. */
  toStep2(): Promise<FlowView>;
}

async function world(t: TestContext, step2 = 'totp'): Promise<World> {
  const home = await demoHome();
  let offset = 0;
  const now = (): Date => new Date(T0 + offset);
  const store = openStore(home, { clock: now });
  const upstreams = await upstreamsFor(store);
  t.after(async () => {
    await upstreams.close();
    store.close();
  });
  await store.apps.update('thrift', { steps: [['password', 'google', 'github'], [step2]] });
  const engine = await loginEngine({ store, upstreams });
  const alice = (await store.users.find('alice'))!;
  return {
    home,
    store,
    upstreams,
    engine,
    alice,
    advance: (ms) => void (offset += ms),
    now,
    async toStep2() {
      const started = await engine.start('thrift');
      const chosen = await engine.submit(started.flow, { choose: 'password' });
      return engine.submit(chosen.flow, { credentials: { username: 'alice', password: 'thrift-demo' } });
    },
  };
}

function mfaView(view: FlowView): Extract<FlowView, { waiting: 'mfa' }> {
  assert.equal(view.status, 'active', `expected the MFA step, got ${JSON.stringify(view)}`);
  assert.equal((view as { waiting: string }).waiting, 'mfa');
  return view as Extract<FlowView, { waiting: 'mfa' }>;
}

/** A six-digit code that is none of the three the window accepts at `at`. */
async function wrongCode(secret: string, at: Date): Promise<string> {
  const valid = new Set(
    await Promise.all([-30_000, 0, 30_000].map((d) => totpCode(secret, new Date(at.getTime() + d)))),
  );
  return ['123456', '654321', '000000', '999999'].find((c) => !valid.has(c))!;
}

test('an enrolled factor: the headless login with the secret finishes with amr pwd,otp and acr mfa', async (t) => {
  const w = await world(t);
  const { secret, uri } = await enrolTotp(adminOf(w.store, 'test'), w.alice);
  assert.match(uri, /^otpauth:\/\/totp\//);
  assert.ok(uri.includes(`secret=${secret}`));
  const run = await headlessLogin({
    store: w.store,
    app: 'thrift',
    upstreams: w.upstreams,
    answers: {
      option: 'password',
      username: 'alice',
      password: 'thrift-demo',
      consent: 'approve',
      otp: { code: await totpCode(secret, w.now()) },
    },
  });
  const result = expectDone(run.view);
  assert.deepEqual(result.amr, ['pwd', 'otp']);
  assert.equal(result.acr, 'urn:idp:acr:mfa');
  assert.equal(result.claims.acr, 'urn:idp:acr:mfa');
  const mfa = run.stages.filter((s) => s.stage === 'mfa');
  assert.deepEqual(
    mfa.map((s) => [s.status, s.detail]),
    [['ok', 'totp verified for alice']],
  );
});

test("a code accepted in one flow is refused in a second flow, within its window; the next step's code then works", async (t) => {
  const w = await world(t);
  const { secret } = await enrolTotp(adminOf(w.store, 'test'), w.alice);
  const code = await totpCode(secret, w.now());
  const first = mfaView(await w.toStep2());
  expectDone(await w.engine.submit(first.flow, { otp: code }));

  w.advance(30_000); // the old code is still inside the +-1 step window
  const second = mfaView(await w.toStep2());
  const replay = mfaView(await w.engine.submit(second.flow, { otp: code }));
  assert.equal(replay.retry?.code, 'MFA_FAILED');
  assert.match(replay.retry?.message ?? '', /already used/);
  expectDone(await w.engine.submit(second.flow, { otp: await totpCode(secret, w.now()) }));
});

test('two concurrent submissions of the same correct code to two flows: exactly one signs in', async (t) => {
  const w = await world(t);
  const { secret } = await enrolTotp(adminOf(w.store, 'test'), w.alice);
  const [a, b] = [mfaView(await w.toStep2()), mfaView(await w.toStep2())];
  const code = await totpCode(secret, w.now());
  const views = await Promise.all([w.engine.submit(a.flow, { otp: code }), w.engine.submit(b.flow, { otp: code })]);
  assert.deepEqual(views.map((v) => v.status).sort(), ['active', 'done']);
  const loser = mfaView(views.find((v) => v.status === 'active')!);
  assert.match(loser.retry?.message ?? '', /already used/);
  assert.equal((await w.store.flows.get(loser.flow))?.status, 'active');
});

test(`at most ${MAX_MFA_ATTEMPTS} wrong codes per flow, then MFA_TOO_MANY_ATTEMPTS (exit 8); the right code comes too late`, async (t) => {
  const w = await world(t);
  const { secret } = await enrolTotp(adminOf(w.store, 'test'), w.alice);
  const wrong = await wrongCode(secret, w.now());
  let view = mfaView(await w.toStep2());
  const flow = view.flow;
  for (let attempt = 1; attempt < MAX_MFA_ATTEMPTS; attempt++) {
    view = mfaView(await w.engine.submit(flow, { otp: wrong }));
    assert.equal(view.retry?.message, `wrong code: ${MAX_MFA_ATTEMPTS - attempt} attempt(s) left`);
  }
  const failed = expectFailed(await w.engine.submit(flow, { otp: wrong }), 'MFA_TOO_MANY_ATTEMPTS', 8);
  assert.equal(failed.step, 2);
  await assert.rejects(w.engine.submit(flow, { otp: await totpCode(secret, w.now()) }), /already failed/);
  assert.equal((await w.store.flows.get(flow))?.status, 'failed');
});

test(`racing wrong codes cannot get around the cap: ${MAX_MFA_ATTEMPTS * 2} at once into one flow are ${MAX_MFA_ATTEMPTS} attempts at most`, async (t) => {
  const w = await world(t);
  const { secret } = await enrolTotp(adminOf(w.store, 'test'), w.alice);
  const wrong = await wrongCode(secret, w.now());
  const { flow } = mfaView(await w.toStep2());
  const settled = await Promise.allSettled(
    Array.from({ length: MAX_MFA_ATTEMPTS * 2 }, () => w.engine.submit(flow, { otp: wrong })),
  );
  const evaluated = (await w.store.events.list({ flow, limit: 100 })).filter(
    (e) => e.stage === 'mfa' && /\(attempt \d/.test(e.detail),
  );
  assert.ok(evaluated.length <= MAX_MFA_ATTEMPTS, `${evaluated.length} wrong codes were checked in one flow`);
  assert.equal((await w.store.flows.get(flow))?.status, 'failed');
  assert.ok(
    settled.some(
      (s) => s.status === 'fulfilled' && s.value.status === 'failed' && s.value.error.code === 'MFA_TOO_MANY_ATTEMPTS',
    ),
  );
  await assert.rejects(w.engine.submit(flow, { otp: await totpCode(secret, w.now()) }), /already failed/);
});

test('the TOTP secret is sealed at rest: neither an enrolled secret nor one offered in a flow appears in the database files', async (t) => {
  const w = await world(t);
  const enrolled = await enrolTotp(adminOf(w.store, 'test'), w.alice);
  const bob = await w.store.users.insert({
    username: 'bob',
    email: 'bob@example.com',
    emailVerified: true,
    name: null,
    givenName: null,
    familyName: null,
    passwordHash: (await w.store.users.passwordState(w.alice.id)).hash,
    source: 'local',
  });
  const started = await w.engine.start('thrift');
  await w.engine.submit(started.flow, { choose: 'password' });
  const offered = mfaView(
    await w.engine.submit(started.flow, { credentials: { username: bob.username, password: 'thrift-demo' } }),
  ).enrol!.secret;
  const bytes = [DB_FILE, `${DB_FILE}-wal`]
    .map((f) => join(w.home, f))
    .filter((f) => existsSync(f))
    .map((f) => readFileSync(f).toString('latin1'));
  assert.ok(bytes.join('').length > 0);
  for (const secret of [enrolled.secret, offered]) {
    assert.match(secret, /^[A-Z2-7]{32}$/);
    assert.ok(!bytes.some((b) => b.includes(secret)), `the secret ${secret.slice(0, 4)}... is stored in clear`);
  }
  assert.equal(
    w.store.unseal((await w.store.factors.totpFor(w.alice.id))!.secretSealed),
    enrolled.secret,
    'what is stored is the sealed secret',
  );
});

test('no factor yet: the flow offers enrolment {secret, uri}; a wrong code keeps the same secret and creates nothing; the right one enrols', async (t) => {
  const w = await world(t);
  const view = mfaView(await w.toStep2());
  assert.equal(view.method, 'totp');
  const enrol = view.enrol;
  assert.ok(enrol, 'an enrolment offer');
  assert.match(enrol.secret, /^[A-Z2-7]{32}$/);
  assert.ok(enrol.uri.startsWith('otpauth://totp/') && enrol.uri.includes(`secret=${enrol.secret}`));

  const retry = mfaView(await w.engine.submit(view.flow, { otp: await wrongCode(enrol.secret, w.now()) }));
  assert.equal(retry.enrol?.secret, enrol.secret, 'the same secret is offered again');
  assert.deepEqual(await w.store.factors.forUser(w.alice.id), []);

  const result = expectDone(await w.engine.submit(view.flow, { otp: await totpCode(enrol.secret, w.now()) }));
  assert.deepEqual(result.amr, ['pwd', 'otp']);
  const factor = await w.store.factors.totpFor(w.alice.id);
  assert.ok(factor, 'a factor was created');
  assert.equal(w.store.unseal(factor.secretSealed), enrol.secret);
  assert.match(
    (await w.store.events.list({ flow: view.flow, limit: 100 })).at(-2)?.detail ?? '',
    /new factor enrolled/,
  );

  // The next login uses the new factor and offers no enrolment.
  const next = mfaView(await w.toStep2());
  assert.equal(next.enrol, undefined);
  w.advance(30_000);
  expectDone(await w.engine.submit(next.flow, { otp: await totpCode(enrol.secret, w.now()) }));
});

test('two logins enrolling TOTP at once: one factor is kept, the other login fails with MFA_FAILED', async (t) => {
  const w = await world(t);
  const first = mfaView(
    await w.engine
      .submit((await w.engine.start('thrift')).flow, { choose: 'password' })
      .then((v) => w.engine.submit(v.flow, { credentials: { username: 'alice', password: 'thrift-demo' } })),
  );
  const second = mfaView(
    await w.engine
      .submit((await w.engine.start('thrift')).flow, { choose: 'password' })
      .then((v) => w.engine.submit(v.flow, { credentials: { username: 'alice', password: 'thrift-demo' } })),
  );
  assert.ok(
    first.enrol && second.enrol && first.enrol.secret !== second.enrol.secret,
    'each login offers its own secret',
  );
  const [a, b] = await Promise.all([
    w.engine.submit(first.flow, { otp: await totpCode(first.enrol.secret, w.now()) }),
    w.engine.submit(second.flow, { otp: await totpCode(second.enrol.secret, w.now()) }),
  ]);
  assert.deepEqual([a.status, b.status].sort(), ['done', 'failed']);
  const lost = (a.status === 'failed' ? a : b) as Extract<FlowView, { status: 'failed' }>;
  assert.equal(lost.error.code, 'MFA_FAILED');
  assert.equal((await w.store.factors.forUser(w.alice.id)).length, 1, 'exactly one factor');
});

test('headless without a factor: MFA_NOT_ENROLLED (exit 8), and no factor is created', async (t) => {
  const w = await world(t);
  const run = await headlessLogin({
    store: w.store,
    app: 'thrift',
    upstreams: w.upstreams,
    answers: {
      option: 'password',
      username: 'alice',
      password: 'thrift-demo',
      consent: 'approve',
      otp: { code: '123456' },
    },
  });
  const failed = expectFailed(run.view, 'MFA_NOT_ENROLLED', 8);
  assert.match(hintOf(failed.error), /idp users mfa enroll/);
  assert.deepEqual(await w.store.factors.forUser(w.alice.id), []);
});

// --- email OTP ---

/** The code the flow mailed to the outbox, as a person would copy it. */
async function mailedCode(w: World, flow: string): Promise<string> {
  const code = await codeInOutbox(w.store, flow);
  assert.ok(code, `flow ${flow} delivered no code`);
  return code;
}

function otherThan(code: string): string {
  return code === '000000' ? '111111' : '000000';
}

test('email OTP: one message to alice in the outbox, bound to the flow; its code signs in with amr pwd,email', async (t) => {
  const w = await world(t, 'email-otp');
  const view = mfaView(await w.toStep2());
  assert.equal(view.method, 'email-otp');
  assert.match(view.hint, /a\*\*\*@example\.com/);
  const mail = await w.store.codes.outbox({ to: 'alice@example.com', limit: 10 });
  assert.equal(mail.length, 1);
  assert.equal(mail[0]!.flow, view.flow);
  assert.match(mail[0]!.body, /\b\d{6}\b/);
  const stored = (await w.store.codes.latestForFlow(view.flow))!;
  assert.ok(!stored.hash.includes(await mailedCode(w, view.flow)), 'the code is stored hashed');
  const result = expectDone(await w.engine.submit(view.flow, { otp: await mailedCode(w, view.flow) }));
  assert.deepEqual(result.amr, ['pwd', 'email']);
  assert.equal(result.acr, 'urn:idp:acr:mfa');
  assert.notEqual((await w.store.codes.latestForFlow(view.flow))?.usedAt, null);
});

test('email OTP: accepted just before ten minutes, refused with MFA_FAILED (exit 8) after eleven', async (t) => {
  const w = await world(t, 'email-otp');
  const inTime = mfaView(await w.toStep2());
  w.advance(OTP_TTL_MS - 1_000);
  expectDone(await w.engine.submit(inTime.flow, { otp: await mailedCode(w, inTime.flow) }));

  const late = mfaView(await w.toStep2());
  w.advance(11 * 60_000);
  const failed = expectFailed(
    await w.engine.submit(late.flow, { otp: await mailedCode(w, late.flow) }),
    'MFA_FAILED',
    8,
  );
  assert.match(failed.error.message, /expired/);
  assert.equal((await w.store.flows.get(late.flow))?.status, 'failed');
});

test("email OTP: single use, and bound to its flow: flow A's code is refused in flow B, which needs its own", async (t) => {
  const w = await world(t, 'email-otp');
  const a = mfaView(await w.toStep2());
  const codeA = await mailedCode(w, a.flow);
  expectDone(await w.engine.submit(a.flow, { otp: codeA }));
  await assert.rejects(w.engine.submit(a.flow, { otp: codeA }), /already finished/);

  const b = mfaView(await w.toStep2());
  const codeB = await mailedCode(w, b.flow);
  assert.notEqual(codeB, codeA, 'each flow mails its own code');
  const refused = mfaView(await w.engine.submit(b.flow, { otp: codeA }));
  assert.equal(refused.retry?.code, 'MFA_FAILED');
  expectDone(await w.engine.submit(b.flow, { otp: codeB }));
});

test('email OTP: the right code submitted twice at once into one flow signs in once, and the flow stays finished', async (t) => {
  const w = await world(t, 'email-otp');
  const view = mfaView(await w.toStep2());
  const code = await mailedCode(w, view.flow);
  const settled = await Promise.allSettled([
    w.engine.submit(view.flow, { otp: code }),
    w.engine.submit(view.flow, { otp: code }),
  ]);
  const done = settled.filter((s) => s.status === 'fulfilled' && s.value.status === 'done');
  assert.equal(
    done.length,
    1,
    `outcomes: ${JSON.stringify(settled.map((s) => (s.status === 'fulfilled' ? s.value.status : String(s.reason))))}`,
  );
  assert.equal((await w.store.flows.get(view.flow))?.status, 'done');
  assert.equal(
    (await w.store.events.list({ flow: view.flow, limit: 100 })).filter((e) => e.stage === 'session').length,
    1,
    'one ID token',
  );
});

test(`email OTP: ${MAX_MFA_ATTEMPTS} wrong codes end the flow with MFA_TOO_MANY_ATTEMPTS (exit 8); the mailed code is then refused`, async (t) => {
  const w = await world(t, 'email-otp');
  const { flow } = mfaView(await w.toStep2());
  const wrong = otherThan(await mailedCode(w, flow));
  for (let attempt = 1; attempt < MAX_MFA_ATTEMPTS; attempt++) {
    assert.equal(mfaView(await w.engine.submit(flow, { otp: wrong })).retry?.code, 'MFA_FAILED');
  }
  expectFailed(await w.engine.submit(flow, { otp: wrong }), 'MFA_TOO_MANY_ATTEMPTS', 8);
  assert.equal((await w.store.codes.latestForFlow(flow))?.attempts, MAX_MFA_ATTEMPTS);
  await assert.rejects(w.engine.submit(flow, { otp: await mailedCode(w, flow) }), /already failed/);
  assert.equal((await w.store.codes.latestForFlow(flow))?.usedAt, null, 'the code was never used');
});

test('the factor is removed while the flow waits for its code: MFA_NOT_ENROLLED (exit 8), not an internal error', async (t) => {
  const w = await world(t);
  const { secret } = await enrolTotp(adminOf(w.store, 'test'), w.alice);
  const view = mfaView(await w.toStep2());
  await w.store.factors.remove(w.alice.id);
  expectFailed(await w.engine.submit(view.flow, { otp: await totpCode(secret, w.now()) }), 'MFA_NOT_ENROLLED', 8);
  assert.deepEqual(await w.store.factors.forUser(w.alice.id), [], 'no factor comes back');
});

/** Submits `count` wrong codes, at most MAX_MFA_ATTEMPTS - 1 per flow (never the per-flow cap), over as many flows as it takes. */
async function wrongCodesAcrossFlows(
  w: World,
  count: number,
  wrong: () => Promise<string> | string,
): Promise<FlowView> {
  let last: FlowView | undefined;
  for (let sent = 0; sent < count; ) {
    const flow = mfaView(await w.toStep2()).flow;
    for (let i = 0; i < MAX_MFA_ATTEMPTS - 1 && sent < count; i++, sent++)
      last = await w.engine.submit(flow, { otp: await wrong() });
  }
  return last!;
}

async function lockEvents(w: World): Promise<string[]> {
  return (await w.store.events.list({ limit: 100 })).filter((e) => e.action === 'users.lock').map((e) => e.detail);
}

test(`TOTP brute force across flows: the ${LOCKOUT_AFTER_FAILURES}th wrong code in a row locks alice (USER_LOCKED, exit 7), with an audit event; the right code is then refused`, async (t) => {
  const w = await world(t);
  const { secret } = await enrolTotp(adminOf(w.store, 'test'), w.alice);
  const wrong = () => wrongCode(secret, w.now());
  const waiting = mfaView(await w.toStep2()); // a flow already at MFA when the account locks
  const before = await wrongCodesAcrossFlows(w, LOCKOUT_AFTER_FAILURES - 1, wrong);
  assert.equal(before.status, 'active', 'one short of the policy: still asking');
  const locked = expectFailed(await wrongCodesAcrossFlows(w, 1, wrong), 'USER_LOCKED', 7);
  assert.match(locked.error.message, /too many wrong MFA codes/);
  assert.doesNotMatch(locked.error.message, /alice/);
  assert.equal((await w.store.users.byId(w.alice.id))?.status, 'locked');
  assert.equal((await lockEvents(w)).length, 1);
  assert.match((await lockEvents(w))[0]!, /locked alice after 5 wrong MFA codes in a row across sign-ins/);
  expectFailed(await w.engine.submit(waiting.flow, { otp: await totpCode(secret, w.now()) }), 'USER_LOCKED', 7);
  expectFailed(await w.toStep2(), 'USER_LOCKED', 7);
});

test('a right code ends a run of wrong ones: wrong codes lock only when they come in a row', async (t) => {
  const w = await world(t);
  const { secret } = await enrolTotp(adminOf(w.store, 'test'), w.alice);
  await wrongCodesAcrossFlows(w, LOCKOUT_AFTER_FAILURES - 1, () => wrongCode(secret, w.now()));
  expectDone(await w.engine.submit(mfaView(await w.toStep2()).flow, { otp: await totpCode(secret, w.now()) }));
  w.advance(30_000);
  assert.equal(
    (await wrongCodesAcrossFlows(w, LOCKOUT_AFTER_FAILURES - 1, () => wrongCode(secret, w.now()))).status,
    'active',
  );
  assert.equal((await w.store.users.byId(w.alice.id))?.status, 'active');
});

test('email OTP brute force across flows locks the account the same way; the mailed code is then refused', async (t) => {
  const w = await world(t, 'email-otp');
  const waiting = mfaView(await w.toStep2());
  const locked = expectFailed(await wrongCodesAcrossFlows(w, LOCKOUT_AFTER_FAILURES, () => '000000'), 'USER_LOCKED', 7);
  assert.match(locked.error.message, /too many wrong MFA codes/);
  assert.equal((await w.store.users.byId(w.alice.id))?.status, 'locked');
  assert.equal((await lockEvents(w)).length, 1);
  expectFailed(await w.engine.submit(waiting.flow, { otp: await mailedCode(w, waiting.flow) }), 'USER_LOCKED', 7);
});

test('unlocking resets both counters: after an unlock it takes a full run of wrong codes (or passwords) to lock again', async (t) => {
  const w = await world(t);
  const { secret } = await enrolTotp(adminOf(w.store, 'test'), w.alice);
  const wrong = () => wrongCode(secret, w.now());
  expectFailed(await wrongCodesAcrossFlows(w, LOCKOUT_AFTER_FAILURES, wrong), 'USER_LOCKED', 7);
  const admin = adminOf(w.store, 'test');
  assert.equal((await setUser(admin, 'alice', { status: 'active' })).changed, true);
  assert.equal(
    (await wrongCodesAcrossFlows(w, LOCKOUT_AFTER_FAILURES - 1, wrong)).status,
    'active',
    'the MFA count started again at 0',
  );
  // An active account with failures counted: --unlock still resets them.
  const wrongPassword = async () => {
    const started = await w.engine.start('thrift');
    const chosen = await w.engine.submit(started.flow, { choose: 'password' });
    return w.engine.submit(chosen.flow, { credentials: { username: 'alice', password: 'not-her-password' } });
  };
  await wrongPassword();
  assert.equal((await w.store.users.passwordState(w.alice.id)).failedLogins, 1);
  assert.equal((await setUser(admin, 'alice', { status: 'active' })).changed, true, 'the counters were reset');
  assert.equal((await w.store.users.passwordState(w.alice.id)).failedLogins, 0);
  assert.equal(
    (await wrongCodesAcrossFlows(w, LOCKOUT_AFTER_FAILURES - 1, wrong)).status,
    'active',
    'the MFA count was reset too',
  );
  assert.equal((await w.store.users.byId(w.alice.id))?.status, 'active');
  assert.equal((await setUser(admin, 'alice', { status: 'active' })).changed, true);
  assert.equal((await setUser(admin, 'alice', { status: 'active' })).changed, false, 'nothing left to reset');
});
