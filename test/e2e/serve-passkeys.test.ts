// Passkeys in `idp serve`, with headless Chromium and a virtual platform authenticator added through the DevTools
// Protocol: a passkey enrolled in My Account (named, renamed, removed) signs in as step 2 of an app and passwordless as
// step 1; a step that needs a passkey the user lacks enrols one during the sign-in; a passkey the server no longer
// knows is refused on the page, which offers another way; a pass-through user meets the MFA conflict; the two
// scripts the pages load are the only files the asset route serves; and `idp login` in a terminal (a real pty) asks
// for the passkey through its loopback page at localhost, which the same browser tab answers.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { sharedBrowser, virtualAuthenticator } from '../helpers/browser.js';
import { childEnv, IDP_BIN, idpJson, idpOk, seededHome } from '../helpers/idp.js';
import { type Serving, startServe } from '../helpers/serve.js';
import { FIXTURES, type StaticSite, serveStatic } from '../helpers/static.js';

const browser = sharedBrowser();
let site: StaticSite;
const running: Serving[] = [];

before(async () => {
  site = await serveStatic(join(FIXTURES, 'spa'), { '/oauth4webapi.js': 'node_modules/oauth4webapi/build/index.js' });
});

after(async () => {
  await Promise.all(running.map((s) => s.stop()));
  await site?.close();
});

interface World {
  home: string;
  serving: Serving;
  /** client ids by app name */
  apps: Record<string, string>;
}

/** The demo org with SPA apps of the fixture's origin (name -> its --step flags), and a running server. */
async function world(apps: Record<string, string[]>, setup: string[][] = []): Promise<World> {
  const home = await seededHome();
  const ids: Record<string, string> = {};
  for (const [name, steps] of Object.entries(apps)) {
    const args = ['app', 'create', name, '--type', 'spa', '--redirect-uri', `${site.origin}/`, '--origin', site.origin];
    const app = await idpJson([...args, ...steps.flatMap((s) => ['--step', s]), '--json'], { home });
    ids[name] = app.client_id;
  }
  for (const args of setup) await idpOk(args, { home });
  const serving = await startServe(home);
  running.push(serving);
  return { home, serving, apps: ids };
}

/** The fixture app now signs in to `app`. */
function useApp({ serving, apps }: World, app: string): void {
  site.json('/config.json', { issuer: serving.issuer, clientId: apps[app], redirectUri: `${site.origin}/` });
}

/** The page's visible text, for failure messages. */
async function bodyText(page: Page): Promise<string> {
  return ((await page.textContent('body').catch(() => '')) ?? '').replace(/\s+/g, ' ').trim().slice(0, 800);
}

/** The app's status once it settles on signed-in or error; fails with the page the browser is on otherwise. */
async function settled(page: Page): Promise<Record<string, any>> {
  try {
    await page.waitForFunction(
      // runs in the page, where the DOM is: this file is compiled without DOM types
      () => ['signed-in', 'error'].includes((globalThis as any).document.getElementById('status')?.textContent ?? ''),
      undefined,
      { timeout: 20_000 },
    );
  } catch {
    assert.fail(`the app did not settle; the browser is at ${page.url()}: ${await bodyText(page)}`);
  }
  assert.equal(await page.textContent('#status'), 'signed-in', (await page.textContent('#error')) ?? '');
  return JSON.parse((await page.textContent('#claims')) || 'null');
}

async function startSignIn(page: Page): Promise<void> {
  await page.goto(site.origin);
  await page.waitForFunction(() => (globalThis as any).document.getElementById('status')?.textContent === 'signed-out');
  await page.click('#sign-in');
}

async function password(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Sign in with a password' }).click();
  await page.getByLabel('Username or email').fill('alice');
  await page.getByLabel('Password').fill('thrift-demo');
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

/** The passkey button, once the page's script has found WebAuthn and enabled it. */
async function usePasskey(page: Page, label: string): Promise<void> {
  const button = page.locator('#passkey-start');
  await button.waitFor();
  assert.equal(await button.textContent(), label);
  try {
    await page.waitForFunction(
      () => !(globalThis as any).document.getElementById('passkey-start')?.disabled,
      undefined,
      {
        timeout: 10_000,
      },
    );
  } catch {
    assert.fail(`the passkey button stayed disabled: ${await bodyText(page)}`);
  }
  await button.click();
}

/** `holdsPasskey`: My Account then asks alice for her passkey after the password. */
async function myAccount(page: Page, serving: Serving, { holdsPasskey = false } = {}): Promise<void> {
  await page.goto(`${serving.base}/myaccount`);
  if (page.url().includes('/myaccount')) return;
  await password(page);
  if (holdsPasskey) await usePasskey(page, 'Use a passkey');
  await page.waitForURL(`${serving.base}/myaccount**`);
}

/** alice's passkeys as `idp users mfa list` shows them: the factor id and the name. */
async function passkeysOf(home: string): Promise<{ factor: string; name: string }[]> {
  const { passkeys } = await idpJson<{ passkeys: { factor: string; name: string }[] }>(
    ['users', 'mfa', 'list', 'alice', '--json'],
    { home },
  );
  return passkeys.map(({ factor, name }) => ({ factor, name }));
}

test('a passkey enrolled in My Account signs in as step 2 and passwordless as step 1; it is renamed and removed there', async () => {
  const w = await world({ shop: ['1=password', '2=totp,passkey'], kiosk: ['1=passkey,password'] });
  const context = await browser.context();
  const page = await context.newPage();
  const authenticator = await virtualAuthenticator(page);

  await myAccount(page, w.serving);
  assert.match((await page.textContent('main')) ?? '', /No passkeys yet/);
  await page.getByRole('button', { name: 'Add a passkey' }).click();
  assert.equal(
    await page.getByLabel('Name for this passkey').inputValue(),
    'Chrome on Linux',
    'named after the browser',
  );
  await page.getByLabel('Name for this passkey').fill('Test laptop');
  await usePasskey(page, 'Create a passkey');
  await page.getByRole('status').filter({ hasText: 'Your passkey is ready' }).waitFor();
  assert.match((await page.textContent('main')) ?? '', /Test laptop.*added \d{4}-\d\d-\d\d, never used/);
  const [held] = await authenticator.credentials();
  assert.equal(held?.rpId, 'localhost');
  assert.deepEqual(
    (await passkeysOf(w.home)).map((p) => p.name),
    ['Test laptop'],
  );

  // Step 2 of shop offers TOTP or a passkey: the choose page, then the passkey page.
  await context.clearCookies();
  useApp(w, 'shop');
  await startSignIn(page);
  await password(page);
  await page.getByRole('button', { name: 'Use a passkey' }).click();
  await usePasskey(page, 'Use a passkey');
  const step2 = await settled(page);
  assert.equal(step2.username, 'alice');
  assert.ok(step2.amr.includes('pwd') && step2.amr.includes('hwk'), JSON.stringify(step2.amr));

  // Passwordless: no password, the authenticator names the user.
  await context.clearCookies();
  useApp(w, 'kiosk');
  await startSignIn(page);
  await page.getByRole('button', { name: 'Use a passkey' }).click();
  await usePasskey(page, 'Use a passkey');
  const passwordless = await settled(page);
  assert.equal(passwordless.username, 'alice');
  assert.deepEqual([...passwordless.amr].sort(), ['hwk', 'user'], JSON.stringify(passwordless.amr));

  await context.clearCookies();
  await myAccount(page, w.serving, { holdsPasskey: true });
  assert.match((await page.textContent('main')) ?? '', /Test laptop.*last used \d{4}-\d\d-\d\d/);
  await page.getByText('Rename').click();
  await page.getByLabel('New name for Test laptop').fill('Old laptop');
  await page.getByRole('button', { name: 'Save name' }).click();
  await page.getByRole('status').filter({ hasText: 'renamed' }).waitFor();
  assert.deepEqual(
    (await passkeysOf(w.home)).map((p) => p.name),
    ['Old laptop'],
  );
  await page.getByRole('button', { name: 'Remove passkey Old laptop' }).click();
  await page.getByRole('status').filter({ hasText: 'The passkey was removed' }).waitFor();
  assert.deepEqual(await passkeysOf(w.home), []);
  await context.close();
});

test('a step that needs a passkey the user lacks enrols one; a passkey the server no longer knows is refused, with another way', async () => {
  const w = await world({ shop: ['1=password', '2=passkey'], kiosk: ['1=passkey,password'] });
  const context = await browser.context();
  const page = await context.newPage();
  await virtualAuthenticator(page);

  useApp(w, 'shop');
  await startSignIn(page);
  await password(page);
  await page.getByRole('heading', { name: 'Create a passkey' }).waitFor();
  await page.getByLabel('Name for this passkey').fill('Made while signing in');
  await usePasskey(page, 'Create a passkey');
  const enrolled = await settled(page);
  assert.ok(enrolled.amr.includes('hwk'), JSON.stringify(enrolled.amr));
  const [passkey] = await passkeysOf(w.home);
  assert.equal(passkey?.name, 'Made while signing in');

  // The server forgets it; the authenticator still offers it.
  await idpOk(['users', 'mfa', 'remove', 'alice', passkey.factor, '--yes'], { home: w.home });
  await context.clearCookies();
  useApp(w, 'kiosk');
  await startSignIn(page);
  await page.getByRole('button', { name: 'Use a passkey' }).click();
  await usePasskey(page, 'Use a passkey');
  const refusal = page.getByRole('alert');
  await refusal.waitFor();
  assert.ok((await refusal.textContent())?.trim(), 'the refusal is said on the page');
  assert.equal(
    await page.getByRole('heading', { name: 'Sign in with a passkey' }).count(),
    1,
    'a retry of the same step',
  );
  await page.getByRole('button', { name: 'Sign in with a password' }).click();
  await page.getByLabel('Username or email').fill('alice');
  await page.getByLabel('Password').fill('thrift-demo');
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  assert.deepEqual((await settled(page)).amr, ['pwd'], 'another way in the same step');
  await context.close();
});

test('a pass-through user reaching a passkey step meets the MFA conflict with both fixes', async () => {
  const w = await world({ shop: ['1=password,github', '2=passkey'] }, [['connection', 'set', 'github', '--jit=false']]);
  const page = await (await browser.context()).newPage();
  useApp(w, 'shop');
  await startSignIn(page);
  await page.getByRole('button', { name: 'Sign in with GitHub' }).click();
  await page.check('input[name="persona"][value="octocat"]');
  await page.click('button[name="decision"][value="approve"]');
  await page.getByRole('alert').waitFor();
  const text = (await page.textContent('main')) ?? '';
  assert.match(text, /MFA_NEEDS_LOCAL_USER/);
  assert.match(text, /idp connection set github --jit=true/);
  assert.match(text, /context\.steps\[1\]\.idp == 'LOCAL'/);
  assert.equal(await page.locator('#passkey-start').count(), 0, 'no passkey is asked of a pass-through user');
});

/** A GET with the path sent exactly as written (fetch would resolve `..` first). */
function rawGet(url: string, path: string, method = 'GET'): Promise<{ status: number; type: string; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname === 'localhost' ? '127.0.0.1' : hostname, port, path, method }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body }),
      );
    });
    req.setHeader('host', new URL(url).host);
    req.on('error', reject).end();
  });
}

test('the asset route serves the two passkey scripts as JavaScript, and nothing else', async () => {
  const { serving } = await world({});
  const mount = new URL(serving.base).pathname;
  const library = await rawGet(serving.url, `${mount}/assets/simplewebauthn-browser.js`);
  assert.equal(library.status, 200);
  assert.equal(library.type, 'text/javascript; charset=utf-8');
  assert.match(library.body, /^\/\* \[@simplewebauthn\/browser@13\.3\.0\] \*\//);
  assert.match(library.body, /SimpleWebAuthnBrowser/);
  const script = await rawGet(serving.url, `${mount}/assets/passkey.js`);
  assert.equal(script.status, 200);
  assert.equal(script.type, 'text/javascript; charset=utf-8');
  assert.match(script.body, /startAuthentication/);
  for (const path of [
    `${mount}/assets/../../../package.json`,
    `${mount}/assets/..%2f..%2fpackage.json`,
    `${mount}/assets/%2e%2e/%2e%2e/package.json`,
    `${mount}/assets/index.umd.min.js`,
    `${mount}/assets/`,
    `${mount}/assets/passkey.js/`,
    `${mount}/assets/simplewebauthn-browser.js%00`,
  ]) {
    const got = await rawGet(serving.url, path);
    assert.ok(got.status === 404 || got.status === 400, `${path}: ${got.status}`);
    assert.doesNotMatch(got.body, /"name": "idp"|SimpleWebAuthnBrowser/, path);
  }
  assert.equal((await rawGet(serving.url, `${mount}/assets/passkey.js`, 'POST')).status, 405);
});

/** `idp` in a real terminal (util-linux `script` gives it a pty), so the terminal driver answers, not the headless one. */
function inTerminal(
  home: string,
  args: string[],
): { output(pattern: RegExp): Promise<string>; done: Promise<{ code: number | null; output: string }> } {
  const command = `stty rows 24 cols 100; exec '${process.execPath}' '${IDP_BIN}' ${args.join(' ')}`;
  const child = spawn('script', ['-qefc', command, '/dev/null'], {
    env: childEnv({ home }),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  const waiters: { pattern: RegExp; resolve(text: string): void }[] = [];
  const onData = (chunk: Buffer): void => {
    output += chunk.toString('utf8');
    for (const w of waiters.filter((x) => x.pattern.test(output))) w.resolve(output);
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const done = new Promise<{ code: number | null; output: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, output })),
  );
  return {
    output: (pattern) =>
      Promise.race([
        new Promise<string>((resolve) => waiters.push({ pattern, resolve })),
        done.then(({ output }) => assert.fail(`idp ended before printing ${pattern}: ${output}`)),
      ]),
    done,
  };
}

test('idp login in a terminal: a passkey step opens the loopback page at localhost, and the browser answers it', async () => {
  const w = await world({ shop: ['1=password', '2=passkey'], kiosk: ['1=passkey,password'] });
  const page = await (await browser.context()).newPage();
  await virtualAuthenticator(page);
  // A passkey for alice in this tab's authenticator, enrolled while signing in to shop.
  useApp(w, 'shop');
  await startSignIn(page);
  await password(page);
  await usePasskey(page, 'Create a passkey');
  await settled(page);

  const login = inTerminal(w.home, [
    'login',
    '--app',
    'kiosk',
    '--option',
    'passkey',
    '--no-browser',
    '--timeout',
    '60',
  ]);
  const printed = await login.output(/http:\/\/localhost:\d+\/passkey\/[\w-]+/);
  const url = /http:\/\/localhost:\d+\/passkey\/[\w-]+/.exec(printed)![0];
  assert.match(printed, /Open this URL to use your passkey for kiosk/);
  await page.goto(url);
  await usePasskey(page, 'Use a passkey');
  await page
    .getByRole('heading', { name: 'Passkey sent' })
    .waitFor({ timeout: 15_000 })
    .catch(async () => assert.fail(`the page did not send the passkey: ${await bodyText(page)}`));
  const { code, output } = await login.done;
  assert.equal(code, 0, output);
  assert.match(output, /alice/);
});
