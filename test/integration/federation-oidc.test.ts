// The OIDC connector against the Google-like sandbox (oidc-provider) over real loopback HTTP: verified ID tokens
// (signature included), userinfo claims, state, nonce and issuer checks, consent denial and upstream failures.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createConnector } from '../../src/federation/index.js';
import { defaultScopes } from '../../src/core/connection-defaults.js';
import type { AuthRequest, Connector } from '../../src/ports.js';
import { loadPersonas } from '../../src/sandbox/personas.js';
import type { RunningSandbox } from '../../src/ports.js';
import { startSandbox } from '../../src/sandbox/server.js';
import { completeSandboxConsent } from '../../src/sandbox/automate.js';
import { closedPort, rejectsWith, startCountingProxy, withParam } from './federation-helpers.js';

const CLIENT = {
  provider: 'google',
  clientId: 'fed-test.apps.googleusercontent.com',
  clientSecret: 'google-sandbox-secret-0001',
  appName: 'Federation test',
} as const;
const BOB_SUB = '108234567890123456781';

let sandbox: RunningSandbox;
let issuer: string;
let redirectUri: string;

before(async () => {
  sandbox = await startSandbox({ providers: ['google'], clients: [CLIENT], personas: loadPersonas() });
  issuer = sandbox.google!.issuer;
  redirectUri = `http://127.0.0.1:${await closedPort()}/callback`;
});

after(() => sandbox.close());

function connector(
  overrides: { issuer?: string; clientSecret?: string; type?: 'google' | 'oidc' } = {},
): Promise<Connector> {
  return createConnector({
    type: overrides.type ?? 'google',
    endpoints: { kind: 'oidc', issuer: overrides.issuer ?? issuer },
    clientId: CLIENT.clientId,
    clientSecret: overrides.clientSecret ?? CLIENT.clientSecret,
    scopes: defaultScopes('google'),
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

/** Runs `fn` while the token endpoint's JSON answers pass through `edit`: a man in the middle on the token response. */
async function withTamperedTokenResponses<T>(
  edit: (body: Record<string, unknown>) => Record<string, unknown>,
  fn: () => Promise<T>,
): Promise<T> {
  const metadata = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as {
    token_endpoint: string;
  };
  const realFetch = globalThis.fetch;
  globalThis.fetch = async (input, init) => {
    const response = await realFetch(input, init);
    if (String(input) !== metadata.token_endpoint || !response.ok) return response;
    const body = edit((await response.json()) as Record<string, unknown>);
    return new Response(JSON.stringify(body), {
      status: response.status,
      headers: { 'content-type': 'application/json' },
    });
  };
  try {
    return await fn();
  } finally {
    globalThis.fetch = realFetch;
  }
}

test('the authorization URL carries PKCE S256, state, nonce and the openid scopes', async () => {
  const c = await connector();
  const request = await c.authorizationRequest(redirectUri);
  const params = new URL(request.url).searchParams;
  assert.ok(request.url.startsWith(`${issuer}/`));
  assert.equal(params.get('code_challenge_method'), 'S256');
  assert.match(params.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
  assert.equal(params.get('state'), request.state);
  assert.equal(params.get('nonce'), request.nonce);
  assert.equal(params.get('scope'), 'openid email profile');
  assert.equal(params.get('redirect_uri'), redirectUri);
  assert.equal(params.get('response_type'), 'code');
});

test('bob signs in: a verified ID token, then userinfo claims under their OIDC names', async () => {
  const c = await connector();
  const { request, callback } = await consent(c, 'bob');
  const tokens = await c.exchangeCode(new URL(callback), request);
  assert.ok(tokens.idToken);
  const claims = tokens.idTokenClaims!;
  assert.equal(claims.sub, BOB_SUB);
  assert.equal(claims.iss, issuer);
  assert.equal(claims.aud, CLIENT.clientId);
  assert.equal(claims.nonce, request.nonce);
  assert.ok(typeof claims.exp === 'number' && claims.exp > Date.now() / 1000);
  const profile = await c.fetchProfile(tokens);
  assert.equal(profile.subject, BOB_SUB);
  assert.deepEqual(profile.claims, {
    email: 'bob@example.com',
    email_verified: true,
    name: 'Bob Builder',
    given_name: 'Bob',
    family_name: 'Builder',
    picture: 'https://avatars.example/bob.png',
  });
});

test("carol's unverified email comes through as email_verified false", async () => {
  const c = await connector({ type: 'oidc' });
  const { request, callback } = await consent(c, 'carol');
  const profile = await c.fetchProfile(await c.exchangeCode(new URL(callback), request));
  assert.equal(profile.subject, '108234567890123456783');
  assert.equal(profile.claims.email, 'carol@example.com');
  assert.equal(profile.claims.email_verified, false);
});

test('a wrong or missing state is refused before the token endpoint: the code is still redeemable', async () => {
  const c = await connector();
  const { request, callback } = await consent(c, 'bob');
  await rejectsWith(c.exchangeCode(withParam(callback, 'state', 'forged-state'), request), 'STATE_MISMATCH');
  await rejectsWith(c.exchangeCode(withParam(callback, 'state', null), request), 'STATE_MISMATCH');
  // oidc-provider codes are single-use: had either attempt redeemed it, this exchange would fail with invalid_grant.
  const tokens = await c.exchangeCode(new URL(callback), request);
  assert.equal(tokens.idTokenClaims?.sub, BOB_SUB);
});

test('an ID token for another nonce is NONCE_MISMATCH', async () => {
  const c = await connector();
  const { request, callback } = await consent(c, 'bob');
  const err = await rejectsWith(
    c.exchangeCode(new URL(callback), { ...request, nonce: 'some-other-login' }),
    'NONCE_MISMATCH',
  );
  assert.equal(err.exitCode, 6);
});

test('an ID token whose claims were altered in transit fails its signature check: ID_TOKEN_INVALID', async () => {
  const c = await connector();
  const { request, callback } = await consent(c, 'bob');
  const asAlice = (body: Record<string, unknown>): Record<string, unknown> => {
    const [header, payload, signature] = String(body.id_token).split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8')) as Record<string, unknown>;
    const forged = Buffer.from(
      JSON.stringify({ ...claims, sub: '108234567890123456782', email: 'alice@example.com' }),
    ).toString('base64url');
    return { ...body, id_token: `${header}.${forged}.${signature}` };
  };
  const err = await withTamperedTokenResponses(asAlice, () =>
    rejectsWith(c.exchangeCode(new URL(callback), request), 'ID_TOKEN_INVALID'),
  );
  assert.match(err.message, /signature/);
});

test('denied consent is UPSTREAM_DENIED', async () => {
  const c = await connector();
  const { request, callback } = await consent(c, 'bob', 'deny');
  const err = await rejectsWith(c.exchangeCode(new URL(callback), request), 'UPSTREAM_DENIED');
  assert.equal(err.message, 'consent denied at Google');
});

test("an issuer that answers with another issuer's metadata is ISSUER_MISMATCH", async () => {
  const proxy = await startCountingProxy(issuer);
  try {
    const err = await rejectsWith(connector({ issuer: proxy.url }), 'ISSUER_MISMATCH');
    assert.ok(err.message.includes(issuer) && err.message.includes(proxy.url), err.message);
    assert.equal(proxy.hits('/.well-known/openid-configuration'), 1);
  } finally {
    await proxy.close();
  }
});

test('a discovery document URL is refused as an issuer (it would skip the issuer check)', async () => {
  await rejectsWith(connector({ issuer: `${issuer}/.well-known/openid-configuration` }), 'INVALID_VALUE');
});

test('an unreachable issuer is UPSTREAM_UNREACHABLE naming the discovery URL', async () => {
  const dead = `http://127.0.0.1:${await closedPort()}`;
  const err = await rejectsWith(connector({ issuer: dead }), 'UPSTREAM_UNREACHABLE');
  assert.ok(err.message.includes(`${dead}/.well-known/openid-configuration`), err.message);
});

test('a wrong client secret is UPSTREAM_ERROR without the secret or the code', async () => {
  const c = await connector({ clientSecret: 'not-the-secret-at-all' });
  const { request, callback } = await consent(c, 'bob');
  const err = await rejectsWith(c.exchangeCode(new URL(callback), request), 'UPSTREAM_ERROR');
  assert.match(err.message, /invalid_client/);
  const code = new URL(callback).searchParams.get('code')!;
  for (const secret of ['not-the-secret-at-all', code, request.codeVerifier]) assert.ok(!err.message.includes(secret));
});

test('an http issuer that is not a loopback host is refused', async () => {
  const err = await rejectsWith(connector({ issuer: 'http://accounts.google.example' }), 'INVALID_VALUE');
  assert.match(err.message, /must use https/);
});
