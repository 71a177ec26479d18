// Issue 11, items 11 to 13: the connectors against providers idp did not write (third-party-providers.ts): token
// endpoint authentication chosen from discovery or configured, discovery documents refused before any browser opens,
// and a GitHub Enterprise Server with its API version header, rate limits and outages failing closed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultScopes } from '../../src/core/connection-defaults.js';
import type { TokenAuthMethod } from '../../src/core/types.js';
import { createConnector, githubEndpoints } from '../../src/federation/index.js';
import type { Connector, UpstreamProfile } from '../../src/ports.js';
import { hintOf } from '../helpers/hints.js';
import { closedPort, rejectsWith } from './federation-helpers.js';
import {
  GHES_EMAILS,
  startGithubServer,
  startOidcProvider,
  type ApiAnswer,
  type OidcProviderOptions,
} from './third-party-providers.js';

const CLIENT_ID = 'third-party-client';
const SECRET = 'a secret/with+odd:chars%';

function oidcConnector(
  issuer: string,
  clientSecret: string | null,
  tokenAuth: TokenAuthMethod | null = null,
): Promise<Connector> {
  return createConnector({
    type: 'oidc',
    endpoints: { kind: 'oidc', issuer },
    clientId: CLIENT_ID,
    clientSecret,
    tokenAuth,
    scopes: defaultScopes('oidc'),
  });
}

/** A whole login against a provider that consents at once: authorize, callback, code, profile. */
async function signIn(connector: Connector): Promise<UpstreamProfile> {
  const redirectUri = `http://127.0.0.1:${await closedPort()}/callback`;
  const request = await connector.authorizationRequest(redirectUri);
  const answer = await fetch(request.url, { redirect: 'manual' });
  const callback = new URL(answer.headers.get('location') ?? '');
  return connector.fetchProfile(await connector.exchangeCode(callback, request));
}

async function withOidc<T>(
  opts: Omit<OidcProviderOptions, 'clientId'>,
  fn: (p: Awaited<ReturnType<typeof startOidcProvider>>) => Promise<T>,
): Promise<T> {
  const provider = await startOidcProvider({ clientId: CLIENT_ID, ...opts });
  try {
    return await fn(provider);
  } finally {
    await provider.close();
  }
}

test('item 11: a provider that lists only none gets a public client: no secret sent, PKCE only', async () => {
  await withOidc({ methods: ['none'], accepts: 'none' }, async (p) => {
    const profile = await signIn(await oidcConnector(p.url, SECRET));
    assert.equal(profile.subject, 'third-party-7');
    const [request] = p.tokenRequests;
    assert.equal(request?.authorization, undefined, 'no HTTP Basic');
    assert.equal(request?.body.get('client_secret'), null);
    assert.equal(request?.body.get('client_id'), CLIENT_ID);
    assert.ok(request?.body.get('code_verifier'), 'PKCE carries the code');
  });
});

test('item 11: client_secret_basic is preferred when listed; client_secret_post when only it is listed', async () => {
  await withOidc(
    { methods: ['client_secret_post', 'client_secret_basic'], accepts: 'client_secret_basic', clientSecret: SECRET },
    async (p) => {
      await signIn(await oidcConnector(p.url, SECRET));
      assert.match(p.tokenRequests[0]?.authorization ?? '', /^Basic /);
    },
  );
  await withOidc(
    { methods: ['client_secret_post'], accepts: 'client_secret_post', clientSecret: SECRET },
    async (p) => {
      await signIn(await oidcConnector(p.url, SECRET));
      assert.equal(p.tokenRequests[0]?.body.get('client_secret'), SECRET);
      assert.equal(p.tokenRequests[0]?.authorization, undefined);
    },
  );
});

test('item 11: a configured method wins over the discovery document; none needs no secret at all', async () => {
  // A server that mis-decodes Basic credentials: the admin configures client_secret_post although Basic is listed.
  await withOidc(
    { methods: ['client_secret_basic', 'client_secret_post'], accepts: 'client_secret_post', clientSecret: SECRET },
    async (p) => {
      await signIn(await oidcConnector(p.url, SECRET, 'client_secret_post'));
      assert.equal(p.tokenRequests[0]?.body.get('client_secret'), SECRET);
    },
  );
  await withOidc({ methods: ['client_secret_basic', 'none'], accepts: 'none' }, async (p) => {
    await signIn(await oidcConnector(p.url, null, 'none'));
    assert.equal(p.tokenRequests.length, 1);
  });
  const err = await rejectsWith(oidcConnector('http://127.0.0.1:1', null, 'client_secret_basic'), 'SECRET_MISSING');
  assert.match(err.message, /authenticates with client_secret_basic but has no client secret/);
});

test('item 12: a discovery document lacking a required endpoint is UPSTREAM_ERROR (exit 4) naming it, before any browser opens', async () => {
  for (const field of ['authorization_endpoint', 'token_endpoint', 'jwks_uri']) {
    await withOidc({ accepts: 'none', edit: (doc) => delete doc[field] }, async (p) => {
      const err = await rejectsWith(oidcConnector(p.url, null), 'UPSTREAM_ERROR');
      assert.equal(err.exitCode, 4);
      assert.match(
        err.message,
        new RegExp(
          `discovery document of 127\\.0\\.0\\.1:\\d+ at ${p.url}/\\.well-known/openid-configuration is unusable: ${field} is missing`,
        ),
      );
      assert.match(hintOf(err), /issuer, authorization_endpoint, token_endpoint and jwks_uri/);
      assert.equal(p.authorizeHits, 0);
    });
  }
});

test('item 12: a discovery document sending the browser to plain http elsewhere is refused naming the endpoint', async () => {
  await withOidc(
    { accepts: 'none', edit: (doc) => (doc.authorization_endpoint = 'http://login.example.com/authorize') },
    async (p) => {
      const err = await rejectsWith(oidcConnector(p.url, null), 'UPSTREAM_ERROR');
      assert.match(err.message, /authorization_endpoint http:\/\/login\.example\.com\/authorize must use https/);
    },
  );
});

function githubConnector(base: string, tokenAuth: TokenAuthMethod | null = null): Promise<Connector> {
  return createConnector({
    type: 'github',
    endpoints: githubEndpoints(base),
    clientId: 'Iv1.ghes',
    clientSecret: 'ghes-secret',
    tokenAuth,
    scopes: defaultScopes('github'),
  });
}

async function withGithub<T>(
  answers: { user?: ApiAnswer; emails?: ApiAnswer },
  fn: (gh: Awaited<ReturnType<typeof startGithubServer>>) => Promise<T>,
): Promise<T> {
  const gh = await startGithubServer('Iv1.ghes', 'ghes-secret', answers);
  try {
    return await fn(gh);
  } finally {
    await gh.close();
  }
}

test('item 13: a GitHub Enterprise Server at a base URL: web flow under /login/oauth, API under /api/v3 with X-GitHub-Api-Version', async () => {
  await withGithub({}, async (gh) => {
    const profile = await signIn(await githubConnector(gh.url));
    assert.equal(profile.subject, '4242');
    assert.deepEqual(
      [profile.claims.email, profile.claims.email_verified, profile.claims.preferred_username],
      [GHES_EMAILS[0]!.email, true, 'mona'],
    );
    assert.deepEqual(gh.apiRequests.map((r) => r.path).sort(), ['/user', '/user/emails']);
    for (const r of gh.apiRequests) assert.equal(r.headers['x-github-api-version'], '2022-11-28', r.path);
    assert.equal(
      gh.tokenRequests[0]?.body.get('client_secret'),
      'ghes-secret',
      'GitHub takes the secret as a form parameter by default',
    );
  });
  assert.deepEqual(githubEndpoints(null), {
    kind: 'github',
    authorizeUrl: 'https://github.com/login/oauth/authorize',
    tokenUrl: 'https://github.com/login/oauth/access_token',
    apiBase: 'https://api.github.com',
  });
});

const RATE_LIMITED = (reset: number): ApiAnswer => ({
  status: 403,
  body: {
    message: 'API rate limit exceeded for user ID 4242.',
    documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api',
  },
  headers: {
    'x-ratelimit-limit': '5000',
    'x-ratelimit-remaining': '0',
    'x-ratelimit-reset': String(reset),
    'x-ratelimit-resource': 'core',
  },
});

test('item 13: /user/emails rate-limited (403, remaining 0) fails the login closed, with a hint saying when the limit resets', async () => {
  const reset = Math.floor(Date.now() / 1000) + 20 * 60;
  await withGithub({ emails: RATE_LIMITED(reset) }, async (gh) => {
    const err = await rejectsWith(signIn(await githubConnector(gh.url)), 'UPSTREAM_ERROR');
    assert.match(
      err.message,
      /^GitHub \/user\/emails answered HTTP 403: the API rate limit is exhausted; it resets in \d+ min \(until \d\d:\d\d UTC\)$/,
    );
    assert.match(hintOf(err), /^wait \d+ min \(until \d\d:\d\d UTC\) and sign in again; nothing was provisioned/);
    assert.doesNotMatch(hintOf(err), /base URL/);
  });
});

test('item 13: a secondary rate limit (429 with retry-after) and an outage (502) of /user/emails fail closed too', async () => {
  await withGithub(
    {
      emails: {
        status: 429,
        body: { message: 'You have exceeded a secondary rate limit.' },
        headers: { 'retry-after': '30' },
      },
    },
    async (gh) => {
      const err = await rejectsWith(signIn(await githubConnector(gh.url)), 'UPSTREAM_ERROR');
      assert.match(err.message, /HTTP 429: the API rate limit is exhausted; it resets in 30 s$/);
      assert.match(hintOf(err), /^wait 30 s and sign in again/);
    },
  );
  await withGithub({ emails: { status: 502, body: { message: 'Server Error' } } }, async (gh) => {
    const err = await rejectsWith(signIn(await githubConnector(gh.url)), 'UPSTREAM_ERROR');
    assert.match(err.message, /\/user\/emails answered HTTP 502: GitHub is having trouble/);
    assert.match(hintOf(err), /try again later; nothing was provisioned/);
  });
});

test('item 13: /user/emails 404 (scope not granted) still signs in without an email; a 403 permission refusal does not', async () => {
  await withGithub({ emails: { status: 404, body: { message: 'Not Found' } } }, async (gh) => {
    const profile = await signIn(await githubConnector(gh.url));
    assert.equal(profile.claims.email, undefined);
  });
  await withGithub(
    {
      emails: {
        status: 403,
        body: { message: 'Resource not accessible by integration' },
        headers: { 'x-ratelimit-remaining': '4999' },
      },
    },
    async (gh) => {
      const err = await rejectsWith(signIn(await githubConnector(gh.url)), 'UPSTREAM_ERROR');
      assert.match(err.message, /\/user\/emails answered HTTP 403: the token may not read it/);
      assert.match(hintOf(err), /user:email scope, or a GitHub App's Email addresses permission/);
    },
  );
});

test('item 13: a rate-limited /user blames the rate limit, not the base URL', async () => {
  await withGithub({ user: RATE_LIMITED(Math.floor(Date.now() / 1000) + 90) }, async (gh) => {
    const err = await rejectsWith(signIn(await githubConnector(gh.url)), 'UPSTREAM_ERROR');
    assert.match(err.message, /^GitHub \/user answered HTTP 403: the API rate limit is exhausted/);
    assert.doesNotMatch(hintOf(err), /base URL/);
  });
});
