// `idp serve` as an OpenID provider, seen by an openid-client relying party over real HTTP: code + PKCE through the
// sandbox GitHub, refresh, userinfo, introspection, revocation, logout, prompt=none, and the refusals an app relies on
// (redirect URI, PKCE, code reuse, CORS); one persona's concurrent first logins; a restart keeping sessions and refresh
// tokens; SIGTERM; /health.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as client from 'openid-client';
import { createShop, idpJson, seededHome } from '../helpers/idp.js';
import { authorizationRequest, discover, redeemCallback } from '../helpers/rp.js';
import { type Serving, startServe } from '../helpers/serve.js';
import { type Answer, UserAgent, viaConnection } from '../helpers/user-agent.js';

const SPA_REDIRECT = 'http://localhost:5173/callback';
const SPA_ORIGIN = 'http://localhost:5173';
const WEB_REDIRECT = 'http://localhost:3000/callback';
/** The README's exit code for SIGTERM: the server stopped after finishing the requests in flight. */
const TERMINATED = 143;

interface Org {
  home: string;
  spa: string;
  web: { clientId: string; secret: string };
}

/** The demo org with a spa and a web app whose first step offers a password and GitHub. */
async function orgWithApps(): Promise<Org> {
  const home = await seededHome();
  const steps = ['--step', '1=password,github'];
  const spa = await idpJson(createShop(SPA_REDIRECT, '--origin', SPA_ORIGIN, ...steps, '--json'), { home });
  const web = await idpJson(
    ['app', 'create', 'portal', '--type', 'web', '--redirect-uri', WEB_REDIRECT, ...steps, '--json'],
    {
      home,
    },
  );
  return { home, spa: spa.client_id, web: { clientId: web.client_id, secret: web.client_secret } };
}

interface Login {
  ua: UserAgent;
  tokens: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers;
}

/** One code + PKCE login by the RP, answering the pages with `answer` in a browser of its own unless given one. */
async function login(config: client.Configuration, redirectUri: string, answer: Answer, ua = new UserAgent()) {
  const request = await authorizationRequest(config, redirectUri);
  const callback = await ua.authorize(request.url, redirectUri, answer);
  assert.equal(callback.searchParams.get('state'), request.state, 'state comes back untouched');
  const tokens = await redeemCallback(config, callback, request);
  return { ua, tokens } satisfies Login;
}

/** An authorization request that stops at the first answer the server gives (no pages answered). */
async function authorizationCode(serving: Serving, clientId: string, verifier: string | null, ua: UserAgent) {
  const url = new URL(`${serving.base}/oauth2/authorize`);
  url.search = new URLSearchParams({
    client_id: clientId,
    redirect_uri: SPA_REDIRECT,
    response_type: 'code',
    scope: 'openid',
    state: 'st',
    ...(verifier && {
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    }),
  }).toString();
  return ua.authorize(url, SPA_REDIRECT, viaConnection('github', 'octocat'));
}

function tokenRequest(serving: Serving, params: Record<string, string>, headers: Record<string, string> = {}) {
  return fetch(`${serving.base}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(params),
  });
}

let org: Org;
let serving: Serving;
let spa: client.Configuration;
let web: client.Configuration;

before(async () => {
  org = await orgWithApps();
  serving = await startServe(org.home);
  spa = await discover(serving.issuer, org.spa);
  client.enableNonRepudiationChecks(spa);
  web = await discover(serving.issuer, org.web.clientId, org.web.secret);
});

after(async () => {
  await serving?.stop();
});

test('GET /health answers 200 {status: ok}; the listening line names the issuer and discovery under /t/<org>', async () => {
  const res = await fetch(`${serving.url}/health`);
  assert.equal(res.status, 200);
  assert.equal(((await res.json()) as { status: string }).status, 'ok');
  assert.match(serving.url, /^http:\/\/localhost:\d+$/);
  assert.match(serving.base, new RegExp(`^${serving.url}/t/[a-z0-9][a-z0-9-]*$`));
  assert.equal(serving.issuer, `${serving.base}/oauth2/token`);
  assert.equal(serving.discovery, `${serving.issuer}/.well-known/openid-configuration`);
  const metadata = spa.serverMetadata();
  assert.equal(metadata.issuer, serving.issuer);
  assert.equal(metadata.authorization_endpoint, `${serving.base}/oauth2/authorize`);
  assert.equal(metadata.token_endpoint, `${serving.base}/oauth2/token`);
  assert.equal(metadata.end_session_endpoint, `${serving.base}/oidc/logout`);
});

test('code + PKCE through the sandbox GitHub: an RS256 ID token the JWKS verifies, then userinfo and refresh', async () => {
  const { tokens } = await login(spa, SPA_REDIRECT, viaConnection('github', 'octocat'));
  assert.equal(tokens.token_type.toLowerCase(), 'bearer');
  assert.ok(tokens.access_token && tokens.expires_in && tokens.id_token && tokens.scope);
  assert.ok(tokens.refresh_token, 'a spa registered for the refresh grant gets a refresh token');
  const header = JSON.parse(Buffer.from(tokens.id_token.split('.')[0]!, 'base64url').toString());
  assert.equal(header.alg, 'RS256');
  const claims = tokens.claims()!;
  assert.equal(claims.iss, serving.issuer);
  assert.equal(claims.aud, org.spa);
  assert.equal(claims['email'], 'octocat@example.com');

  const userinfo = await client.fetchUserInfo(spa, tokens.access_token, claims.sub);
  assert.equal(userinfo.sub, claims.sub);

  const refreshed = await client.refreshTokenGrant(spa, tokens.refresh_token);
  assert.ok(refreshed.access_token);
  assert.notEqual(refreshed.access_token, tokens.access_token);
  assert.equal((await client.fetchUserInfo(spa, refreshed.access_token, claims.sub)).sub, claims.sub);
});

test('a web app: introspection says active, revocation ends the access token (introspect inactive, userinfo 401)', async () => {
  const { tokens } = await login(web, WEB_REDIRECT, viaConnection('github', 'octocat'));
  const active = await client.tokenIntrospection(web, tokens.access_token);
  assert.equal(active.active, true);
  assert.equal(active.client_id, org.web.clientId);
  await client.tokenRevocation(web, tokens.access_token);
  assert.equal((await client.tokenIntrospection(web, tokens.access_token)).active, false);
  const res = await fetch(`${serving.base}/oauth2/userinfo`, {
    headers: { authorization: `Bearer ${tokens.access_token}` },
  });
  assert.equal(res.status, 401);
});

test('prompt=none: login_required without a session, a code with one; after logout, login_required again', async () => {
  const ua = new UserAgent();
  const silent = (state: string) =>
    client.buildAuthorizationUrl(spa, {
      redirect_uri: SPA_REDIRECT,
      scope: 'openid',
      prompt: 'none',
      state,
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    });
  const none = await ua.authorize(silent('s1'), SPA_REDIRECT, () => assert.fail('prompt=none showed a page'));
  assert.equal(none.searchParams.get('error'), 'login_required');
  assert.equal(none.searchParams.get('state'), 's1');

  await login(spa, SPA_REDIRECT, viaConnection('github', 'octocat'), ua);
  const withSession = await ua.authorize(silent('s2'), SPA_REDIRECT, () => assert.fail('prompt=none showed a page'));
  assert.ok(withSession.searchParams.get('code'), `a code, got ${withSession.search}`);

  const logout = client.buildEndSessionUrl(spa, { post_logout_redirect_uri: SPA_REDIRECT, state: 'bye' });
  const back = await ua.authorize(logout, SPA_REDIRECT, (form) => {
    const yes = form.buttons.find((b) => b.name === 'logout');
    assert.ok(yes, `the logout page offers to sign out: ${JSON.stringify(form)}`);
    return { [yes.name]: yes.value };
  });
  assert.equal(back.searchParams.get('state'), 'bye');
  const after = await ua.authorize(silent('s3'), SPA_REDIRECT, () => assert.fail('prompt=none showed a page'));
  assert.equal(after.searchParams.get('error'), 'login_required');
});

test('logout to a post_logout_redirect_uri the app did not register is refused without a redirect', async () => {
  const url = client.buildEndSessionUrl(spa, {
    post_logout_redirect_uri: 'http://localhost:5173/elsewhere',
    state: 'x',
  });
  const res = await fetch(url, { redirect: 'manual' });
  assert.equal(res.headers.get('location'), null);
  assert.ok(res.status >= 400, `status ${res.status}`);
});

test('a redirect_uri the app did not register gets an error page and no redirect', async () => {
  const url = client.buildAuthorizationUrl(spa, {
    redirect_uri: 'http://localhost:5173/evil',
    scope: 'openid',
    state: 'x',
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    code_challenge_method: 'S256',
  });
  const res = await fetch(url, { redirect: 'manual' });
  assert.equal(res.status, 400);
  assert.equal(res.headers.get('location'), null);
  assert.match(res.headers.get('content-type') ?? '', /text\/html/);
  assert.match(await res.text(), /redirect_uri/);
});

test('a public client without PKCE is refused: the app gets invalid_request and no code', async () => {
  const back = await authorizationCode(serving, org.spa, null, new UserAgent());
  assert.equal(back.searchParams.get('error'), 'invalid_request');
  assert.equal(back.searchParams.get('code'), null);
});

test('the token endpoint refuses a missing or wrong PKCE verifier, and a code used twice', async () => {
  const verifier = client.randomPKCECodeVerifier();
  const redeem = (code: string, codeVerifier?: string) =>
    tokenRequest(serving, {
      grant_type: 'authorization_code',
      code,
      redirect_uri: SPA_REDIRECT,
      client_id: org.spa,
      ...(codeVerifier !== undefined && { code_verifier: codeVerifier }),
    });
  const ua = new UserAgent();
  const invalidGrant = async (res: Response, what: string) => {
    assert.equal(res.status, 400, what);
    assert.equal(((await res.json()) as { error: string }).error, 'invalid_grant', what);
  };

  const missing = (await authorizationCode(serving, org.spa, verifier, ua)).searchParams.get('code')!;
  await invalidGrant(await redeem(missing), 'no verifier');
  const wrong = (await authorizationCode(serving, org.spa, verifier, ua)).searchParams.get('code')!;
  await invalidGrant(await redeem(wrong, client.randomPKCECodeVerifier()), 'another verifier');

  const code = (await authorizationCode(serving, org.spa, verifier, ua)).searchParams.get('code')!;
  const first = await redeem(code, verifier);
  assert.equal(first.status, 200);
  await invalidGrant(await redeem(code, verifier), 'the same code again');
});

test('CORS: a registered origin gets itself and credentials; an unregistered one gets no Access-Control-Allow-Origin', async () => {
  const preflight = (origin: string, path: string) =>
    fetch(`${serving.base}${path}`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
  for (const path of ['/oauth2/token', '/oauth2/revoke', '/oauth2/userinfo']) {
    const allowed = await preflight(SPA_ORIGIN, path);
    assert.equal(allowed.headers.get('access-control-allow-origin'), SPA_ORIGIN, `${path} preflight`);
    assert.equal(allowed.headers.get('access-control-allow-credentials'), 'true', `${path} preflight`);
  }
  // The browser sends the actual request only after the preflight; a foreign origin's actual request must not be
  // readable either: no Allow-Origin on the response, whatever its status.
  const stranger = 'http://localhost:6666';
  const token = await tokenRequest(
    serving,
    { grant_type: 'refresh_token', refresh_token: 'nope', client_id: org.spa },
    { origin: stranger },
  );
  assert.equal(token.headers.get('access-control-allow-origin'), null);
  const ours = await tokenRequest(
    serving,
    { grant_type: 'refresh_token', refresh_token: 'nope', client_id: org.spa },
    { origin: SPA_ORIGIN },
  );
  assert.equal(ours.headers.get('access-control-allow-origin'), SPA_ORIGIN);
  assert.equal(ours.headers.get('access-control-allow-credentials'), 'true');
  for (const path of ['/oauth2/jwks', '/oauth2/token/.well-known/openid-configuration']) {
    const res = await fetch(`${serving.base}${path}`, { headers: { origin: stranger } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), null, `${path} for an unregistered origin`);
  }
});

test('20 concurrent first logins of one persona through the server create exactly one user', async () => {
  const home = (await orgWithApps()).home;
  const own = await startServe(home);
  try {
    const config = await discover(own.issuer, (await idpJson(['app', 'show', 'shop', '--json'], { home })).client_id);
    const logins = await Promise.all(
      Array.from({ length: 20 }, () => login(config, SPA_REDIRECT, viaConnection('github', 'hubber'))),
    );
    const subs = new Set(logins.map((l) => l.tokens.claims()!.sub));
    assert.equal(subs.size, 1, 'every login is the same user');
    const { users } = await idpJson<{ users: { email: string }[] }>(['users', 'list', '--json'], { home });
    const hubbers = users.filter((u) => u.email === 'hubber@example.com');
    assert.equal(hubbers.length, 1, JSON.stringify(hubbers));
  } finally {
    assert.equal(await own.stop(), TERMINATED);
  }
});

test('sessions and refresh tokens survive a restart on the same port; SIGTERM drains and exits 143', async () => {
  const { home, spa: clientId } = await orgWithApps();
  const first = await startServe(home);
  const config = await discover(first.issuer, clientId);
  const { ua, tokens } = await login(config, SPA_REDIRECT, viaConnection('github', 'octocat'));
  assert.equal(await first.stop(), TERMINATED, `SIGTERM exit code; stderr: ${first.stderr()}`);

  // The same port, so the issuer and the browser's cookies (scoped to localhost:PORT) are the same as before.
  const second = await startServe(home, { port: Number(new URL(first.url).port) });
  try {
    assert.equal(second.issuer, first.issuer);
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
    assert.equal(refreshed.claims()?.sub, tokens.claims()?.sub);
    const silent = client.buildAuthorizationUrl(config, {
      redirect_uri: SPA_REDIRECT,
      scope: 'openid',
      prompt: 'none',
      state: 'again',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    });
    const back = await ua.authorize(silent, SPA_REDIRECT, () => assert.fail('prompt=none showed a page'));
    assert.ok(back.searchParams.get('code'), `the session outlived the restart: ${back.search}`);
  } finally {
    assert.equal(await second.stop(), TERMINATED);
  }
});

test('with --json, everything the server printed on stdout during this file is a JSON line', () => {
  const other = serving.lines.filter((l) => l.event === 'not-json');
  assert.deepEqual(other, []);
  assert.ok(
    serving.lines.some((l) => l.event === 'stage'),
    'the flows above printed their stages',
  );
});
