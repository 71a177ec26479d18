// The security musts of a brokered login, end to end on real sockets: a forged or missing state never reaches the
// token endpoint; the loopback server binds 127.0.0.1, shows no code or state and closes; the ID token verifies with
// the published JWKS and fails when tampered with; timeouts and interrupts (also while a provider page hangs),
// unreachable providers, headless refusal of real ones, and password lockout.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLocalJWKSet, jwtVerify, errors as joseErrors } from 'jose';
import { drive, type Answerer } from '../../src/cli/drivers/drive.js';
import { headlessLogin } from '../../src/cli/drivers/headless.js';
import { defaultJit } from '../../src/core/connection-defaults.js';
import type { StageEvent } from '../../src/core/types.js';
import { loginEngine, upstreamsFor } from '../../src/cli/context.js';
import type { FlowEngine } from '../../src/flow/engine.js';
import { orgIssuer } from '../../src/flow/session.js';
import type { FlowState, FlowView } from '../../src/flow/types.js';
import type { Upstreams } from '../../src/ports.js';
import { completeSandboxConsent } from '../../src/sandbox/automate.js';
import { jwks } from '../../src/core/jwks.js';
import { closedPort, withParam } from './federation-helpers.js';
import {
  expectDone,
  expectFailed,
  loginWorld,
  mapConnectors,
  portAccepts,
  scriptedAnswerer,
  type LoginWorld,
} from '../helpers/login.js';
import { hintOf } from '../helpers/hints.js';

type Waiting<K extends string> = Extract<FlowView, { waiting: K }>;

/** Starts a flow, chooses GitHub and consents at the sandbox as octocat: the flow now waits for this callback. */
async function flowAtCallback(
  w: LoginWorld,
  engine: FlowEngine,
): Promise<{
  view: Waiting<'redirect'>;
  callback: string;
  auth: Extract<FlowState['waiting'], { kind: 'redirect' }>['auth'];
}> {
  const started = await engine.start('thrift');
  assert.equal(started.status === 'active' && started.waiting, 'choose');
  const view = await engine.submit(started.flow, { choose: 'github', redirectUri: 'http://127.0.0.1:9/callback' });
  assert.ok(view.status === 'active' && view.waiting === 'redirect', JSON.stringify(view));
  const waiting = (JSON.parse((await w.store.flows.get(view.flow))!.state) as FlowState).waiting;
  assert.equal(waiting.kind, 'redirect');
  const callback = await completeSandboxConsent(view.url, { persona: 'octocat', consent: 'approve' });
  return { view, callback, auth: waiting.auth };
}

/** Redeems a code at the sandbox token endpoint by hand: only possible if nobody redeemed it before. */
async function redeemByHand(
  w: LoginWorld,
  authorizeUrl: string,
  code: string,
  auth: { codeVerifier: string; redirectUri: string },
): Promise<Record<string, unknown>> {
  const github = (await w.store.connections.get('github'))!;
  const res = await fetch(new URL('/login/oauth/access_token', authorizeUrl), {
    method: 'POST',
    headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      client_id: github.clientId,
      client_secret: (await w.store.connections.storedSecret('github'))!,
      code,
      code_verifier: auth.codeVerifier,
      redirect_uri: auth.redirectUri,
    }),
  });
  return (await res.json()) as Record<string, unknown>;
}

test('a forged, missing or shadowed state fails the flow with STATE_MISMATCH (exit 6) and the code is never redeemed', async (t) => {
  const w = await loginWorld(t);
  const engine = await loginEngine({ store: w.store, upstreams: w.upstreams });
  const tamperings: [string, (callback: string, state: string) => string][] = [
    ['altered', (c) => withParam(c, 'state', 'forged-state').href],
    ['missing', (c) => withParam(c, 'state', null).href],
    ['forged first', (c, state) => `${withParam(c, 'state', 'forged-state').href}&state=${state}`],
  ];
  for (const [what, tamper] of tamperings) {
    const { view, callback, auth } = await flowAtCallback(w, engine);
    const code = new URL(callback).searchParams.get('code')!;
    const failed = await engine.submit(view.flow, { callback: tamper(callback, auth.state) });
    const error = expectFailed(failed, 'STATE_MISMATCH', 6).error;
    assert.ok(
      !error.message.includes(auth.state) && !error.message.includes(code),
      `${what}: neither state nor code is echoed`,
    );
    assert.equal((await w.store.flows.get(view.flow))?.status, 'failed');
    const stages = await w.store.events.list({ flow: view.flow, limit: 50 });
    assert.deepEqual(
      stages.map((s) => `${s.stage}:${s.status}`),
      ['app:ok', 'options:ok', 'redirect:ok', 'callback:failed'],
      `${what}: the flow stops at the callback, before consent, token and userinfo`,
    );
    const tokens = await redeemByHand(w, view.url, code, auth);
    assert.equal(typeof tokens.access_token, 'string', `${what}: the code was still unused: ${JSON.stringify(tokens)}`);
    await assert.rejects(
      engine.submit(view.flow, { callback }),
      /has already failed/,
      'the genuine callback cannot revive the failed flow',
    );
  }
});

test('control for the test above: after the genuine callback the engine has redeemed the code, so redeeming it by hand fails', async (t) => {
  const w = await loginWorld(t);
  const engine = await loginEngine({ store: w.store, upstreams: w.upstreams });
  const { view, callback, auth } = await flowAtCallback(w, engine);
  expectDone(await engine.submit(view.flow, { callback }));
  const replay = await redeemByHand(w, view.url, new URL(callback).searchParams.get('code')!, auth);
  assert.equal(replay.error, 'bad_verification_code');
});

test('the loopback callback is on 127.0.0.1 at /callback; its page tells the outcome without the code or state, and the port closes', async (t) => {
  const w = await loginWorld(t);
  const ok = await w.login('github', 'octocat');
  expectDone(ok);
  const denied = await w.login('github', 'alice-gh');
  expectFailed(denied, 'LINK_CONFLICT', 7);
  for (const [run, heading] of [
    [ok, 'Signed in'],
    [denied, 'Sign-in failed'],
  ] as const) {
    assert.equal(run.callbacks.length, 1);
    const callback = run.callbacks[0]!;
    assert.equal(callback.hostname, '127.0.0.1');
    assert.equal(callback.pathname, '/callback');
    const code = callback.searchParams.get('code')!;
    const state = callback.searchParams.get('state')!;
    assert.ok(code.length > 8 && state.length > 8);
    assert.equal(run.pages.length, 1, 'the browser got one page');
    const page = run.pages[0]!;
    assert.match(page, new RegExp(`<h1>${heading}</h1>`));
    assert.ok(!page.includes(code), 'no code on the page');
    assert.ok(!page.includes(state), 'no state on the page');
    assert.equal(await portAccepts(Number(callback.port)), false, 'the loopback server is closed after the flow');
  }
  assert.match(denied.pages[0]!, /cannot sign in through github/);
});

test('the ID token verifies with the org JWKS (RS256, iss, aud = client_id, exp) and fails when tampered with', async (t) => {
  const w = await loginWorld(t);
  const done = expectDone(await w.login('github', 'octocat'));
  const result = { ...done, idToken: done.idToken ?? assert.fail('idp login signs an ID token') };
  const app = (await w.store.apps.get('thrift'))!;
  const keySet = createLocalJWKSet(jwks(await w.store.org.signingKeys()));
  const expected = { issuer: await orgIssuer(w.store), audience: app.clientId, algorithms: ['RS256'] };
  const { payload, protectedHeader } = await jwtVerify(result.idToken, keySet, expected);
  assert.equal(protectedHeader.alg, 'RS256');
  assert.equal(protectedHeader.kid, (await w.store.org.signingKeys()).find((k) => k.alg === 'RS256')!.kid);
  assert.equal(payload.iss, 'http://localhost:8788/t/default/oauth2/token');
  assert.equal(payload.aud, app.clientId);
  assert.equal(payload.sub, result.user!.id);
  assert.ok(typeof payload.exp === 'number' && typeof payload.iat === 'number' && payload.exp > payload.iat);
  assert.deepEqual(payload, result.claims, 'the claims printed are the claims signed');

  const [header, body, signature] = result.idToken.split('.') as [string, string, string];
  const forgedBody = Buffer.from(JSON.stringify({ ...payload, sub: (await w.user('alice'))!.id })).toString(
    'base64url',
  );
  await assert.rejects(
    jwtVerify(`${header}.${forgedBody}.${signature}`, keySet, expected),
    joseErrors.JWSSignatureVerificationFailed,
  );
  const flipped = `${signature.slice(0, -4)}${signature.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
  await assert.rejects(
    jwtVerify(`${header}.${body}.${flipped}`, keySet, expected),
    joseErrors.JWSSignatureVerificationFailed,
  );
  await assert.rejects(
    jwtVerify(result.idToken, keySet, { ...expected, audience: 'another-app' }),
    joseErrors.JWTClaimValidationFailed,
  );
  await assert.rejects(
    jwtVerify(result.idToken, keySet, { ...expected, issuer: 'http://localhost:8788/t/other/oauth2/token' }),
    joseErrors.JWTClaimValidationFailed,
  );
  await assert.rejects(
    jwtVerify(result.idToken, keySet, { ...expected, currentDate: new Date((payload.exp! + 1) * 1000) }),
    joseErrors.JWTExpired,
  );
});

/** Drives a GitHub login whose provider never calls back; `onWait` sees the loopback port and may interrupt. */
async function loginThatNeverCallsBack(
  w: LoginWorld,
  opts: { timeoutMs: number; onWait?: (interrupt: () => void) => void },
): Promise<{ view: FlowView; port: number }> {
  const engine = await loginEngine({ store: w.store, upstreams: w.upstreams });
  let port = 0;
  const controller = new AbortController();
  const answerer: Answerer = scriptedAnswerer({
    choose: async () => 'github',
    callback: (_view, loopback, wait) => {
      port = loopback.port;
      const waiting = loopback.waitForCallback(wait);
      opts.onWait?.(() => controller.abort());
      return waiting;
    },
  });
  const view = await drive(engine, answerer, { app: 'thrift', timeoutMs: opts.timeoutMs, signal: controller.signal });
  return { view, port };
}

test('no callback within --timeout: TIMEOUT (exit 5), the flow fails at consent, and the loopback port is closed', async (t) => {
  const w = await loginWorld(t);
  const { view, port } = await loginThatNeverCallsBack(w, { timeoutMs: 100 });
  const failed = expectFailed(view, 'TIMEOUT', 5);
  assert.match(hintOf(failed.error), /--timeout/);
  assert.ok(port > 0);
  assert.equal(await portAccepts(port), false);
  assert.equal((await w.store.flows.get(view.flow))?.status, 'failed');
  const last = (await w.store.events.list({ flow: view.flow, limit: 50 })).at(-1)!;
  assert.deepEqual([last.stage, last.status], ['consent', 'failed']);
  assert.equal(await w.store.users.count(), 1, 'only alice');
});

test('an interrupt while waiting (Ctrl-C): INTERRUPTED (exit 130), the flow is marked failed, the port is closed', async (t) => {
  const w = await loginWorld(t);
  const { view, port } = await loginThatNeverCallsBack(w, {
    timeoutMs: 60_000,
    onWait: (interrupt) => setImmediate(interrupt),
  });
  expectFailed(view, 'INTERRUPTED', 130);
  assert.equal(await portAccepts(port), false);
  assert.equal((await w.store.flows.get(view.flow))?.status, 'failed');
  assert.deepEqual(w.store.db.pragma('integrity_check'), [{ integrity_check: 'ok' }]);
});

/** An HTTP server on 127.0.0.1 that accepts requests and never answers them: a provider page that hangs. */
async function stallingServer(t: TestContext): Promise<string> {
  const server = createServer(() => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** The real sandbox upstreams, with the authorization URL moved to `origin`: the sandbox's pages are never reached. */
function authorizeAt(inner: Upstreams, origin: string): Upstreams {
  return mapConnectors(inner, (connector) => ({
    ...connector,
    authorizationRequest: async (redirectUri) => {
      const request = await connector.authorizationRequest(redirectUri);
      const url = new URL(request.url);
      return { ...request, url: `${origin}${url.pathname}${url.search}` };
    },
  }));
}

test('headless: --timeout also bounds a sandbox page that never answers: TIMEOUT (exit 5), flow failed', {
  timeout: 20_000,
}, async (t) => {
  const w = await loginWorld(t);
  const upstreams = authorizeAt(w.upstreams, await stallingServer(t));
  const started = await headlessLogin({
    store: w.store,
    app: 'thrift',
    answers: { connection: 'github', persona: 'octocat', consent: 'approve' },
    upstreams,
    timeoutMs: 200,
  });
  expectFailed(started.view, 'TIMEOUT', 5);
  assert.equal((await w.store.flows.get(started.view.flow))?.status, 'failed');
});

test('headless: Ctrl-C while a sandbox page hangs ends the login as INTERRUPTED (exit 130)', {
  timeout: 20_000,
}, async (t) => {
  const w = await loginWorld(t);
  const upstreams = authorizeAt(w.upstreams, await stallingServer(t));
  const controller = new AbortController();
  const interrupt = (event: StageEvent): void => {
    if (event.stage === 'redirect') setTimeout(() => controller.abort(), 50);
  };
  const run = await headlessLogin({
    store: w.store,
    app: 'thrift',
    answers: { connection: 'github', persona: 'octocat', consent: 'approve' },
    upstreams,
    signal: controller.signal,
    onEvent: interrupt,
  });
  expectFailed(run.view, 'INTERRUPTED', 130);
  assert.equal((await w.store.flows.get(run.view.flow))?.status, 'failed');
});

/** A real (non-sandbox) OIDC connection `corp` offered by thrift, with its secret in $CORP_SECRET. */
async function realOidcConnection(w: LoginWorld, issuer: string | null): Promise<void> {
  await w.store.connections.insert({
    name: 'corp',
    type: 'oidc',
    sandbox: false,
    issuer,
    clientId: 'corp-client',
    secret: { kind: 'env', variable: 'CORP_SECRET' },
    scopes: ['openid', 'email', 'profile'],
    jit: defaultJit(),
    attributeMap: {},
  });
  await w.store.apps.update('thrift', { steps: [['password', 'google', 'github', 'corp']] });
}

async function corpLogin(w: LoginWorld, upstreams: Upstreams): Promise<FlowView> {
  const engine = await loginEngine({ store: w.store, upstreams });
  return drive(engine, scriptedAnswerer({ choose: async () => 'corp' }), {
    app: 'thrift',
    timeoutMs: 5000,
    signal: new AbortController().signal,
  });
}

test('an unreachable provider: UPSTREAM_UNREACHABLE (exit 4) naming the endpoint, never the secret', async (t) => {
  const w = await loginWorld(t);
  const port = await closedPort();
  await realOidcConnection(w, `http://127.0.0.1:${port}`);
  const secret = 'corp-secret-value-0123456789';
  const upstreams = await upstreamsFor(w.store, { env: { CORP_SECRET: secret } });
  t.after(() => upstreams.close());
  const view = await corpLogin(w, upstreams);
  const failed = expectFailed(view, 'UPSTREAM_UNREACHABLE', 4);
  assert.ok(
    failed.error.message.includes(`http://127.0.0.1:${port}/.well-known/openid-configuration`),
    failed.error.message,
  );
  assert.ok(!JSON.stringify(failed).includes(secret));
  const events = await w.store.events.list({ flow: view.flow, limit: 50 });
  assert.deepEqual([events.at(-1)!.stage, events.at(-1)!.status], ['redirect', 'failed']);
  assert.ok(!events.some((e) => e.detail.includes(secret)));
});

test('a real connection whose secret variable is unset: SECRET_MISSING (exit 3) naming the variable', async (t) => {
  const w = await loginWorld(t);
  await realOidcConnection(w, `http://127.0.0.1:${await closedPort()}`);
  const upstreams = await upstreamsFor(w.store, { env: {} });
  t.after(() => upstreams.close());
  const failed = expectFailed(await corpLogin(w, upstreams), 'SECRET_MISSING', 3);
  assert.match(failed.error.message, /\$CORP_SECRET/);
});

test('an OIDC connection without an issuer: CONNECTION_INCOMPLETE (exit 3), with the setting to fix', async (t) => {
  const w = await loginWorld(t);
  await realOidcConnection(w, null);
  const upstreams = await upstreamsFor(w.store, { env: { CORP_SECRET: 'corp-secret' } });
  t.after(() => upstreams.close());
  const failed = expectFailed(await corpLogin(w, upstreams), 'CONNECTION_INCOMPLETE', 3);
  assert.equal(failed.error.message, 'connection corp has no issuer');
  assert.equal(hintOf(failed.error), 'idp connection set corp --issuer URL');
});

test('headless mode refuses a real provider before any redirect: HEADLESS_NEEDS_SANDBOX (exit 2)', async (t) => {
  const w = await loginWorld(t);
  await realOidcConnection(w, `http://127.0.0.1:${await closedPort()}`);
  const run = await w.login('corp', 'octocat');
  const failed = expectFailed(run, 'HEADLESS_NEEDS_SANDBOX', 2);
  assert.match(hintOf(failed.error), /--sandbox|without --headless/);
  assert.ok(!run.stages.some((s) => s.stage === 'redirect'), 'no redirect was started');
});

test('password: the right one signs in (amr pwd), a wrong one is refused (exit 7) and counted; a success resets the count', async (t) => {
  const w = await loginWorld(t);
  const ok = expectDone(await w.passwordLogin('alice', 'thrift-demo'));
  assert.deepEqual(ok.amr, ['pwd']);
  assert.equal(ok.user?.username, 'alice');
  for (let i = 0; i < 4; i++) expectFailed(await w.passwordLogin('alice', 'wrong-password'), 'BAD_CREDENTIALS', 7);
  assert.equal((await w.store.users.passwordState((await w.user('alice'))!.id)).failedLogins, 4);
  expectDone(await w.passwordLogin('alice', 'thrift-demo'));
  assert.equal((await w.store.users.passwordState((await w.user('alice'))!.id)).failedLogins, 0);
});

test('five wrong passwords in a row lock the account; the right password is then refused with USER_LOCKED', async (t) => {
  const w = await loginWorld(t);
  for (let i = 0; i < 4; i++) expectFailed(await w.passwordLogin('alice', 'wrong-password'), 'BAD_CREDENTIALS', 7);
  assert.equal((await w.user('alice'))?.status, 'active');
  expectFailed(await w.passwordLogin('alice', 'wrong-password'), 'USER_LOCKED', 7);
  assert.equal((await w.user('alice'))?.status, 'locked');
  expectFailed(await w.passwordLogin('alice', 'thrift-demo'), 'USER_LOCKED', 7);
});
