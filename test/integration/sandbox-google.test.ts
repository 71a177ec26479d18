// The Google-like sandbox over real loopback sockets: discovery, the code flow with PKCE and nonce driven by
// completeSandboxConsent, ID tokens verified with jose against the published JWKS, userinfo, and refusals.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import type { RunningSandbox } from '../../src/ports.js';
import { startSandbox } from '../../src/sandbox/server.js';
import { loadPersonas } from '../../src/sandbox/personas.js';
import { completeSandboxConsent } from '../../src/sandbox/automate.js';
import { IdpError } from '../../src/core/errors.js';
import { hintOf } from '../helpers/hints.js';

const CLIENT = {
  provider: 'google' as const,
  clientId: 'thrift.apps.sandbox',
  clientSecret: 'google-secret-0123456789',
  appName: 'Thrift',
};
const REDIRECT_URI = 'http://127.0.0.1:49153/callback';

let sandbox: RunningSandbox;
let issuer: string;
let discovery: Record<string, unknown>;

before(async () => {
  sandbox = await startSandbox({ providers: ['google'], clients: [CLIENT], personas: loadPersonas() });
  assert.ok(sandbox.google);
  assert.equal(sandbox.github, undefined);
  issuer = sandbox.google.issuer;
  discovery = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
});

after(() => sandbox.close());

function endpoint(name: string): string {
  const value = discovery[name];
  assert.equal(typeof value, 'string', name);
  return value as string;
}

interface Request {
  url: string;
  verifier: string;
  nonce: string;
  state: string;
}

function authorizationRequest(extra: Record<string, string | null> = {}): Request {
  const verifier = randomBytes(32).toString('base64url');
  const nonce = randomBytes(12).toString('base64url');
  const state = randomBytes(12).toString('base64url');
  const url = new URL(endpoint('authorization_endpoint'));
  const params: Record<string, string | null> = {
    client_id: CLIENT.clientId,
    redirect_uri: REDIRECT_URI,
    response_type: 'code',
    scope: 'openid email profile',
    state,
    nonce,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    ...extra,
  };
  for (const [key, value] of Object.entries(params)) if (value !== null) url.searchParams.set(key, value);
  return { url: url.href, verifier, nonce, state };
}

async function redeem(code: string, verifier: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(endpoint('token_endpoint'), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      code_verifier: verifier,
      client_id: CLIENT.clientId,
      client_secret: CLIENT.clientSecret,
    }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Signs in as `persona` and returns the verified ID token claims and the access token. */
async function signIn(persona: string): Promise<{ claims: JWTPayload; accessToken: string }> {
  const request = authorizationRequest();
  const callback = new URL(await completeSandboxConsent(request.url, { persona, consent: 'approve' }));
  assert.equal(`${callback.origin}${callback.pathname}`, REDIRECT_URI);
  assert.equal(callback.searchParams.get('state'), request.state);
  assert.equal(callback.searchParams.get('iss'), issuer);
  const { status, body } = await redeem(callback.searchParams.get('code') ?? '', request.verifier);
  assert.equal(status, 200, JSON.stringify(body));
  const jwks = createRemoteJWKSet(new URL(endpoint('jwks_uri')));
  const { payload, protectedHeader } = await jwtVerify(String(body['id_token']), jwks, {
    issuer,
    audience: CLIENT.clientId,
  });
  assert.equal(protectedHeader.alg, 'RS256');
  assert.equal(payload['nonce'], request.nonce);
  return { claims: payload, accessToken: String(body['access_token']) };
}

test('the discovery document describes an OpenID provider on 127.0.0.1 with S256 PKCE and RS256', async () => {
  assert.equal(new URL(issuer).hostname, '127.0.0.1');
  assert.equal(discovery['issuer'], issuer);
  for (const name of ['authorization_endpoint', 'token_endpoint', 'userinfo_endpoint', 'jwks_uri'])
    assert.ok(endpoint(name).startsWith(`${issuer}/`), name);
  assert.deepEqual(discovery['code_challenge_methods_supported'], ['S256']);
  assert.deepEqual(discovery['id_token_signing_alg_values_supported'], ['RS256']);
  assert.deepEqual(discovery['response_types_supported'], ['code']);
  for (const claim of ['email', 'email_verified', 'name', 'given_name', 'family_name', 'picture']) {
    assert.ok((discovery['claims_supported'] as string[]).includes(claim), claim);
  }
  const jwks = (await (await fetch(endpoint('jwks_uri'))).json()) as { keys: Record<string, unknown>[] };
  assert.equal(jwks.keys.length, 1);
  assert.equal(jwks.keys[0]?.['kty'], 'RSA');
  assert.equal(jwks.keys[0]?.['d'], undefined, 'the private part never leaves the provider');
});

test("bob signs in: the ID token verifies against the JWKS and carries Google's claims", async () => {
  const { claims, accessToken } = await signIn('bob');
  assert.equal(claims.sub, '108234567890123456781');
  assert.equal(claims['email'], 'bob@example.com');
  assert.equal(claims['email_verified'], true);
  assert.equal(claims['name'], 'Bob Builder');
  assert.equal(claims['given_name'], 'Bob');
  assert.equal(claims['family_name'], 'Builder');
  assert.equal(claims['picture'], 'https://avatars.example/bob.png');
  const userinfo = await fetch(endpoint('userinfo_endpoint'), { headers: { authorization: `Bearer ${accessToken}` } });
  assert.equal(userinfo.status, 200);
  const info = (await userinfo.json()) as Record<string, unknown>;
  assert.equal(info['sub'], claims.sub);
  assert.equal(info['email'], 'bob@example.com');
  assert.equal(info['email_verified'], true);
});

test("carol's email is not verified", async () => {
  const { claims } = await signIn('carol');
  assert.equal(claims['email'], 'carol@example.com');
  assert.equal(claims['email_verified'], false);
});

test('Deny sends access_denied back to the client with the state', async () => {
  const request = authorizationRequest();
  const callback = new URL(await completeSandboxConsent(request.url, { persona: 'alice', consent: 'deny' }));
  assert.equal(`${callback.origin}${callback.pathname}`, REDIRECT_URI);
  assert.equal(callback.searchParams.get('error'), 'access_denied');
  assert.equal(callback.searchParams.get('state'), request.state);
  assert.equal(callback.searchParams.get('code'), null);
});

test('a code is single use, and needs the right PKCE verifier', async () => {
  const request = authorizationRequest();
  const code =
    new URL(await completeSandboxConsent(request.url, { persona: 'bob', consent: 'approve' })).searchParams.get(
      'code',
    ) ?? '';
  const wrong = await redeem(code, randomBytes(32).toString('base64url'));
  assert.equal(wrong.status, 400);
  assert.equal(wrong.body['error'], 'invalid_grant');
  const other = authorizationRequest();
  const otherCode =
    new URL(await completeSandboxConsent(other.url, { persona: 'bob', consent: 'approve' })).searchParams.get('code') ??
    '';
  assert.equal((await redeem(otherCode, other.verifier)).status, 200);
  const replay = await redeem(otherCode, other.verifier);
  assert.equal(replay.status, 400);
  assert.equal(replay.body['error'], 'invalid_grant');
});

test('PKCE is required: a request without code_challenge is refused', async () => {
  const request = authorizationRequest({ code_challenge: null, code_challenge_method: null });
  const callback = new URL(await completeSandboxConsent(request.url, { persona: 'bob', consent: 'approve' }));
  assert.equal(callback.searchParams.get('error'), 'invalid_request');
  assert.match(callback.searchParams.get('error_description') ?? '', /PKCE/);
});

test('the account chooser offers the Google personas; an unknown one is refused with the list', async () => {
  await assert.rejects(
    completeSandboxConsent(authorizationRequest().url, { persona: 'bobby', consent: 'approve' }),
    (err: unknown) => {
      assert.ok(err instanceof IdpError);
      assert.equal(err.code, 'UNKNOWN_PERSONA');
      assert.match(hintOf(err), /bob, alice, carol/);
      return true;
    },
  );
});

test('a loopback redirect URI may use any port, but not another path', async () => {
  const otherPort = authorizationRequest({ redirect_uri: 'http://127.0.0.1:1/callback' });
  const callback = new URL(await completeSandboxConsent(otherPort.url, { persona: 'bob', consent: 'approve' }));
  assert.equal(callback.port, '1');
  assert.ok(callback.searchParams.get('code'));
  const otherPath = authorizationRequest({ redirect_uri: 'http://127.0.0.1:49153/elsewhere' });
  await assert.rejects(
    completeSandboxConsent(otherPath.url, { persona: 'bob', consent: 'approve' }),
    (err: unknown) => {
      assert.ok(err instanceof IdpError);
      assert.equal(err.code, 'UPSTREAM_ERROR');
      assert.match(err.message, /redirect_uri/);
      return true;
    },
  );
});
