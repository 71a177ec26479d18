// My Account's sign-in for a user who holds a second factor, over real HTTP against `idp serve`: a password alone no
// longer opens it (it asks for the user's passkey or TOTP, answered here by the software authenticator and a computed
// code), and a session whose sign-in used no factor adds or removes none once a factor exists: it is sent to sign in
// again (prompt=login), which asks for the factor. A user's first factor still needs only a recent password sign-in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { totp } from '../../src/mfa/totp.js';
import type { PublicKeyCredentialRequestOptionsJSON } from '../../src/ports.js';
import { unescapeHtml } from '../../src/sandbox/pages.js';
import { decodeSoftwareKey, softwareAssertion, softwareRegistration } from '../../src/webauthn/software.js';
import { idpJson, seededHome } from '../helpers/idp.js';
import { startServe } from '../helpers/serve.js';
import { UserAgent, viaPassword, type Answer } from '../helpers/user-agent.js';

const OPTIONS = /<script type="application\/json" id="passkey-options">([^<]*)<\/script>/;

/** Answers the password page, then whichever factor page follows (each page noted in `seen`). */
function viaPasswordAnd(factor: { key?: string; code?: string; origin: string }, seen: string[]): Answer {
  const password = viaPassword('alice', 'thrift-demo');
  return (form, page) => {
    const options = OPTIONS.exec(page.html)?.[1];
    if (options && factor.key) {
      seen.push('passkey');
      const asked = JSON.parse(options) as PublicKeyCredentialRequestOptionsJSON;
      return { response: JSON.stringify(softwareAssertion(decodeSoftwareKey(factor.key), asked, factor.origin)) };
    }
    if (form.fields.includes('code') && factor.code) {
      seen.push('totp');
      return { code: factor.code };
    }
    if (form.fields.includes('password')) seen.push('password');
    return password(form, page);
  };
}

/** Follows `from` (My Account, or its redirect to sign in again) to the page My Account lands on. */
async function signIn(ua: UserAgent, base: string, answer: Answer, from = `${base}/myaccount`): Promise<Response> {
  const callback = await ua.authorize(from, `${base}/myaccount/callback`, answer);
  const landed = await ua.send(callback);
  assert.equal(landed.status, 303, await landed.clone().text());
  return ua.send(new URL(landed.headers.get('location')!, base));
}

function csrfOf(html: string): string {
  const token = /name="csrf" value="([^"]+)"/.exec(html)?.[1];
  assert.ok(token, html);
  return token;
}

const post = (ua: UserAgent, base: string, fields: Record<string, string>) =>
  ua.send(`${base}/myaccount`, { body: new URLSearchParams(fields) });

async function factorsOf(home: string): Promise<{ factors: { id: string }[]; passkeys: unknown[] }> {
  return idpJson(['users', 'mfa', 'list', 'alice', '--json'], { home });
}

/** Adds a passkey made by the software authenticator through My Account's enrolment page; returns where it went. */
async function addPasskey(ua: UserAgent, base: string, csrf: string): Promise<string | null> {
  const enrol = await (await post(ua, base, { op: 'enrol-passkey', csrf })).text();
  const pending = unescapeHtml(/name="pending" value="([^"]+)"/.exec(enrol)?.[1] ?? '');
  assert.ok(pending, enrol);
  const { response } = softwareRegistration(JSON.parse(OPTIONS.exec(enrol)![1]!), new URL(base).origin);
  const done = await post(ua, base, { op: 'finish-passkey', csrf, pending, response: JSON.stringify(response) });
  return done.headers.get('location');
}

test('My Account asks a user who holds a passkey for it: a password alone cannot get in to add a second one', async () => {
  const home = await seededHome();
  const { key } = await idpJson<{ key: string }>(
    ['users', 'mfa', 'enroll', 'alice', 'passkey', '--software', '--json'],
    {
      home,
    },
  );
  const server = await startServe(home);
  try {
    // The review's attack: alice's password and no passkey. The sign-in now stops at the passkey step.
    await assert.rejects(
      signIn(new UserAgent(), server.base, viaPassword('alice', 'thrift-demo')),
      /a page this sign-in does not expect.*"response"/s,
    );
    assert.equal((await factorsOf(home)).passkeys.length, 1);

    const seen: string[] = [];
    const ua = new UserAgent();
    const page = await signIn(ua, server.base, viaPasswordAnd({ key, origin: new URL(server.base).origin }, seen));
    assert.deepEqual(seen, ['password', 'passkey'], 'step 2 asked for the passkey alice holds');
    assert.match(String(await addPasskey(ua, server.base, csrfOf(await page.text()))), /notice=passkey-enrolled$/);
    assert.equal((await factorsOf(home)).passkeys.length, 2, 'a sign-in that used the passkey may add another');
  } finally {
    await server.stop();
  }
});

test('a first factor needs only a recent password sign-in; the next change sends the person to sign in again with it', async () => {
  const home = await seededHome();
  const server = await startServe(home);
  try {
    const ua = new UserAgent();
    const seen: string[] = [];
    const page = await signIn(ua, server.base, viaPasswordAnd({ origin: new URL(server.base).origin }, seen));
    assert.deepEqual(seen, ['password'], 'no factor held: the password is enough');
    const csrf = csrfOf(await page.text());
    const enrol = await (await post(ua, server.base, { op: 'enrol-totp', csrf })).text();
    const secret = /id="totp-secret">([A-Z2-7]+)</.exec(enrol)?.[1];
    assert.ok(secret, enrol);
    const code = await totp.code(secret, new Date());
    assert.equal((await post(ua, server.base, { op: 'confirm-totp', code, csrf })).status, 303);
    const [factor] = (await factorsOf(home)).factors;
    assert.ok(factor, 'the first factor is enrolled');

    // The same session (a password only) now adds or removes nothing: sign in again, which asks for the TOTP code.
    const again = await post(ua, server.base, { op: 'enrol-passkey', csrf });
    assert.equal(again.status, 303);
    const location = new URL(again.headers.get('location')!, server.base);
    assert.equal(location.searchParams.get('prompt'), 'login');
    const removed = await post(ua, server.base, { op: 'remove-factor', factor: factor.id, csrf });
    // Each refusal starts a sign-in of its own: the latest is the one this browser can finish.
    const signInAgain = new URL(removed.headers.get('location')!, server.base);
    assert.equal(signInAgain.searchParams.get('prompt'), 'login');
    assert.equal((await factorsOf(home)).factors.length, 1, 'nothing removed');

    // The step confirmed at enrolment is spent (replay protection); the next one is within the accepted window.
    const next = await totp.code(secret, new Date(Date.now() + 30_000));
    seen.length = 0;
    const back = await signIn(ua, server.base, viaPasswordAnd({ code: next, origin: '' }, seen), signInAgain.href);
    assert.deepEqual(seen, ['password', 'totp']);
    const fresh = await back.text();
    assert.match(fresh, /You signed in again/);
    assert.match(String(await addPasskey(ua, server.base, csrfOf(fresh))), /notice=passkey-enrolled$/);
    const removedNow = await post(ua, server.base, { op: 'remove-factor', factor: factor.id, csrf: csrfOf(fresh) });
    assert.match(String(removedNow.headers.get('location')), /notice=factor-removed$/);
  } finally {
    await server.stop();
  }
});
