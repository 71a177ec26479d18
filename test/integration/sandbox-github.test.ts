// The GitHub-like sandbox over real loopback sockets: GitHub's OAuth app protocol walked by hand with fetch
// (authorize page, code, access_token in JSON and form encodings, /user and /user/emails), and its refusals.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type { RunningSandbox } from '../../src/ports.js';
import { DEFAULT_SANDBOX_REDIRECT_URI, startSandbox } from '../../src/sandbox/server.js';
import { githubRedirectMatches } from '../../src/sandbox/github.js';
import { githubEndpoints } from '../../src/federation/index.js';
import { loadPersonas } from '../../src/sandbox/personas.js';
import { completeSandboxConsent } from '../../src/sandbox/automate.js';
import { IdpError } from '../../src/core/errors.js';
import { hintOf } from '../helpers/hints.js';

const CLIENT = {
  provider: 'github' as const,
  clientId: 'Iv1.sandbox-thrift',
  clientSecret: 'thrift-secret-0123456789',
  appName: 'Thrift',
};
// Registered without a port: GitHub's loopback rule lets the callback's port vary.
const REDIRECT_URI = 'http://127.0.0.1:49152/callback';

let sandbox: RunningSandbox;
let github: NonNullable<RunningSandbox['github']>;

before(async () => {
  sandbox = await startSandbox({ providers: ['github'], clients: [CLIENT], personas: loadPersonas() });
  assert.ok(sandbox.github);
  github = sandbox.github;
});

after(() => sandbox.close());

interface Pkce {
  verifier: string;
  challenge: string;
}

function newPkce(): Pkce {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

function authorizeUrl(pkce: Pkce | null, extra: Record<string, string> = {}): string {
  const url = new URL(github.authorizeUrl);
  const params: Record<string, string> = {
    client_id: CLIENT.clientId,
    redirect_uri: REDIRECT_URI,
    state: 'state-123',
    scope: 'read:user user:email',
    ...(pkce && { code_challenge: pkce.challenge, code_challenge_method: 'S256' }),
    ...extra,
  };
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  return url.href;
}

/** What a user does in the browser: open the authorize page, pick an account, press a button. */
async function authorizeByHand(url: string, persona: string, decision: 'approve' | 'deny'): Promise<URL> {
  const page = await fetch(url);
  assert.equal(page.status, 200);
  const html = await page.text();
  const requestId = /name="request_id" value="([^"]+)"/.exec(html)?.[1];
  assert.ok(requestId, 'the authorize page carries its request id');
  const res = await fetch(new URL('/login/oauth/authorize', github.url), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ request_id: requestId, persona, decision }),
    redirect: 'manual',
  });
  assert.equal(res.status, 302);
  return new URL(res.headers.get('location') ?? '');
}

async function codeFor(persona: string, pkce: Pkce | null, extra: Record<string, string> = {}): Promise<string> {
  const callback = await authorizeByHand(authorizeUrl(pkce, extra), persona, 'approve');
  const code = callback.searchParams.get('code');
  assert.ok(code);
  return code;
}

async function exchange(
  params: Record<string, string>,
  accept = 'application/json',
): Promise<{ status: number; body: Record<string, string> }> {
  const res = await fetch(github.tokenUrl, {
    method: 'POST',
    headers: { accept, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      client_id: CLIENT.clientId,
      client_secret: CLIENT.clientSecret,
      redirect_uri: REDIRECT_URI,
      ...params,
    }),
  });
  const text = await res.text();
  const body =
    accept === 'application/json'
      ? (JSON.parse(text) as Record<string, string>)
      : Object.fromEntries(new URLSearchParams(text));
  return { status: res.status, body };
}

async function tokenFor(persona: string, scope = 'read:user user:email'): Promise<string> {
  const pkce = newPkce();
  const code = await codeFor(persona, pkce, { scope });
  const { body } = await exchange({ code, code_verifier: pkce.verifier });
  assert.ok(body['access_token'], JSON.stringify(body));
  return body['access_token'];
}

function api(path: string, token: string, scheme = 'Bearer'): Promise<Response> {
  return fetch(`${github.apiBase}${path}`, {
    headers: { authorization: `${scheme} ${token}`, accept: 'application/vnd.github+json' },
  });
}

test('the sandbox listens on 127.0.0.1 with GitHub paths and the API under /api/v3, as a GitHub Enterprise Server', async () => {
  const base = new URL(github.url);
  assert.equal(base.hostname, '127.0.0.1');
  assert.equal(github.authorizeUrl, `${github.url}/login/oauth/authorize`);
  assert.equal(github.tokenUrl, `${github.url}/login/oauth/access_token`);
  assert.equal(github.apiBase, `${github.url}/api/v3`);
  assert.deepEqual(
    githubEndpoints(github.url),
    { kind: 'github', authorizeUrl: github.authorizeUrl, tokenUrl: github.tokenUrl, apiBase: github.apiBase },
    'the base URL a GHES connection takes',
  );
  const token = await tokenFor('octocat');
  assert.equal(
    (await fetch(`${github.url}/api/user`, { headers: { authorization: `Bearer ${token}` } })).status,
    404,
    'nothing under the old /api',
  );
});

test('the authorize page names the app and offers every GitHub persona', async () => {
  const res = await fetch(authorizeUrl(newPkce()));
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/html/);
  const html = await res.text();
  assert.match(html, /Authorize Thrift/);
  for (const login of ['octocat', 'hubber', 'alice-gh', 'unverified-gh'])
    assert.match(html, new RegExp(`type="radio" name="persona" value="${login}"`));
  assert.match(html, /value="approve"/);
  assert.match(html, /value="deny"/);
});

test('approve redirects to the callback with a code and the state; the code redeems to a token in JSON', async () => {
  const pkce = newPkce();
  const callback = await authorizeByHand(authorizeUrl(pkce), 'octocat', 'approve');
  assert.equal(`${callback.origin}${callback.pathname}`, REDIRECT_URI);
  assert.equal(callback.searchParams.get('state'), 'state-123');
  const code = callback.searchParams.get('code');
  assert.match(code ?? '', /^[0-9a-f]{20}$/);
  const { status, body } = await exchange({ code: code ?? '', code_verifier: pkce.verifier });
  assert.equal(status, 200);
  assert.match(body['access_token'] ?? '', /^gho_[A-Za-z0-9]{36}$/);
  assert.equal(body['token_type'], 'bearer');
  assert.equal(body['scope'], 'read:user,user:email');
});

test('without Accept: application/json the token response is form-encoded', async () => {
  const pkce = newPkce();
  const code = await codeFor('octocat', pkce);
  const res = await fetch(github.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_id: CLIENT.clientId,
      client_secret: CLIENT.clientSecret,
      code,
      code_verifier: pkce.verifier,
      redirect_uri: REDIRECT_URI,
    }),
  });
  assert.match(res.headers.get('content-type') ?? '', /application\/x-www-form-urlencoded/);
  const body = new URLSearchParams(await res.text());
  assert.match(body.get('access_token') ?? '', /^gho_/);
  assert.equal(body.get('token_type'), 'bearer');
  assert.equal(body.get('scope'), 'read:user,user:email');
});

test("/user has GitHub's shape: numeric id, login, name, public email, avatar_url", async () => {
  const token = await tokenFor('octocat');
  const res = await api('/user', token);
  assert.equal(res.status, 200);
  const user = (await res.json()) as Record<string, unknown>;
  assert.equal(user['id'], 583231);
  assert.equal(user['login'], 'octocat');
  assert.equal(user['name'], 'The Octocat');
  assert.equal(user['email'], 'octocat@example.com');
  assert.equal(user['avatar_url'], 'https://avatars.example/octocat.png');
  assert.equal(user['type'], 'User');
  assert.equal(user['site_admin'], false);
  assert.equal(typeof user['node_id'], 'string');
});

test('/user/emails lists {email, primary, verified, visibility}; `token X` authorizes like Bearer', async () => {
  const token = await tokenFor('octocat');
  const res = await api('/user/emails', token, 'token');
  assert.equal(res.status, 200);
  const emails = (await res.json()) as Record<string, unknown>[];
  assert.deepEqual(emails[0], { email: 'octocat@example.com', primary: true, verified: true, visibility: 'public' });
  for (const e of emails) assert.deepEqual(Object.keys(e).sort(), ['email', 'primary', 'verified', 'visibility']);
});

test('hubber shows no email on /user; the verified primary address comes only from /user/emails', async () => {
  const token = await tokenFor('hubber');
  const user = (await (await api('/user', token)).json()) as Record<string, unknown>;
  assert.equal(user['email'], null);
  const emails = (await (await api('/user/emails', token)).json()) as Record<string, unknown>[];
  assert.deepEqual(emails, [{ email: 'hubber@example.com', primary: true, verified: true, visibility: 'private' }]);
});

test('/user/emails needs the user:email scope', async () => {
  const token = await tokenFor('hubber', 'read:user');
  assert.equal((await api('/user', token)).status, 200);
  const res = await api('/user/emails', token);
  assert.equal(res.status, 404);
  assert.equal(res.headers.get('x-oauth-scopes'), 'read:user');
});

test('a bad token gets 401 Bad credentials', async () => {
  const res = await api('/user', 'gho_notarealtoken000000000000000000000');
  assert.equal(res.status, 401);
  const body = (await res.json()) as Record<string, unknown>;
  assert.equal(body['message'], 'Bad credentials');
  assert.equal(typeof body['documentation_url'], 'string');
});

test('a code is single use: the replay is refused and revokes the token it gave', async () => {
  const pkce = newPkce();
  const code = await codeFor('octocat', pkce);
  const first = await exchange({ code, code_verifier: pkce.verifier });
  const token = first.body['access_token'] ?? '';
  assert.equal((await api('/user', token)).status, 200);
  const replay = await exchange({ code, code_verifier: pkce.verifier });
  assert.equal(replay.status, 200);
  assert.equal(replay.body['error'], 'bad_verification_code');
  assert.equal(replay.body['access_token'], undefined);
  assert.equal((await api('/user', token)).status, 401);
});

test('a wrong or missing PKCE verifier is refused', async () => {
  const wrong = await exchange({ code: await codeFor('octocat', newPkce()), code_verifier: newPkce().verifier });
  assert.equal(wrong.status, 200);
  assert.equal(wrong.body['error'], 'bad_verification_code');
  assert.match(wrong.body['error_description'] ?? '', /code_verifier/);
  const missing = await exchange({ code: await codeFor('octocat', newPkce()) });
  assert.equal(missing.body['error'], 'bad_verification_code');
  assert.match(missing.body['error_description'] ?? '', /code_verifier/);
});

test('a code issued without PKCE redeems without a verifier', async () => {
  const { body } = await exchange({ code: await codeFor('octocat', null) });
  assert.match(body['access_token'] ?? '', /^gho_/);
});

test('a wrong client secret is refused with HTTP 200 and incorrect_client_credentials', async () => {
  const pkce = newPkce();
  const { status, body } = await exchange({
    code: await codeFor('octocat', pkce),
    code_verifier: pkce.verifier,
    client_secret: 'not-the-secret',
  });
  assert.equal(status, 200);
  assert.equal(body['error'], 'incorrect_client_credentials');
  assert.match(body['error_uri'] ?? '', /^https:\/\/docs\.github\.com\//);
});

test('errors are form-encoded too when JSON is not asked for', async () => {
  const { status, body } = await exchange({ code: 'deadbeefdeadbeefdead' }, '*/*');
  assert.equal(status, 200);
  assert.equal(body['error'], 'bad_verification_code');
  assert.equal(body['error_description'], 'The code passed is incorrect or expired.');
});

test("the token request must repeat the authorization request's redirect_uri", async () => {
  const pkce = newPkce();
  const { body } = await exchange({
    code: await codeFor('octocat', pkce),
    code_verifier: pkce.verifier,
    redirect_uri: 'http://127.0.0.1:49152/other',
  });
  assert.equal(body['error'], 'redirect_uri_mismatch');
});

test('client credentials may come as HTTP Basic', async () => {
  const pkce = newPkce();
  const code = await codeFor('octocat', pkce);
  const res = await fetch(github.tokenUrl, {
    method: 'POST',
    headers: {
      accept: 'application/json',
      authorization: `Basic ${Buffer.from(`${CLIENT.clientId}:${CLIENT.clientSecret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ code, code_verifier: pkce.verifier, redirect_uri: REDIRECT_URI }),
  });
  assert.match(((await res.json()) as Record<string, string>)['access_token'] ?? '', /^gho_/);
});

test('Cancel redirects with access_denied, a description and the state', async () => {
  const callback = await authorizeByHand(authorizeUrl(newPkce()), 'octocat', 'deny');
  assert.equal(`${callback.origin}${callback.pathname}`, REDIRECT_URI);
  assert.equal(callback.searchParams.get('error'), 'access_denied');
  assert.equal(callback.searchParams.get('error_description'), 'The user has denied your application access.');
  assert.equal(callback.searchParams.get('state'), 'state-123');
  assert.equal(callback.searchParams.get('code'), null);
});

test('an unknown client_id gets an error page, not a redirect', async () => {
  const res = await fetch(authorizeUrl(newPkce(), { client_id: 'nobody' }), { redirect: 'manual' });
  assert.equal(res.status, 400);
  assert.match(await res.text(), /Application not found/);
});

test('loopback callbacks may change port and take a subpath, but not another path or host; a mismatch goes back to the registered callback', async () => {
  for (const good of [
    'http://127.0.0.1:1/callback',
    'http://127.0.0.1/callback',
    'http://127.0.0.1:49152/callback/x',
    'http://127.0.0.1:7/callback/deeper/still',
  ]) {
    assert.equal((await fetch(authorizeUrl(null, { redirect_uri: good }))).status, 200, good);
  }
  const bads = [
    'http://127.0.0.1:49152/callbackx',
    'http://127.0.0.1:49152/other',
    'http://127.0.0.1:49152/callback/../other',
    'http://localhost:49152/callback',
    'https://127.0.0.1:49152/callback',
    'http://evil.example/callback',
  ];
  for (const bad of bads) {
    const res = await fetch(authorizeUrl(null, { redirect_uri: bad }), { redirect: 'manual' });
    assert.equal(res.status, 302, bad);
    const back = new URL(res.headers.get('location') ?? '');
    assert.equal(
      `${back.origin}${back.pathname}`,
      DEFAULT_SANDBOX_REDIRECT_URI,
      `${bad}: back to the registered callback`,
    );
    assert.equal(back.searchParams.get('error'), 'redirect_uri_mismatch');
    assert.equal(
      back.searchParams.get('error_description'),
      'The redirect_uri MUST match the registered callback URL for this application.',
    );
    assert.match(back.searchParams.get('error_uri') ?? '', /^https:\/\/docs\.github\.com\/.*#redirect-uri-mismatch$/);
    assert.equal(back.searchParams.get('state'), 'state-123');
  }
});

test("GitHub's redirect rule: subdomains and subpaths of the callback, the same port off loopback", () => {
  const cases: [string, string, boolean][] = [
    ['https://example.com/path', 'https://example.com/path/subdir/other', true],
    ['https://example.com/path', 'https://oauth.example.com/path', true],
    ['https://example.com/path', 'https://example.com/bar', false],
    ['https://example.com/path', 'https://example.com/', false],
    ['https://example.com/path', 'https://example.com:8080/path', false],
    ['https://example.com/path', 'https://oauth.example.com:8080/path', false],
    ['https://example.com/path', 'https://example.org/path', false],
    ['https://example.com/path', 'https://badexample.com/path', false],
    ['http://127.0.0.1/callback', 'http://127.0.0.1:5000/callback/sub', true],
    ['http://127.0.0.1/callback', 'http://evil.127.0.0.1/callback', false],
  ];
  for (const [registered, given, expected] of cases)
    assert.equal(githubRedirectMatches(registered, given), expected, `${registered} <- ${given}`);
});

test('a plain PKCE challenge is refused: GitHub takes S256 only', async () => {
  const res = await fetch(authorizeUrl(newPkce(), { code_challenge_method: 'plain' }));
  assert.equal(res.status, 400);
});

test('completeSandboxConsent drives the page to the callback URL without requesting it', async () => {
  const pkce = newPkce();
  const final = new URL(await completeSandboxConsent(authorizeUrl(pkce), { persona: 'alice-gh', consent: 'approve' }));
  assert.equal(`${final.origin}${final.pathname}`, REDIRECT_URI);
  assert.equal(final.searchParams.get('state'), 'state-123');
  const { body } = await exchange({ code: final.searchParams.get('code') ?? '', code_verifier: pkce.verifier });
  const user = (await (await api('/user', body['access_token'] ?? '')).json()) as Record<string, unknown>;
  assert.equal(user['login'], 'alice-gh');
  const denied = new URL(
    await completeSandboxConsent(authorizeUrl(newPkce()), { persona: 'alice-gh', consent: 'deny' }),
  );
  assert.equal(denied.searchParams.get('error'), 'access_denied');
});

test('completeSandboxConsent refuses an unknown persona and lists those offered', async () => {
  await assert.rejects(
    completeSandboxConsent(authorizeUrl(newPkce()), { persona: 'octocta', consent: 'approve' }),
    (err: unknown) => {
      assert.ok(err instanceof IdpError);
      assert.equal(err.code, 'UNKNOWN_PERSONA');
      assert.match(err.message, /octocta/);
      assert.match(hintOf(err), /did you mean 'octocat'/);
      assert.match(hintOf(err), /octocat, hubber, alice-gh, unverified-gh/);
      return true;
    },
  );
});

test('completeSandboxConsent reports the error page of an unknown client', async () => {
  await assert.rejects(
    completeSandboxConsent(authorizeUrl(null, { client_id: 'nobody' }), { persona: 'octocat', consent: 'approve' }),
    (err: unknown) => {
      assert.ok(err instanceof IdpError);
      assert.equal(err.code, 'UPSTREAM_ERROR');
      assert.match(err.message, /Application not found/);
      return true;
    },
  );
});

test('completeSandboxConsent refuses to drive anything but a loopback sandbox', async () => {
  await assert.rejects(
    completeSandboxConsent('https://github.com/login/oauth/authorize?client_id=x', {
      persona: 'octocat',
      consent: 'approve',
    }),
    (err: unknown) => {
      assert.ok(err instanceof IdpError);
      assert.equal(err.code, 'HEADLESS_NEEDS_SANDBOX');
      return true;
    },
  );
});

/** A sandbox whose personas include one meeting a suspended app and one meeting an exhausted rate limit. */
async function withTroubledPersonas<T>(fn: (gh: NonNullable<RunningSandbox['github']>) => Promise<T>): Promise<T> {
  const bundled = loadPersonas();
  const base = bundled.github.find((p) => p.login === 'octocat')!;
  const troubled = [
    { ...base, login: 'suspended-gh', id: 9_000_001, appSuspended: true },
    { ...base, login: 'limited-gh', id: 9_000_002, rateLimited: true },
  ];
  const running = await startSandbox({
    providers: ['github'],
    clients: [CLIENT],
    personas: { ...bundled, github: [...bundled.github, ...troubled] },
  });
  try {
    return await fn(running.github!);
  } finally {
    await running.close();
  }
}

test("issue 11 item 14: a persona with appSuspended meets GitHub's application_suspended redirect, with the state", async () => {
  await withTroubledPersonas(async (gh) => {
    const url = new URL(authorizeUrl(newPkce()));
    const final = new URL(
      await completeSandboxConsent(`${gh.authorizeUrl}${url.search}`, { persona: 'suspended-gh', consent: 'approve' }),
    );
    assert.equal(final.searchParams.get('error'), 'application_suspended');
    assert.equal(
      final.searchParams.get('error_description'),
      'Your application has been suspended. Contact support@github.com.',
    );
    assert.equal(final.searchParams.get('state'), 'state-123');
    assert.equal(final.searchParams.get('code'), null);
  });
});

test('issue 11 item 14: a persona with rateLimited gets 403 with x-ratelimit-* headers on every API call', async () => {
  await withTroubledPersonas(async (gh) => {
    const pkce = newPkce();
    const url = new URL(authorizeUrl(pkce));
    const final = new URL(
      await completeSandboxConsent(`${gh.authorizeUrl}${url.search}`, { persona: 'limited-gh', consent: 'approve' }),
    );
    const res = await fetch(gh.tokenUrl, {
      method: 'POST',
      headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        client_id: CLIENT.clientId,
        client_secret: CLIENT.clientSecret,
        redirect_uri: REDIRECT_URI,
        code: final.searchParams.get('code') ?? '',
        code_verifier: pkce.verifier,
      }),
    });
    const token = ((await res.json()) as { access_token: string }).access_token;
    for (const path of ['/user', '/user/emails']) {
      const answer = await fetch(`${gh.apiBase}${path}`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(answer.status, 403, path);
      assert.equal(answer.headers.get('x-ratelimit-remaining'), '0');
      assert.ok(Number(answer.headers.get('x-ratelimit-reset')) > Date.now() / 1000, 'the reset is in the future');
      assert.match(
        ((await answer.json()) as { message: string }).message,
        /^API rate limit exceeded for user ID 9000002\.$/,
      );
    }
  });
});

test('the API refuses an X-GitHub-Api-Version it does not know, as GitHub does, and answers the documented one', async () => {
  const token = await tokenFor('octocat');
  const headers = (version: string) => ({ authorization: `Bearer ${token}`, 'x-github-api-version': version });
  assert.equal((await fetch(`${github.apiBase}/user`, { headers: headers('2022-11-28') })).status, 200);
  const old = await fetch(`${github.apiBase}/user`, { headers: headers('2019-01-01') });
  assert.equal(old.status, 400);
  assert.match(((await old.json()) as { message: string }).message, /API version 2019-01-01 is not supported/);
});
