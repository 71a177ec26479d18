// What `idp serve` keeps in the org's SQLite file and the broker rules on it, without HTTP: the provider's rows expire,
// are consumed and go with their grant; a pass-through person's attributes live only with the grant and reach only the
// app's attributes; a disabled, deleted or app-less session yields no claims; web TOTP enrolment needs the right code;
// a self-service session changes factors only soon after signing in.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { beginTotpEnrolment, enrolConfirmedTotp, pendingTotpEnrolment, removeFactors } from '../../src/app/account.js';
import { beginPasskeyEnrolment } from '../../src/app/passkeys.js';
import { brokeredSession, sessionClaims, sessionSatisfies, sessionStands } from '../../src/app/broker.js';
import type { FlowResult } from '../../src/flow/types.js';
import { totp } from '../../src/mfa/totp.js';
import { openStore, type SqliteStore } from '../../src/store/store.js';
import { demoHome } from '../helpers/login.js';
import { asyncRefusal } from '../helpers/refusals.js';

async function store(t: TestContext): Promise<SqliteStore> {
  const s = openStore(await demoHome());
  t.after(() => s.close());
  return s;
}

function result(overrides: Partial<FlowResult> & { claims: Record<string, unknown> }): FlowResult {
  return {
    app: 'thrift',
    user: null,
    passThrough: false,
    jit: null,
    amr: ['pwd'],
    acr: 'urn:idp:acr:sfa',
    idToken: 'not-used',
    redirectUri: null,
    ...overrides,
  };
}

test('provider rows: expired ones read as absent and are purged; consume marks, destroy removes, a revoked grant takes every row under it', async (t) => {
  const s = await store(t);
  const now = 1_000_000;
  await s.oidc.upsert('AccessToken', 'at1', { grantId: 'g1', jti: 'at1' }, now + 60, 'g1');
  await s.oidc.upsert('RefreshToken', 'rt1', { grantId: 'g1' }, now + 3600, 'g1');
  await s.oidc.upsert('AccessToken', 'at2', { grantId: 'g2' }, now + 60, 'g2');
  await s.oidc.upsert('Interaction', 'i1', { grantId: 'g1' }, now + 60);
  await s.oidc.upsert('Session', 's1', { uid: 'u1', accountId: 'a' }, now - 1);
  await s.oidc.upsert('Grant', 'g1', { accountId: 'a' }, null);

  assert.deepEqual(await s.oidc.find('AccessToken', 'at1', now), { grantId: 'g1', jti: 'at1' });
  assert.equal(await s.oidc.find('AccessToken', 'at1', now + 61), undefined, 'past its expiry a row reads as absent');
  assert.equal(
    await s.oidc.findByUid('Session', 'u1', now),
    undefined,
    'an expired session is not found by uid either',
  );
  assert.ok(await s.oidc.find('Grant', 'g1', now + 10 ** 9), 'a row without expiry never expires');

  assert.equal(await s.oidc.consume('RefreshToken', 'rt1', now), true);
  assert.equal((await s.oidc.find('RefreshToken', 'rt1', now))?.consumed, now);
  assert.equal(await s.oidc.consume('RefreshToken', 'rt1', now + 1), false, 'a second use loses');
  assert.equal((await s.oidc.find('RefreshToken', 'rt1', now))?.consumed, now, 'and leaves the first mark');

  await s.oidc.revokeByGrantId('g1');
  assert.equal(await s.oidc.find('AccessToken', 'at1', now), undefined);
  assert.equal(await s.oidc.find('RefreshToken', 'rt1', now), undefined);
  assert.ok(await s.oidc.find('AccessToken', 'at2', now), 'another grant keeps its tokens');
  assert.ok(await s.oidc.find('Interaction', 'i1', now), 'a row that only names the grant is not issued under it');

  assert.equal(await s.oidc.purgeExpired(now), 1, 'only the expired session goes');
  await s.oidc.destroy('AccessToken', 'at2');
  assert.equal(await s.oidc.find('AccessToken', 'at2', now), undefined);
});

test('a pass-through session keeps the upstream attributes with the grant, and an app sees only its own attributes of them', async (t) => {
  const s = await store(t);
  const users = await s.users.count();
  const session = brokeredSession(
    result({
      passThrough: true,
      amr: ['github'],
      claims: {
        sub: 'pt_abc',
        iss: 'x',
        aud: 'y',
        idp: 'github',
        pass_through: true,
        email: 'octo@example.com',
        name: 'Octo Cat',
        username: 'octocat',
      },
    }),
  );
  assert.equal(session.accountId, 'pt_abc');
  assert.deepEqual(session.kept, {
    idp: 'github',
    amr: ['github'],
    passThrough: true,
    attributes: { email: 'octo@example.com', name: 'Octo Cat', username: 'octocat' },
  });

  const thrift = (await s.apps.get('thrift'))!;
  await s.apps.update('thrift', { attributes: ['email'] });
  const claims = await sessionClaims(s, thrift.clientId, session.accountId, session.kept);
  assert.deepEqual(claims, { email: 'octo@example.com', sub: 'pt_abc', idp: 'github', pass_through: true });
  assert.equal(await s.users.count(), users, 'no user row for a pass-through person');
});

test("a local session's claims are the user's current attributes; a locked or deleted user, or a deleted app, gets none", async (t) => {
  const s = await store(t);
  const alice = (await s.users.find('alice'))!;
  const thrift = (await s.apps.get('thrift'))!;
  const session = brokeredSession(
    result({ user: { id: alice.id, username: 'alice' }, claims: { sub: alice.id, idp: 'LOCAL' } }),
  );
  assert.deepEqual(
    session.kept,
    { idp: 'LOCAL', amr: ['pwd'], passThrough: false, attributes: {} },
    'nothing of a local user is copied',
  );

  const claims = await sessionClaims(s, thrift.clientId, alice.id, session.kept);
  assert.equal(claims?.username, 'alice');
  assert.equal(claims?.preferred_username, 'alice', 'preferred_username beside username, as OIDC SDKs read it');
  assert.equal(claims?.email, 'alice@example.com');
  assert.equal(claims?.idp, 'LOCAL');
  assert.equal(claims?.pass_through, undefined);

  await s.users.updateProfile(alice.id, { name: 'Alice Renamed' });
  assert.equal((await sessionClaims(s, thrift.clientId, alice.id, session.kept))?.name, 'Alice Renamed', 'read fresh');

  await s.users.setStatus(alice.id, 'locked');
  assert.equal(await sessionClaims(s, thrift.clientId, alice.id, session.kept), undefined);
  assert.equal(await sessionStands(s, alice.id), false, 'a locked user cannot go on to another app');
  await s.users.setStatus(alice.id, 'active');
  assert.equal(await sessionStands(s, alice.id), true);

  assert.equal(await sessionClaims(s, 'no-such-client', alice.id, session.kept), undefined, 'an app deleted since');
  assert.equal(
    await sessionClaims(s, thrift.clientId, 'no-such-user', session.kept),
    undefined,
    'a user deleted since',
  );
});

test('My Account on the web enrols TOTP only with a current code for the secret it showed, kept sealed meanwhile, once', async (t) => {
  const s = await store(t);
  const alice = (await s.users.find('alice'))!;
  const admin = { store: s, actor: 'alice' };
  const nothing = await asyncRefusal(enrolConfirmedTotp(admin, totp, alice, '123456'));
  assert.match(nothing.message, /expired/, 'no enrolment was begun');

  const { secret, uri } = await beginTotpEnrolment(s, totp, alice);
  assert.match(uri, /^otpauth:\/\/totp\//);
  assert.deepEqual(await pendingTotpEnrolment(s, totp, alice), { secret, uri });
  assert.doesNotMatch(
    JSON.stringify(await s.oidc.find('PendingTotp', alice.id, 0)),
    new RegExp(secret),
    'sealed while pending',
  );

  const wrong = await asyncRefusal(enrolConfirmedTotp(admin, totp, alice, '000000'));
  assert.equal(wrong.code, 'MFA_FAILED');
  assert.equal(await s.factors.totpFor(alice.id), undefined, 'nothing stored for a wrong code');
  assert.ok(await pendingTotpEnrolment(s, totp, alice), 'a wrong code leaves the enrolment pending');

  const factor = await enrolConfirmedTotp(admin, totp, alice, await totp.code(secret, s.clock()));
  assert.equal((await s.factors.totpFor(alice.id))?.id, factor);
  assert.notEqual((await s.factors.totpFor(alice.id))?.secretSealed, secret, 'sealed at rest');
  assert.equal(await pendingTotpEnrolment(s, totp, alice), undefined, 'the pending secret is gone once enrolled');
  assert.equal(
    (await asyncRefusal(Promise.resolve().then(async () => beginTotpEnrolment(s, totp, alice)))).code,
    'USAGE',
  );
});

test('single sign-on into another app only when the session passed every step that app asks for, through its options', async (t) => {
  const s = await store(t);
  const shop = async (steps: string[][], script: string | null = null) => ({
    ...(await s.apps.get('thrift'))!,
    steps,
    script,
  });
  const github = { idp: 'github', amr: ['fed'], passThrough: false, attributes: {} };
  const password = { idp: 'LOCAL', amr: ['pwd'], passThrough: false, attributes: {} };
  assert.equal(await sessionSatisfies(s, await shop([['password', 'github']]), github), true);
  assert.equal(await sessionSatisfies(s, await shop([['password', 'github']]), password), true);
  assert.equal(
    await sessionSatisfies(s, await shop([['password']]), github),
    false,
    'an option the app does not offer',
  );
  assert.equal(await sessionSatisfies(s, await shop([['github']]), password), false);
  assert.equal(
    await sessionSatisfies(s, await shop([['github'], ['totp']]), github),
    false,
    'a step the session never passed',
  );
  assert.equal(await sessionSatisfies(s, await shop([['github'], ['totp']]), { ...github, amr: ['fed', 'otp'] }), true);
  assert.equal(
    await sessionSatisfies(s, await shop([['github']], 'var onLoginRequest = function () {};'), github),
    false,
    'a script decides per sign-in',
  );
});

test('single sign-on into a passwordless passkey step needs a session whose passkey verified the user', async (t) => {
  const s = await store(t);
  const shop = async (steps: string[][]) => ({ ...(await s.apps.get('thrift'))!, steps, script: null });
  const session = (amr: string[]) => ({ idp: 'LOCAL', amr, passThrough: false, attributes: {} });
  const passwordless = await shop([['passkey']]);
  assert.equal(await sessionSatisfies(s, passwordless, session(['hwk', 'user'])), true);
  assert.equal(await sessionSatisfies(s, passwordless, session(['swk', 'user'])), true, "a sandbox's software key");
  assert.equal(
    await sessionSatisfies(s, passwordless, session(['pwd', 'hwk'])),
    false,
    'a second-factor passkey without user verification',
  );
  assert.equal(await sessionSatisfies(s, await shop([['password'], ['passkey']]), session(['pwd', 'hwk'])), true);
  assert.equal(await sessionSatisfies(s, await shop([['password'], ['passkey']]), session(['pwd', 'swk'])), true);
});

test('a self-service session adds or removes factors only within 5 minutes of signing in; an admin needs no session', async (t) => {
  const home = await demoHome();
  let at = new Date('2026-12-01T10:00:00Z');
  const s = openStore(home, { clock: () => at });
  t.after(() => s.close());
  const alice = (await s.users.find('alice'))!;
  const signedIn = { userId: alice.id, signedInAt: Math.floor(at.getTime() / 1000), amr: ['pwd'] };
  const admin = {
    store: s,
    actor: 'alice',
    passkeys: (await import('../../src/webauthn/verifier.js')).passkeyVerifier,
  };

  at = new Date(at.getTime() + 5 * 60_000);
  const { secret } = await beginTotpEnrolment(s, totp, alice, signedIn);
  await enrolConfirmedTotp(admin, totp, alice, await totp.code(secret, s.clock()));
  const factor = (await s.factors.totpFor(alice.id))!.id;

  at = new Date(at.getTime() + 1000);
  const stale = (fn: () => unknown) => asyncRefusal(Promise.resolve().then(fn));
  assert.equal((await stale(async () => removeFactors(admin, alice, factor, signedIn))).code, 'SIGN_IN_TOO_OLD');
  assert.ok(await s.factors.totpFor(alice.id), 'nothing removed');
  const passkey = beginPasskeyEnrolment(admin, alice.id, { origin: 'http://localhost:8788', session: signedIn });
  assert.equal((await asyncRefusal(passkey)).code, 'SIGN_IN_TOO_OLD');
  assert.equal(await removeFactors(admin, alice, factor), 1, 'an admin command has no session to age');
  assert.equal((await stale(async () => beginTotpEnrolment(s, totp, alice, signedIn))).code, 'SIGN_IN_TOO_OLD');
});
