// The GitHub connector against the GitHub-like sandbox over real loopback HTTP: profiles, state and redirect URI
// checks, consent denial, GitHub's HTTP-200 token errors and an unreachable token endpoint.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createConnector } from '../../src/federation/index.js';
import { defaultScopes } from '../../src/core/connection-defaults.js';
import type { AuthRequest, Connector } from '../../src/ports.js';
import { loadPersonas } from '../../src/sandbox/personas.js';
import type { RunningSandbox } from '../../src/ports.js';
import { startSandbox } from '../../src/sandbox/server.js';
import { completeSandboxConsent } from '../../src/sandbox/automate.js';
import { closedPort, rejectsWith, startCountingProxy, withParam, type CountingProxy } from './federation-helpers.js';
import { hintOf } from '../helpers/hints.js';

const CLIENT = {
  provider: 'github',
  clientId: 'Iv1.fed0test',
  clientSecret: 'github-sandbox-secret-0001',
  appName: 'Federation test',
} as const;
const TOKEN_PATH = '/login/oauth/access_token';

let sandbox: RunningSandbox;
let github: NonNullable<RunningSandbox['github']>;
let proxy: CountingProxy;
let redirectUri: string;

before(async () => {
  sandbox = await startSandbox({ providers: ['github'], clients: [CLIENT], personas: loadPersonas() });
  github = sandbox.github!;
  proxy = await startCountingProxy(github.url);
  redirectUri = `http://127.0.0.1:${await closedPort()}/callback`;
});

after(async () => {
  await proxy.close();
  await sandbox.close();
});

/** A connector whose token requests go through the counting proxy, unless `tokenUrl` says otherwise. */
function connector(overrides: { clientSecret?: string; tokenUrl?: string } = {}): Promise<Connector> {
  return createConnector({
    type: 'github',
    endpoints: {
      kind: 'github',
      authorizeUrl: github.authorizeUrl,
      tokenUrl: overrides.tokenUrl ?? `${proxy.url}${TOKEN_PATH}`,
      apiBase: github.apiBase,
    },
    clientId: CLIENT.clientId,
    clientSecret: overrides.clientSecret ?? CLIENT.clientSecret,
    scopes: defaultScopes('github'),
  });
}

async function consent(
  c: Connector,
  persona: string,
  answer: 'approve' | 'deny' = 'approve',
): Promise<{ request: AuthRequest; callback: string }> {
  const request = await c.authorizationRequest(redirectUri);
  return { request, callback: await completeSandboxConsent(request.url, { persona, consent: answer }) };
}

test('the authorization URL carries PKCE S256, state, nonce, scopes and the redirect URI', async () => {
  const c = await connector();
  const request = await c.authorizationRequest(redirectUri);
  const params = new URL(request.url).searchParams;
  assert.equal(new URL(request.url).origin + new URL(request.url).pathname, github.authorizeUrl);
  assert.equal(params.get('code_challenge_method'), 'S256');
  assert.match(params.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
  assert.equal(params.get('state'), request.state);
  assert.equal(params.get('nonce'), request.nonce);
  assert.equal(params.get('redirect_uri'), redirectUri);
  assert.equal(params.get('scope'), 'read:user user:email');
  assert.equal(params.get('client_id'), CLIENT.clientId);
  assert.ok(request.codeVerifier.length >= 43);
  assert.equal(request.redirectUri, redirectUri);
  const second = await c.authorizationRequest(redirectUri);
  assert.notEqual(second.state, request.state);
  assert.notEqual(second.codeVerifier, request.codeVerifier);
});

test('octocat signs in: the subject is the numeric id and the public email is verified', async () => {
  const c = await connector();
  const { request, callback } = await consent(c, 'octocat');
  const tokens = await c.exchangeCode(new URL(callback), request);
  assert.ok(tokens.accessToken.length > 0);
  assert.equal(tokens.idToken, null);
  assert.equal(tokens.idTokenClaims, null);
  const profile = await c.fetchProfile(tokens);
  assert.equal(profile.subject, '583231');
  assert.deepEqual(profile.claims, {
    email: 'octocat@example.com',
    email_verified: true,
    name: 'The Octocat',
    preferred_username: 'octocat',
    picture: 'https://avatars.example/octocat.png',
    github_login: 'octocat',
  });
});

test('hubber has no public email: the primary verified address comes from /user/emails', async () => {
  const c = await connector();
  const { request, callback } = await consent(c, 'hubber');
  const profile = await c.fetchProfile(await c.exchangeCode(new URL(callback), request));
  assert.equal(profile.subject, '1000001');
  assert.equal(profile.claims.email, 'hubber@example.com');
  assert.equal(profile.claims.email_verified, true);
  assert.equal(profile.claims.preferred_username, 'hubber');
});

test('an unverified primary address is passed on with email_verified false', async () => {
  const c = await connector();
  const { request, callback } = await consent(c, 'unverified-gh');
  const profile = await c.fetchProfile(await c.exchangeCode(new URL(callback), request));
  assert.equal(profile.subject, '1000003');
  assert.equal(profile.claims.email, 'unverified@example.com');
  assert.equal(profile.claims.email_verified, false);
});

test('a wrong or missing state never reaches the token endpoint, and the code stays redeemable', async () => {
  const c = await connector();
  const { request, callback } = await consent(c, 'octocat');
  const before = proxy.hits(TOKEN_PATH);
  for (const tampered of [
    withParam(callback, 'state', `${request.state}x`),
    withParam(callback, 'state', null),
    new URL(`${callback}&state=${request.state}`),
  ]) {
    const err = await rejectsWith(c.exchangeCode(tampered, request), 'STATE_MISMATCH');
    assert.ok(!err.message.includes(request.state), 'the state is not echoed');
  }
  assert.equal(proxy.hits(TOKEN_PATH), before, 'no token request was made');
  const profile = await c.fetchProfile(await c.exchangeCode(new URL(callback), request));
  assert.equal(profile.subject, '583231');
  assert.equal(proxy.hits(TOKEN_PATH), before + 1);
});

test('the redirect_uri sent for the code is the registered one, not the callback host', async () => {
  const c = await connector();
  const { request, callback } = await consent(c, 'octocat');
  const spoofed = new URL(callback);
  spoofed.host = 'evil.example:8443';
  spoofed.pathname = '/elsewhere';
  // The sandbox refuses a redirect_uri that differs from the authorization request's, so success proves it.
  const tokens = await c.exchangeCode(spoofed, request);
  assert.equal((await c.fetchProfile(tokens)).subject, '583231');
});

test('denied consent is UPSTREAM_DENIED and no token request is made', async () => {
  const c = await connector();
  const { request, callback } = await consent(c, 'octocat', 'deny');
  const before = proxy.hits(TOKEN_PATH);
  const err = await rejectsWith(c.exchangeCode(new URL(callback), request), 'UPSTREAM_DENIED');
  assert.equal(err.message, 'consent denied at GitHub');
  assert.equal(err.exitCode, 4);
  assert.equal(proxy.hits(TOKEN_PATH), before);
});

test("a wrong client secret is UPSTREAM_ERROR naming GitHub's error, without secret or code", async () => {
  const c = await connector({ clientSecret: 'not-the-secret-at-all' });
  const { request, callback } = await consent(c, 'octocat');
  const err = await rejectsWith(c.exchangeCode(new URL(callback), request), 'UPSTREAM_ERROR');
  assert.match(err.message, /incorrect_client_credentials/);
  assert.match(hintOf(err), /client secret/);
  const code = new URL(callback).searchParams.get('code')!;
  for (const secret of ['not-the-secret-at-all', CLIENT.clientSecret, code, request.codeVerifier]) {
    assert.ok(!err.message.includes(secret) && !hintOf(err).includes(secret));
  }
});

test('a code redeemed twice is UPSTREAM_ERROR bad_verification_code (HTTP 200 error body)', async () => {
  const c = await connector();
  const { request, callback } = await consent(c, 'hubber');
  await c.exchangeCode(new URL(callback), request);
  const err = await rejectsWith(c.exchangeCode(new URL(callback), request), 'UPSTREAM_ERROR');
  assert.match(err.message, /bad_verification_code/);
  assert.match(hintOf(err), /already used/);
});

test('an unreachable token endpoint is UPSTREAM_UNREACHABLE naming its URL', async () => {
  const tokenUrl = `http://127.0.0.1:${await closedPort()}${TOKEN_PATH}`;
  const c = await connector({ tokenUrl });
  const { request, callback } = await consent(c, 'octocat');
  const err = await rejectsWith(c.exchangeCode(new URL(callback), request), 'UPSTREAM_UNREACHABLE');
  assert.ok(err.message.includes(tokenUrl), err.message);
  assert.match(err.message, /ECONNREFUSED/);
});

test('plain http is refused for endpoints that are not loopback hosts', async () => {
  for (const [field, value] of [
    ['authorizeUrl', 'http://github.example/login/oauth/authorize'],
    ['tokenUrl', 'http://10.0.0.1/login/oauth/access_token'],
    ['apiBase', 'http://api.github.example'],
  ] as const) {
    const endpoints = {
      kind: 'github' as const,
      authorizeUrl: github.authorizeUrl,
      tokenUrl: github.tokenUrl,
      apiBase: github.apiBase,
      [field]: value,
    };
    const err = await rejectsWith(
      createConnector({
        type: 'github',
        endpoints,
        clientId: CLIENT.clientId,
        clientSecret: CLIENT.clientSecret,
        scopes: [],
      }),
      'INVALID_VALUE',
    );
    assert.match(err.message, /must use https/);
  }
});
