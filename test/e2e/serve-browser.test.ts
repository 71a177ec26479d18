// Browser apps signing in to `idp serve` in headless Chromium: the SPA fixture (oauth4webapi: PKCE, token request and
// userinfo from the browser across origins) through the sandbox GitHub with JIT on and off, TOTP as step 2 with the
// skip-MFA script, the MFA conflict on the error page; and an app written with @asgardeo/auth-spa 3.5.2.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { totpCode } from '../../src/mfa/totp.js';
import { sharedBrowser } from '../helpers/browser.js';
import { createShop, idpJson, idpOk, seededHome } from '../helpers/idp.js';
import { type Serving, startServe } from '../helpers/serve.js';
import { FIXTURES, type StaticSite, serveStatic } from '../helpers/static.js';

const browser = sharedBrowser();
let spaSite: StaticSite;
let asgardeoSite: StaticSite;
const running: Serving[] = [];

before(async () => {
  spaSite = await serveStatic(join(FIXTURES, 'spa'), {
    '/oauth4webapi.js': 'node_modules/oauth4webapi/build/index.js',
  });
  asgardeoSite = await serveStatic(join(FIXTURES, 'asgardeo'), {
    '/asgardeo-spa.js': 'node_modules/@asgardeo/auth-spa/dist/asgardeo-spa.production.min.js',
  });
});

after(async () => {
  await Promise.all(running.map((s) => s.stop()));
  await Promise.all([spaSite?.close(), asgardeoSite?.close()]);
});

interface World {
  home: string;
  serving: Serving;
  page: Page;
}

/**
 * The demo org with app `shop` (a spa whose origin is `site`'s, step 1 password or GitHub, plus `setup`'s commands),
 * a running server, the site's config pointing at both, and a fresh browser context.
 */
async function world(site: StaticSite, setup: string[][] = []): Promise<World & { clientId: string }> {
  const home = await seededHome();
  const redirect = `${site.origin}/`;
  const app = await idpJson(createShop(redirect, '--origin', site.origin, '--step', '1=password,github', '--json'), {
    home,
  });
  for (const args of setup) await idpOk(args, { home });
  const serving = await startServe(home);
  running.push(serving);
  site.json('/config.json', {
    // the SPA fixture's names
    issuer: serving.issuer,
    clientId: app.client_id,
    redirectUri: redirect,
    // @asgardeo/auth-spa's names
    baseUrl: serving.base,
    clientID: app.client_id,
    signInRedirectURL: redirect,
  });
  const context = await browser.context();
  const page = await context.newPage();
  return { home, serving, page, clientId: app.client_id };
}

/** The app's status line once it settles on one of `states`; else fails with the page the browser is on. */
async function statusOf(page: Page, states: string[]): Promise<string> {
  try {
    await page.waitForFunction(
      // runs in the page, where the DOM is: this file is compiled without DOM types
      (wanted) => wanted.includes((globalThis as any).document.getElementById('status')?.textContent ?? ''),
      states,
      { timeout: 20_000 },
    );
  } catch {
    const text = ((await page.textContent('body').catch(() => '')) ?? '').replace(/\s+/g, ' ').trim();
    assert.fail(`the app did not reach ${states.join(' or ')}; the browser is at ${page.url()}: ${text.slice(0, 600)}`);
  }
  return (await page.textContent('#status')) ?? '';
}

async function json(page: Page, selector: string): Promise<Record<string, any>> {
  return JSON.parse((await page.textContent(selector)) || 'null');
}

/** From the app's Sign in button to idp's page, then GitHub, then the sandbox's consent page (which lists personas). */
async function signInWithGithub(page: Page, site: StaticSite, persona: string): Promise<void> {
  await page.goto(site.origin);
  await statusOf(page, ['signed-out']);
  await page.click('#sign-in');
  await page.getByRole('button', { name: 'Sign in with GitHub' }).click();
  await page.check(`input[name="persona"][value="${persona}"]`);
  await page.click('button[name="decision"][value="approve"]');
}

async function usernames(home: string): Promise<string[]> {
  const { users } = await idpJson<{ users: { username: string }[] }>(['users', 'list', '--json'], { home });
  return users.map((u) => u.username);
}

test('SPA + JIT on: GitHub sign-in lands back in the app with claims and userinfo, and provisions a user', async () => {
  const { home, serving, page, clientId } = await world(spaSite);
  assert.ok(!(await usernames(home)).includes('octocat'));
  await signInWithGithub(page, spaSite, 'octocat');
  assert.equal(await statusOf(page, ['signed-in', 'error']), 'signed-in', (await page.textContent('#error')) ?? '');
  const claims = await json(page, '#claims');
  assert.equal(claims.iss, serving.issuer);
  assert.equal(claims.aud, clientId);
  assert.equal(claims.email, 'octocat@example.com');
  assert.notEqual(claims.pass_through, true);
  assert.equal((await json(page, '#userinfo')).sub, claims.sub);
  assert.ok((await usernames(home)).includes('octocat'), 'JIT provisioned octocat');

  await page.click('#sign-out');
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  assert.equal(await statusOf(page, ['logged-out', 'error']), 'logged-out');
});

test('SPA + JIT off: pass-through, the claims say so, and no user row is written', async () => {
  const { home, page } = await world(spaSite, [['connection', 'set', 'github', '--jit=false']]);
  const before = await usernames(home);
  await signInWithGithub(page, spaSite, 'octocat');
  assert.equal(await statusOf(page, ['signed-in', 'error']), 'signed-in', (await page.textContent('#error')) ?? '');
  const claims = await json(page, '#claims');
  assert.equal(claims.pass_through, true);
  assert.equal(claims.email, 'octocat@example.com');
  assert.deepEqual(await usernames(home), before);
});

test('TOTP as step 2 with the skip-MFA script: GitHub skips it, the password sign-in asks for the code', async () => {
  const setup = [
    ['app', 'set', 'shop', '--step', '2=totp'],
    ['app', 'script', 'set', 'shop', '--template', 'skip-mfa-for-federated'],
  ];
  const { home, page } = await world(spaSite, setup);
  const { secret } = await idpJson<{ secret: string }>(['users', 'mfa', 'enroll', 'alice', 'totp', '--json'], { home });

  await signInWithGithub(page, spaSite, 'octocat');
  assert.equal(await statusOf(page, ['signed-in', 'error']), 'signed-in', (await page.textContent('#error')) ?? '');
  const federated = await json(page, '#claims');
  assert.deepEqual(federated.amr, ['fed'], JSON.stringify(federated));

  const local = await (await browser.context()).newPage();
  await local.goto(spaSite.origin);
  await statusOf(local, ['signed-out']);
  await local.click('#sign-in');
  await local.getByRole('button', { name: 'Sign in with a password' }).click();
  await local.getByLabel('Username or email').fill('alice');
  await local.getByLabel('Password').fill('thrift-demo');
  await local.getByRole('button', { name: 'Sign in', exact: true }).click();
  await local.getByLabel('Code').fill(await totpCode(secret));
  await local.getByRole('button', { name: 'Verify' }).click();
  assert.equal(await statusOf(local, ['signed-in', 'error']), 'signed-in', (await local.textContent('#error')) ?? '');
  const claims = await json(local, '#claims');
  assert.equal(claims.username, 'alice');
  assert.ok(claims.amr?.includes('pwd') && claims.amr.includes('otp'), JSON.stringify(claims));
});

test('the MFA conflict (JIT off, TOTP in step 2, no script) shows its explanation and both fixes on the error page', async () => {
  const setup = [
    ['connection', 'set', 'github', '--jit=false'],
    ['app', 'set', 'shop', '--step', '2=totp'],
  ];
  const { home, page } = await world(spaSite, setup);
  const before = await usernames(home);
  await signInWithGithub(page, spaSite, 'octocat');
  const alert = page.getByRole('alert');
  await alert.waitFor();
  const text = (await page.textContent('main')) ?? '';
  assert.match(text, /MFA_NEEDS_LOCAL_USER/);
  assert.match(text, /idp connection set github --jit=true/);
  assert.match(text, /context\.steps\[1\]\.idp == 'LOCAL'/);
  assert.ok(!page.url().startsWith(spaSite.origin), 'the browser stays on the error page');
  assert.deepEqual(await usernames(home), before);
});

test('@asgardeo/auth-spa 3.5.2 signs in with only the baseUrl changed and reads the user claims', async () => {
  const { serving, page, clientId } = await world(asgardeoSite);
  await page.goto(asgardeoSite.origin);
  await statusOf(page, ['signed-out']);
  await page.click('#sign-in');
  await page.getByRole('button', { name: 'Sign in with GitHub' }).click();
  await page.check('input[name="persona"][value="octocat"]');
  await page.click('button[name="decision"][value="approve"]');
  assert.equal(await statusOf(page, ['signed-in', 'error']), 'signed-in', (await page.textContent('#error')) ?? '');
  const claims = await json(page, '#claims');
  assert.equal(claims.iss, serving.issuer);
  assert.equal(claims.aud, clientId);
  // The fixture asks for openid and profile, as the SDK's README does: the username comes, the email does not.
  const user = await json(page, '#user');
  assert.equal(user.username ?? user.preferred_username, 'octocat');
});
