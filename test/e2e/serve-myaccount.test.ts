// My Account on the web, over real HTTP against `idp serve`: the built-in app signs in through the org's own provider,
// a local user sees their profile, enrols TOTP only with a current code (kept sealed meanwhile), every
// form needs its session's CSRF token, and a pass-through sign-in is refused: there is no local account to manage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { totp } from '../../src/mfa/totp.js';
import { idpOk, seededHome } from '../helpers/idp.js';
import { startServe } from '../helpers/serve.js';
import { UserAgent, viaConnection, viaPassword, type Answer } from '../helpers/user-agent.js';

/** Signs in to My Account in `ua` and returns the page it lands on. */
async function signIn(ua: UserAgent, base: string, answer: Answer): Promise<Response> {
  const callback = await ua.authorize(`${base}/myaccount`, `${base}/myaccount/callback`, answer);
  const landed = await ua.send(callback);
  if (landed.status !== 303) return landed;
  return ua.send(new URL(landed.headers.get('location')!, base));
}

function csrfOf(html: string): string {
  const token = /name="csrf" value="([^"]+)"/.exec(html)?.[1];
  assert.ok(token, 'every My Account form carries a CSRF token');
  return token;
}

async function post(ua: UserAgent, base: string, fields: Record<string, string>): Promise<Response> {
  return ua.send(`${base}/myaccount`, { body: new URLSearchParams(fields) });
}

test('a local user signs in to My Account and enrols TOTP with a current code; forms need the CSRF token', async () => {
  const home = await seededHome();
  const server = await startServe(home);
  try {
    const ua = new UserAgent();
    const page = await signIn(ua, server.base, viaPassword('alice', 'thrift-demo'));
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, /alice@example\.com/);
    const csrf = csrfOf(html);

    const forged = await post(ua, server.base, { op: 'enrol-totp', csrf: 'not-the-token' });
    assert.equal(forged.status, 403, 'a form without its session token is refused');

    const enrol = await post(ua, server.base, { op: 'enrol-totp', csrf });
    const enrolHtml = await enrol.text();
    const secret = /id="totp-secret">([A-Z2-7]+)</.exec(enrolHtml)?.[1];
    assert.ok(secret, enrolHtml);
    const wrong = await post(ua, server.base, { op: 'confirm-totp', code: '000000', csrf });
    assert.match(await wrong.text(), /not the current code/);
    assert.equal(
      JSON.parse((await idpOk(['users', 'show', 'alice', '--json'], { home })).stdout).mfa_factors.length,
      0,
    );

    const code = await totp.code(secret, new Date());
    const confirmed = await post(ua, server.base, { op: 'confirm-totp', code, csrf });
    assert.equal(confirmed.status, 303);
    const factors = JSON.parse((await idpOk(['users', 'show', 'alice', '--json'], { home })).stdout).mfa_factors;
    assert.equal(factors.length, 1, 'enrolled once confirmed');

    // Removing it needs a sign-in that used it (serve-myaccount-factors.test.ts): this one used the password only.
    const removed = await post(ua, server.base, { op: 'remove-factor', factor: factors[0].id, csrf });
    assert.equal(removed.status, 303);
    assert.equal(new URL(removed.headers.get('location')!, server.base).searchParams.get('prompt'), 'login');
    assert.equal(
      JSON.parse((await idpOk(['users', 'show', 'alice', '--json'], { home })).stdout).mfa_factors.length,
      1,
    );
  } finally {
    await server.stop();
  }
});

test('a pass-through sign-in is refused My Account with the explanation and both fixes, and no user is created', async () => {
  const home = await seededHome();
  await idpOk(['connection', 'set', 'github', '--jit=false'], { home });
  const before = JSON.parse((await idpOk(['users', 'list', '--json'], { home })).stdout).users.length;
  const server = await startServe(home);
  try {
    // The sign-in ends on the error page, which has no form to answer: the user agent stops there with its text.
    await assert.rejects(signIn(new UserAgent(), server.base, viaConnection('github', 'octocat')), (err: Error) => {
      assert.match(err.message, /HTTP 403/);
      assert.match(err.message, /My Account needs a local user, and github has JIT off/);
      assert.match(err.message, /idp connection set github --jit=true/);
      assert.match(err.message, /sign in with a local password/);
      return true;
    });
    assert.equal(JSON.parse((await idpOk(['users', 'list', '--json'], { home })).stdout).users.length, before);
  } finally {
    await server.stop();
  }
});
