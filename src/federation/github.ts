// The GitHub connector (github.com or an Enterprise Server): OAuth 2 with hand-made metadata (GitHub publishes none),
// and the profile from the REST API, failing closed when GitHub cannot say. The subject is GitHub's numeric user id,
// never the login, which users can rename.

import * as client from 'openid-client';
import { IdpError } from '../core/errors.js';
import type { TokenAuthMethod } from '../core/types.js';
import type { Connector, UpstreamProfile } from '../ports.js';
import { isRecord, withoutEmpty } from './claims.js';
import { requireSecretFor } from './discovery.js';
import { checkCallback, clientAuth, newAuthorizationRequest, redeemCode, toIdpError, type Upstream } from './oauth.js';
import { needsInsecureRequests, parseEndpoint, upstreamFetch, type UpstreamFetch } from './transport.js';

const PROVIDER = 'GitHub';
/** The REST API version idp is written against; GitHub (and Enterprise Server 3.9+) answers in that version's shapes. */
export const GITHUB_API_VERSION = '2022-11-28';
/** GitHub documents the client secret as a form parameter. */
const DEFAULT_TOKEN_AUTH: TokenAuthMethod = 'client_secret_post';

export interface GithubOptions {
  endpoints: { authorizeUrl: string; tokenUrl: string; apiBase: string };
  clientId: string;
  clientSecret: string | null;
  /** null: client_secret_post, as GitHub documents it. */
  tokenAuth: TokenAuthMethod | null;
  scopes: string[];
}

interface GithubEmail {
  email: string;
  primary: boolean;
  verified: boolean;
}

export function createGithubConnector(opts: GithubOptions): Connector {
  const authorize = parseEndpoint(opts.endpoints.authorizeUrl, 'GitHub authorize URL');
  const token = parseEndpoint(opts.endpoints.tokenUrl, 'GitHub token URL');
  const api = parseEndpoint(opts.endpoints.apiBase, 'GitHub API base URL');
  // GitHub is not an OpenID provider: the issuer only fills a required field and is never compared to anything.
  const server: client.ServerMetadata = {
    issuer: authorize.origin,
    authorization_endpoint: authorize.href,
    token_endpoint: token.href,
  };
  requireSecretFor(opts.tokenAuth, opts.clientSecret, PROVIDER);
  const config = new client.Configuration(
    server,
    opts.clientId,
    undefined,
    clientAuth(opts.tokenAuth ?? DEFAULT_TOKEN_AUTH, opts.clientSecret),
  );
  if (needsInsecureRequests([authorize, token, api])) client.allowInsecureRequests(config);
  config[client.customFetch] = restateTokenErrors(token, upstreamFetch(PROVIDER));
  const upstream: Upstream = {
    provider: PROVIDER,
    config,
    scopes: opts.scopes,
    expectsIdToken: false,
    clientSecret: opts.clientSecret,
  };
  return {
    authorizationRequest: (redirectUri) => newAuthorizationRequest(upstream, redirectUri),
    checkCallback: (callbackUrl, request) => void checkCallback(upstream, callbackUrl, request),
    exchangeCode: (callbackUrl, request) => redeemCode(upstream, callbackUrl, request),
    fetchProfile: (tokens) => fetchGithubProfile(config, api, tokens.accessToken),
  };
}

/**
 * GitHub answers token errors with HTTP 200 and `{"error": ...}`. Restating them as the 400 that RFC 6749 prescribes
 * lets openid-client raise its ResponseBodyError, which toIdpError already turns into UPSTREAM_ERROR.
 */
function restateTokenErrors(tokenUrl: URL, base: UpstreamFetch): UpstreamFetch {
  return async (url, init) => {
    const response = await base(url, init);
    if (url !== tokenUrl.href || response.status !== 200) return response;
    const body: unknown = await response
      .clone()
      .json()
      .catch(() => undefined);
    if (!isRecord(body) || typeof body.error !== 'string') return response;
    return new Response(JSON.stringify(body), { status: 400, headers: { 'content-type': 'application/json' } });
  };
}

async function fetchGithubProfile(
  config: client.Configuration,
  api: URL,
  accessToken: string,
): Promise<UpstreamProfile> {
  // /user/emails is read even when /user shows a public email: only it says whether the address is verified.
  const [user, emails] = await Promise.all([
    getJson(config, api, 'user', accessToken),
    getJson(config, api, 'user/emails', accessToken, { optional: true }).then(parseEmails),
  ]);
  if (
    !isRecord(user) ||
    typeof user.id !== 'number' ||
    !Number.isSafeInteger(user.id) ||
    typeof user.login !== 'string'
  ) {
    throw new IdpError('UPSTREAM_ERROR', `${PROVIDER} /user answered without a numeric id and a login`, BASE_URL_HINT);
  }
  const email = pickEmail(typeof user.email === 'string' ? user.email : null, emails);
  return {
    subject: String(user.id),
    claims: withoutEmpty({
      email: email?.email,
      email_verified: email?.verified,
      name: user.name,
      preferred_username: user.login,
      picture: user.avatar_url,
      github_login: user.login,
    }),
  };
}

const BASE_URL_HINT =
  "check the connection's base URL: it must be the GitHub Enterprise Server's address, whose REST API is under /api/v3";

/** The public email when there is one, else the primary verified address, else the primary one (unverified). */
function pickEmail(
  publicEmail: string | null,
  emails: GithubEmail[],
): { email: string; verified: boolean } | undefined {
  if (publicEmail) {
    const listed = emails.find((e) => e.email.toLowerCase() === publicEmail.toLowerCase());
    return { email: publicEmail, verified: listed?.verified === true };
  }
  const primary = emails.find((e) => e.primary && e.verified) ?? emails.find((e) => e.primary);
  return primary && { email: primary.email, verified: primary.verified };
}

/**
 * GET {apiBase}/{path} with the token. An `optional` endpoint (the emails list needs the user:email scope) answers
 * null on 404, which is how GitHub says the scope was not granted. Anything else but 200 fails the login: taking a
 * rate limit or an outage for "no email" would provision a user without one, past the email collision check.
 */
async function getJson(
  config: client.Configuration,
  api: URL,
  path: string,
  accessToken: string,
  opts: { optional?: boolean } = {},
): Promise<unknown> {
  const url = new URL(`${api.href.replace(/\/$/, '')}/${path}`);
  const headers = new Headers({ accept: 'application/vnd.github+json', 'x-github-api-version': GITHUB_API_VERSION });
  let response: Response;
  try {
    response = await client.fetchProtectedResource(config, accessToken, url, 'GET', undefined, headers);
  } catch (err) {
    throw toIdpError(err, PROVIDER, `/${path}`, [accessToken]);
  }
  if (opts.optional && response.status === 404) return null;
  if (response.status !== 200) throw apiRefusal(path, response, new Date());
  return response.json().catch(() => {
    throw new IdpError('UPSTREAM_ERROR', `${PROVIDER} /${path} did not answer with JSON`, BASE_URL_HINT);
  });
}

/** Why GitHub did not answer, read from its status and headers: a rate limit, an outage, a refused token or permission. */
function apiRefusal(path: string, response: Pick<Response, 'status' | 'headers'>, now: Date): IdpError {
  const { status, headers } = response;
  const message = `${PROVIDER} /${path} answered HTTP ${status}`;
  const wait = rateLimitWait(headers, now);
  if (wait !== null || status === 429) {
    const until =
      wait === null
        ? 'a while'
        : wait.seconds <= 60
          ? `${wait.seconds} s`
          : `${Math.ceil(wait.seconds / 60)} min (until ${wait.at.toISOString().slice(11, 16)} UTC)`;
    return new IdpError(
      'UPSTREAM_ERROR',
      `${message}: the API rate limit is exhausted${wait ? `; it resets in ${until}` : ''}`,
      `wait ${until} and sign in again; nothing was provisioned (the limit counts per user and per OAuth app)`,
    );
  }
  if (status === 401)
    return new IdpError('UPSTREAM_ERROR', message, 'GitHub refused the access token; start the login again');
  if (status === 403) {
    return new IdpError(
      'UPSTREAM_ERROR',
      `${message}: the token may not read it`,
      `grant the app read access to ${path === 'user/emails' ? "the user's email addresses (the user:email scope, or a GitHub App's Email addresses permission)" : 'the user profile'}, then sign in again`,
    );
  }
  if (status >= 500)
    return new IdpError(
      'UPSTREAM_ERROR',
      `${message}: GitHub is having trouble`,
      'try again later; nothing was provisioned',
    );
  return new IdpError('UPSTREAM_ERROR', message, BASE_URL_HINT);
}

/**
 * How long until the rate limit lets requests through again, when the headers say it is exhausted: retry-after
 * (secondary limits), else x-ratelimit-reset once x-ratelimit-remaining is 0. null when no limit is reported.
 */
function rateLimitWait(headers: Headers, now: Date): { seconds: number; at: Date } | null {
  const retryAfter = Number(headers.get('retry-after') ?? NaN);
  if (Number.isFinite(retryAfter) && retryAfter >= 0)
    return { seconds: Math.ceil(retryAfter), at: new Date(now.getTime() + retryAfter * 1000) };
  if (headers.get('x-ratelimit-remaining') !== '0') return null;
  const reset = Number(headers.get('x-ratelimit-reset') ?? NaN);
  if (!Number.isFinite(reset)) return { seconds: 60, at: new Date(now.getTime() + 60_000) };
  const seconds = Math.max(0, Math.ceil(reset - now.getTime() / 1000));
  return { seconds, at: new Date(reset * 1000) };
}

function parseEmails(body: unknown): GithubEmail[] {
  if (!Array.isArray(body)) return [];
  return body.filter(
    (e): e is GithubEmail =>
      isRecord(e) && typeof e.email === 'string' && typeof e.primary === 'boolean' && typeof e.verified === 'boolean',
  );
}
