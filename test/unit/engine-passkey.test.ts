// The passkey step of the login engine on in-memory fakes of the store and upstreams, with the real WebAuthn
// verifier answered by idp's software authenticator: enrolment during a sign-in, second factor, passwordless step 1,
// the fallback to another option, and every refusal (origin, replayed or spent challenge, another user's key, a
// counter that went back, an expired challenge, a locked account, a pass-through user).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashPassword } from '../../src/core/password.js';
import { FlowEngine } from '../../src/flow/engine.js';
import type { FlowView } from '../../src/flow/types.js';
import type { PublicKeyCredentialRequestOptionsJSON } from '../../src/ports.js';
import { passkeyVerifier } from '../../src/webauthn/verifier.js';
import { softwareAssertion, softwareRegistration, type SoftwareKey } from '../../src/webauthn/software.js';
import { fakeApp, fakeConnection, fakeDeps, FakeStore, FakeUpstreams } from '../helpers/fake-ports.js';

const ORIGIN = 'http://localhost:8788';
const PASSWORD = 'correct horse';
const REDIRECT = 'http://127.0.0.1:4567/callback';

async function world(steps: string[][], opts: { jit?: boolean } = {}) {
  const store = new FakeStore();
  const upstreams = new FakeUpstreams();
  store.appMap.set('shop', fakeApp('shop', steps));
  store.connectionMap.set('github', fakeConnection('github', { enabled: opts.jit ?? true }));
  const passwordHash = await hashPassword(PASSWORD);
  for (const username of ['alice', 'bob'])
    store.addUser({ username, email: `${username}@example.com`, emailVerified: true, passwordHash, source: 'local' });
  return { store, engine: new FlowEngine(fakeDeps(store, upstreams)) };
}

type World = Awaited<ReturnType<typeof world>>;

async function userId(w: World, username: string): Promise<string> {
  return (await w.store.users.find(username))!.id;
}

/** A passkey for `username` registered as My Account or the CLI would: through the verifier, then stored. */
async function registered(w: World, username: string): Promise<SoftwareKey> {
  const user = (await w.store.users.find(username))!;
  const options = await passkeyVerifier.registrationOptions({
    rpId: 'localhost',
    rpName: 'fake',
    user: { id: user.id, name: user.username, displayName: user.username },
    exclude: [],
    timeoutMs: 60_000,
  });
  const { response, key } = softwareRegistration(options, ORIGIN);
  const checked = await passkeyVerifier.verifyRegistration(response, {
    challenge: options.challenge,
    origin: ORIGIN,
    rpId: 'localhost',
    requireUserVerification: false,
  });
  assert.ok(checked.ok, JSON.stringify(checked));
  const { userVerified: _, ...credential } = checked.value;
  await w.store.passkeys.add(user.id, { ...credential, name: `${username}'s key`, software: true });
  return key;
}

function waiting<K extends string>(view: FlowView, kind: K): Extract<FlowView, { waiting: K }> {
  assert.equal(view.status, 'active', JSON.stringify(view));
  assert.equal((view as { waiting: string }).waiting, kind, JSON.stringify(view));
  return view as Extract<FlowView, { waiting: K }>;
}

function failed(view: FlowView, code: string): Extract<FlowView, { status: 'failed' }> {
  assert.equal(view.status, 'failed', JSON.stringify(view));
  assert.equal((view as Extract<FlowView, { status: 'failed' }>).error.code, code, JSON.stringify(view));
  return view as Extract<FlowView, { status: 'failed' }>;
}

function done(view: FlowView): Extract<FlowView, { status: 'done' }> {
  assert.equal(view.status, 'done', JSON.stringify(view));
  return view as Extract<FlowView, { status: 'done' }>;
}

/** Step 1 with alice's password; returns the passkey view of step 2. */
async function toPasskeyStep(w: World, username = 'alice'): Promise<Extract<FlowView, { waiting: 'passkey' }>> {
  const start = await w.engine.start('shop');
  await w.engine.submit(start.flow, { choose: 'password' });
  const next = await w.engine.submit(start.flow, { credentials: { username, password: PASSWORD } });
  return waiting(next, 'passkey');
}

function assertion(
  key: SoftwareKey,
  view: Extract<FlowView, { waiting: 'passkey' }>,
  counter?: number,
  userVerified?: boolean,
) {
  return softwareAssertion(key, view.options as PublicKeyCredentialRequestOptionsJSON, ORIGIN, {
    counter,
    userVerified,
  });
}

test('a user without a passkey enrols one in step 2, and signs in with it next time: amr swk (a software key) and user', async () => {
  const w = await world([['password'], ['passkey']]);
  const enrol = await toPasskeyStep(w);
  assert.equal(enrol.mode, 'enrol');
  assert.deepEqual(enrol.alternatives, []);
  const { response, key } = softwareRegistration(enrol.options as Parameters<typeof softwareRegistration>[0], ORIGIN);
  const first = done(await w.engine.submit(enrol.flow, { passkey: { response, origin: ORIGIN, name: 'Laptop' } }));
  assert.deepEqual(first.result.amr, ['pwd', 'swk', 'user']);
  const [stored] = await w.store.passkeys.forUser(await userId(w, 'alice'));
  assert.equal(stored?.name, 'Laptop');
  assert.equal(stored?.software, true, "the software authenticator's passkey is known by its AAGUID, whoever made it");

  const view = await toPasskeyStep(w);
  assert.equal(view.mode, 'authenticate');
  const options = view.options as PublicKeyCredentialRequestOptionsJSON;
  assert.deepEqual(
    options.allowCredentials?.map((c) => c.id),
    [stored!.credentialId],
  );
  assert.equal(options.userVerification, 'preferred');
  assert.equal(options.rpId, 'localhost');
  const second = done(
    await w.engine.submit(view.flow, { passkey: { response: assertion(key, view), origin: ORIGIN } }),
  );
  assert.deepEqual(second.result.amr, ['pwd', 'swk', 'user']);
  assert.equal(second.result.acr, 'urn:idp:acr:mfa');
  const detail = w.store.stages.filter((s) => s.stage === 'mfa' && s.status === 'ok').map((s) => s.detail);
  assert.match(detail[0]!, /^passkey "Laptop" enrolled and verified for alice/);
  assert.match(
    detail[1]!,
    /^passkey "Laptop" verified for alice \(second factor, user verified; software authenticator/,
  );
});

test('passwordless step 1: discoverable options with user verification required; the passkey names the user', async () => {
  const w = await world([['passkey', 'password']]);
  const key = await registered(w, 'bob');
  const choose = waiting(await w.engine.start('shop'), 'choose');
  const view = waiting(await w.engine.submit(choose.flow, { choose: 'passkey' }), 'passkey');
  const options = view.options as PublicKeyCredentialRequestOptionsJSON;
  assert.equal(options.allowCredentials, undefined, 'no allow list: the authenticator offers what it holds');
  assert.equal(options.userVerification, 'required');
  assert.deepEqual(view.alternatives, ['password']);
  const result = done(
    await w.engine.submit(view.flow, { passkey: { response: assertion(key, view), origin: ORIGIN } }),
  );
  assert.equal(result.result.user?.username, 'bob');
  assert.deepEqual(result.result.amr, ['swk', 'user']);
  assert.equal(
    result.result.acr,
    'urn:idp:acr:mfa',
    'a key and the user verified on the device: two factors in one step',
  );
  assert.match(w.store.stages.at(-2)!.detail, /software authenticator: a testing aid/);
});

test('a passkey that signed in step 1 does not count again in step 2: that step refuses it and offers its other options', async () => {
  const w = await world([
    ['passkey', 'password'],
    ['passkey', 'totp'],
  ]);
  const key = await registered(w, 'bob');
  const choose = waiting(await w.engine.start('shop'), 'choose');
  const first = waiting(await w.engine.submit(choose.flow, { choose: 'passkey' }), 'passkey');
  const second = waiting(
    await w.engine.submit(first.flow, { passkey: { response: assertion(key, first), origin: ORIGIN } }),
    'choose',
  );
  const again = await w.engine.submit(second.flow, { choose: 'passkey' });
  assert.equal(again.status, 'active');
  assert.equal((again as { waiting: string }).waiting, 'choose', 'still choosing in step 2');
  assert.equal((again as { retry?: { code: string } }).retry?.code, 'MFA_MISCONFIGURED');
});

test('user verification is required for passwordless sign-in, and only preferred for a second factor (amr swk alone)', async () => {
  const w = await world([['passkey', 'password']]);
  const key = await registered(w, 'alice');
  const start = await w.engine.start('shop');
  const first = waiting(await w.engine.submit(start.flow, { choose: 'passkey' }), 'passkey');
  const refused = waiting(
    await w.engine.submit(first.flow, { passkey: { response: assertion(key, first, 0, false), origin: ORIGIN } }),
    'passkey',
  );
  assert.match(refused.retry!.message, /user verification/i);
  const result = done(
    await w.engine.submit(first.flow, { passkey: { response: assertion(key, refused), origin: ORIGIN } }),
  );
  assert.deepEqual(result.result.amr, ['swk', 'user'], 'step 1 verified the user');

  const w2 = await world([['password'], ['passkey']]);
  const key2 = await registered(w2, 'alice');
  const view = await toPasskeyStep(w2);
  const mfa = done(
    await w2.engine.submit(view.flow, { passkey: { response: assertion(key2, view, 0, false), origin: ORIGIN } }),
  );
  assert.deepEqual(mfa.result.amr, ['pwd', 'swk'], 'no user verification: no `user`');
});

test('the passkey view falls back to another option of the same step', async () => {
  const w = await world([['password'], ['totp', 'passkey']]);
  const start = await w.engine.start('shop');
  await w.engine.submit(start.flow, { choose: 'password' });
  const choose = waiting(
    await w.engine.submit(start.flow, { credentials: { username: 'alice', password: PASSWORD } }),
    'choose',
  );
  const view = waiting(await w.engine.submit(choose.flow, { choose: 'passkey' }), 'passkey');
  assert.deepEqual(view.alternatives, ['totp']);
  const totp = waiting(await w.engine.submit(view.flow, { choose: 'totp' }), 'mfa');
  assert.equal(totp.method, 'totp');
  done(await w.engine.submit(view.flow, { otp: '123456' }));
});

test('choosing the passkey again from its own view is refused: it would reset the per-flow attempt cap', async () => {
  const w = await world([['passkey', 'password']]);
  const start = await w.engine.start('shop');
  const view = waiting(await w.engine.submit(start.flow, { choose: 'passkey' }), 'passkey');
  const garbage = { id: 'x', rawId: 'x', type: 'public-key', response: {} };
  waiting(await w.engine.submit(view.flow, { passkey: { response: garbage, origin: ORIGIN } }), 'passkey');
  const again = failed(await w.engine.submit(view.flow, { choose: 'passkey' }), 'USAGE');
  assert.match(again.error.message, /already waiting for a passkey/);
});

test('an assertion for another origin is refused: a retry with a fresh challenge, counted against the user', async () => {
  const w = await world([['password'], ['passkey']]);
  const key = await registered(w, 'alice');
  const view = await toPasskeyStep(w);
  const wrong = softwareAssertion(key, view.options as PublicKeyCredentialRequestOptionsJSON, 'http://localhost:9999');
  const retry = waiting(await w.engine.submit(view.flow, { passkey: { response: wrong, origin: ORIGIN } }), 'passkey');
  assert.equal(retry.retry?.code, 'MFA_FAILED');
  assert.match(retry.retry!.message, /origin/);
  assert.notEqual(retry.options.challenge, view.options.challenge, 'a fresh challenge');
  assert.equal(w.store.userMap.get(await userId(w, 'alice'))!.mfaFailures, 1);
  // The driver's origin is checked too: a page on another origin answering with this one's response is refused.
  const lied = waiting(
    await w.engine.submit(view.flow, {
      passkey: { response: assertion(key, retry), origin: 'http://localhost:9999' },
    }),
    'passkey',
  );
  assert.match(lied.retry!.message, /origin/);
  done(await w.engine.submit(view.flow, { passkey: { response: assertion(key, lied), origin: ORIGIN } }));
  assert.equal(w.store.userMap.get(await userId(w, 'alice'))!.mfaFailures, 0);
});

test('a challenge is single use: an answer to a spent challenge, and one replayed in another sign-in, are refused', async () => {
  const w = await world([['password'], ['passkey']]);
  const key = await registered(w, 'alice');
  const view = await toPasskeyStep(w);
  const good = assertion(key, view);
  const garbage = { id: 'x', rawId: 'x', type: 'public-key', response: {} };
  const retry = waiting(
    await w.engine.submit(view.flow, { passkey: { response: garbage, origin: ORIGIN } }),
    'passkey',
  );
  const late = waiting(await w.engine.submit(view.flow, { passkey: { response: good, origin: ORIGIN } }), 'passkey');
  assert.match(late.retry!.message, /challenge/, 'the first challenge was spent by the refused answer');
  assert.notEqual(late.options.challenge, retry.options.challenge);

  const other = await toPasskeyStep(w);
  const fresh = assertion(key, other);
  done(await w.engine.submit(other.flow, { passkey: { response: fresh, origin: ORIGIN } }));
  const third = await toPasskeyStep(w);
  const replayed = waiting(
    await w.engine.submit(third.flow, { passkey: { response: fresh, origin: ORIGIN } }),
    'passkey',
  );
  assert.match(replayed.retry!.message, /challenge/);
  // The same assertion posted twice to its own flow: the flow has finished, so it is refused too.
  await assert.rejects(w.engine.submit(other.flow, { passkey: { response: fresh, origin: ORIGIN } }), {
    code: 'FLOW_FINISHED',
  });
});

test("an assertion with another user's passkey is refused in step 2, and counts against the signed-in user", async () => {
  const w = await world([['password'], ['passkey']]);
  await registered(w, 'alice');
  const bobs = await registered(w, 'bob');
  const view = await toPasskeyStep(w, 'alice');
  const retry = waiting(
    await w.engine.submit(view.flow, { passkey: { response: assertion(bobs, view), origin: ORIGIN } }),
    'passkey',
  );
  assert.match(retry.retry!.message, /not registered for this account/);
  assert.equal(w.store.userMap.get(await userId(w, 'alice'))!.mfaFailures, 1);
  assert.equal(w.store.userMap.get(await userId(w, 'bob'))!.mfaFailures, 0);
});

test('a signature counter that goes backwards fails the sign-in with a clone warning: a failed stage and an audit event', async () => {
  const w = await world([['password'], ['passkey']]);
  const key = await registered(w, 'alice');
  const first = await toPasskeyStep(w);
  done(await w.engine.submit(first.flow, { passkey: { response: assertion(key, first, 7), origin: ORIGIN } }));
  assert.equal((await w.store.passkeys.forUser(await userId(w, 'alice')))[0]?.counter, 7);
  const second = await toPasskeyStep(w);
  const view = failed(
    await w.engine.submit(second.flow, { passkey: { response: assertion(key, second, 3), origin: ORIGIN } }),
    'MFA_FAILED',
  );
  assert.match(view.error.message, /counter went from 7 to 3.*cloned/);
  assert.deepEqual(
    w.store.stages
      .filter((s) => s.flow === second.flow)
      .map((s) => `${s.stage}:${s.status}`)
      .at(-1),
    'mfa:failed',
  );
  const warning = w.store.changes.find((c) => c.action === 'passkey.clone-warning');
  assert.ok(warning, 'an audit event');
  assert.match(warning.detail, /counter 3, not above 7/);
  assert.equal((await w.store.passkeys.forUser(await userId(w, 'alice')))[0]?.counter, 7, 'the stored counter stays');
});

test('counters of 0 on both sides pass (authenticators that keep none)', async () => {
  const w = await world([['password'], ['passkey']]);
  const key = await registered(w, 'alice');
  for (let i = 0; i < 2; i++) {
    const view = await toPasskeyStep(w);
    done(await w.engine.submit(view.flow, { passkey: { response: assertion(key, view, 0), origin: ORIGIN } }));
  }
});

test('an expired challenge is refused with a fresh one', async () => {
  const w = await world([['password'], ['passkey']]);
  const key = await registered(w, 'alice');
  const view = await toPasskeyStep(w);
  // The fake store's clock stands at 2026-01-01T00:00:00Z; a challenge lives 5 minutes.
  Object.assign(w.store, { clock: () => new Date('2026-01-01T00:06:00Z') });
  const retry = waiting(
    await w.engine.submit(view.flow, { passkey: { response: assertion(key, view), origin: ORIGIN } }),
    'passkey',
  );
  assert.match(retry.retry!.message, /expired/);
});

test('a locked user is refused at a passwordless passkey step, even with a good assertion', async () => {
  const w = await world([['passkey']]);
  const key = await registered(w, 'alice');
  await w.store.users.setStatus(await userId(w, 'alice'), 'locked');
  const start = await w.engine.start('shop');
  const view = waiting(await w.engine.submit(start.flow, { choose: 'passkey' }), 'passkey');
  failed(
    await w.engine.submit(view.flow, { passkey: { response: assertion(key, view), origin: ORIGIN } }),
    'USER_LOCKED',
  );
});

test('wrong passkey answers count toward the MFA lockout, as wrong codes do', async () => {
  const w = await world([['password'], ['passkey']]);
  await registered(w, 'alice');
  w.store.userMap.get(await userId(w, 'alice'))!.mfaFailures = 4;
  const view = await toPasskeyStep(w);
  const garbage = { id: 'x', rawId: 'x', type: 'public-key', response: {} };
  failed(await w.engine.submit(view.flow, { passkey: { response: garbage, origin: ORIGIN } }), 'USER_LOCKED');
  assert.equal(w.store.userMap.get(await userId(w, 'alice'))!.status, 'locked');
});

test('a pass-through user (JIT off) reaching a passkey step fails with MFA_NEEDS_LOCAL_USER and both fixes', async () => {
  const w = await world([['github'], ['passkey']], { jit: false });
  const start = await w.engine.start('shop');
  waiting(await w.engine.submit(start.flow, { choose: 'github', redirectUri: REDIRECT }), 'redirect');
  const view = failed(
    await w.engine.submit(start.flow, { callback: `${REDIRECT}?code=c&state=good-state` }),
    'MFA_NEEDS_LOCAL_USER',
  );
  assert.equal(view.jit?.decision, 'pass-through');
  const fixes = JSON.stringify(view.error.hint);
  assert.match(fixes, /"setting":"jit"/);
  assert.match(fixes, /skip-mfa-for-federated/);
});

/** Step 1 with alice's password in a step offering several second factors: the choice. */
async function toChoice(w: World): Promise<Extract<FlowView, { waiting: 'choose' }>> {
  const start = await w.engine.start('shop');
  await w.engine.submit(start.flow, { choose: 'password' });
  return waiting(
    await w.engine.submit(start.flow, { credentials: { username: 'alice', password: PASSWORD } }),
    'choose',
  );
}

async function holdTotp(w: World, username: string): Promise<void> {
  await w.store.factors.addTotp(await userId(w, username), w.store.seal('JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP'), null);
}

test('a password alone cannot enrol a passkey for a user who holds TOTP: a retry naming totp, nothing enrolled', async () => {
  const w = await world([['password'], ['totp', 'passkey']]);
  await holdTotp(w, 'alice');
  const choose = await toChoice(w);
  const refused = waiting(await w.engine.submit(choose.flow, { choose: 'passkey' }), 'choose');
  assert.equal(refused.retry?.code, 'MFA_NOT_ENROLLED');
  assert.match(refused.retry!.message, /no second factor yet \(it holds totp\)/);
  assert.match(String(refused.retry!.hint), /use totp/);
  assert.deepEqual(await w.store.passkeys.forUser(await userId(w, 'alice')), []);
  const totp = waiting(await w.engine.submit(choose.flow, { choose: 'totp' }), 'mfa');
  assert.equal(totp.enrol, undefined, 'her own TOTP is checked');
});

test('a password alone cannot enrol TOTP for a user who holds a passkey: the passkey view stays, with the refusal', async () => {
  const w = await world([['password'], ['totp', 'passkey']]);
  const key = await registered(w, 'alice');
  const view = waiting(await w.engine.submit((await toChoice(w)).flow, { choose: 'passkey' }), 'passkey');
  const refused = waiting(await w.engine.submit(view.flow, { choose: 'totp' }), 'passkey');
  assert.equal(refused.retry?.code, 'MFA_NOT_ENROLLED');
  assert.match(refused.retry!.message, /holds passkey/);
  assert.equal(refused.options.challenge, view.options.challenge, 'the same challenge: no fresh attempts');
  assert.equal(await w.store.factors.totpFor(await userId(w, 'alice')), undefined);
  done(await w.engine.submit(view.flow, { passkey: { response: assertion(key, refused), origin: ORIGIN } }));
});

test('a step whose only option the user would have to enrol, while holding another factor, fails MFA_NOT_ENROLLED', async () => {
  const w = await world([['password'], ['passkey']]);
  await holdTotp(w, 'alice');
  const start = await w.engine.start('shop');
  await w.engine.submit(start.flow, { choose: 'password' });
  const view = failed(
    await w.engine.submit(start.flow, { credentials: { username: 'alice', password: PASSWORD } }),
    'MFA_NOT_ENROLLED',
  );
  assert.match(String(view.error.hint), /does not offer totp/);
});

test('an enrolment is checked again when its answer arrives: a factor enrolled elsewhere meanwhile refuses it', async () => {
  const w = await world([['password'], ['totp', 'passkey']]);
  const enrol = waiting(await w.engine.submit((await toChoice(w)).flow, { choose: 'passkey' }), 'passkey');
  assert.equal(enrol.mode, 'enrol');
  const mine = await registered(w, 'alice'); // alice enrols in My Account while the other sign-in waits
  const { response } = softwareRegistration(enrol.options as Parameters<typeof softwareRegistration>[0], ORIGIN);
  const refused = waiting(await w.engine.submit(enrol.flow, { passkey: { response, origin: ORIGIN } }), 'choose');
  assert.equal(refused.retry?.code, 'MFA_NOT_ENROLLED');
  assert.equal((await w.store.passkeys.forUser(await userId(w, 'alice'))).length, 1, 'only her own passkey');
  const view = waiting(await w.engine.submit(enrol.flow, { choose: 'passkey' }), 'passkey');
  assert.equal(view.mode, 'authenticate');
  done(await w.engine.submit(view.flow, { passkey: { response: assertion(mine, view), origin: ORIGIN } }));

  const t = await world([['password'], ['totp', 'passkey']]);
  const totp = waiting(await t.engine.submit((await toChoice(t)).flow, { choose: 'totp' }), 'mfa');
  assert.ok(totp.enrol);
  await registered(t, 'alice');
  const again = waiting(await t.engine.submit(totp.flow, { otp: '123456' }), 'choose');
  assert.equal(again.retry?.code, 'MFA_NOT_ENROLLED');
  assert.equal(await t.store.factors.totpFor(await userId(t, 'alice')), undefined);
});

test('passwordless: refused assertions naming a credential id count per flow, never toward its owner lockout', async () => {
  const w = await world([['passkey']]);
  const key = await registered(w, 'alice');
  for (let round = 0; round < 3; round++) {
    const start = await w.engine.start('shop');
    let view: FlowView = waiting(await w.engine.submit(start.flow, { choose: 'passkey' }), 'passkey');
    for (let i = 0; i < 3 && view.status === 'active'; i++) {
      const forged = assertion(key, view as Extract<FlowView, { waiting: 'passkey' }>);
      forged.response.signature = Buffer.from('not a signature').toString('base64url');
      view = await w.engine.submit(start.flow, { passkey: { response: forged, origin: ORIGIN } });
    }
    failed(view, 'MFA_TOO_MANY_ATTEMPTS');
  }
  const alice = w.store.userMap.get(await userId(w, 'alice'))!;
  assert.equal(alice.status, 'active');
  assert.equal(alice.mfaFailures, 0);
});

/** The world with a real (non-sandbox) connection beside the sandbox one. */
function withRealConnection(w: World): void {
  w.store.connectionMap.set('corp', { ...fakeConnection('corp'), sandbox: false });
}

test('a software passkey is refused at sign-in where the organisation has a real connection, flagged or by AAGUID', async () => {
  const w = await world([['passkey', 'password']]);
  const key = await registered(w, 'alice');
  const stored = (await w.store.passkeys.forUser(await userId(w, 'alice')))[0]!;
  stored.software = false; // as a page stores the software authenticator's key: only its AAGUID tells
  withRealConnection(w);
  const start = await w.engine.start('shop');
  const view = waiting(await w.engine.submit(start.flow, { choose: 'passkey' }), 'passkey');
  const refused = waiting(
    await w.engine.submit(view.flow, { passkey: { response: assertion(key, view), origin: ORIGIN } }),
    'passkey',
  );
  assert.match(refused.retry!.message, /software passkey is a testing aid.*real connections \(corp\)/);

  const e = await world([['password'], ['passkey']]);
  withRealConnection(e);
  const enrol = await toPasskeyStep(e);
  const { response } = softwareRegistration(enrol.options as Parameters<typeof softwareRegistration>[0], ORIGIN);
  const no = waiting(await e.engine.submit(enrol.flow, { passkey: { response, origin: ORIGIN } }), 'passkey');
  assert.match(no.retry!.message, /testing aid/);
  assert.deepEqual(await e.store.passkeys.forUser(await userId(e, 'alice')), [], 'not enrolled');
});

test('a bad passkey name at enrolment is a retry with a fresh challenge, before anything is verified', async () => {
  const w = await world([['password'], ['passkey']]);
  const enrol = await toPasskeyStep(w);
  const { response } = softwareRegistration(enrol.options as Parameters<typeof softwareRegistration>[0], ORIGIN);
  const retry = waiting(
    await w.engine.submit(enrol.flow, { passkey: { response, origin: ORIGIN, name: 'x'.repeat(65) } }),
    'passkey',
  );
  assert.match(retry.retry!.message, /passkey name must be 1 to 64/);
  assert.notEqual(retry.options.challenge, enrol.options.challenge);
  assert.equal(w.store.userMap.get(await userId(w, 'alice'))!.mfaFailures, 0, 'a typing slip is no wrong factor');
  const again = softwareRegistration(retry.options as Parameters<typeof softwareRegistration>[0], ORIGIN);
  done(await w.engine.submit(enrol.flow, { passkey: { response: again.response, origin: ORIGIN, name: 'Laptop' } }));
  assert.equal((await w.store.passkeys.forUser(await userId(w, 'alice')))[0]?.name, 'Laptop');
});
