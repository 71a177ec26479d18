// The GitHub connector: OAuth 2 with hand-made metadata (GitHub publishes none), and the profile from the REST API.
// The subject is GitHub's numeric user id, never the login, which users can rename.

import * as client from 'openid-client';
import { IdpError } from '../core/errors.js';
import type { Connector, UpstreamProfile } from '../ports.js';
import { isRecord, withoutEmpty } from './claims.js';
import { checkCallback, newAuthorizationRequest, redeemCode, toIdpError, type Upstream } from './oauth.js';
import { needsInsecureRequests, parseEndpoint, upstreamFetch, type UpstreamFetch } from './transport.js';

const PROVIDER = 'GitHub';

export interface GithubOptions {
  endpoints: { authorizeUrl: string; tokenUrl: string; apiBase: string };
  clientId: string;
  clientSecret: string | null;
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
  const auth = opts.clientSecret ? client.ClientSecretPost(opts.clientSecret) : client.None();
  const config = new client.Configuration(server, opts.clientId, undefined, auth);
  if (needsInsecureRequests([authorize, token, api])) client.allowInsecureRequests(config);
  config[client.customFetch] = restateTokenErrors(token, upstreamFetch(PROVIDER));
  const upstream: Upstream = { provider: PROVIDER, config, scopes: opts.scopes, expectsIdToken: false, clientSecret: opts.clientSecret };
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

async function fetchGithubProfile(config: client.Configuration, api: URL, accessToken: string): Promise<UpstreamProfile> {
  // /user/emails is read even when /user shows a public email: only it says whether the address is verified.
  const [user, emails] = await Promise.all([
    getJson(config, api, 'user', accessToken),
    getJson(config, api, 'user/emails', accessToken, { optional: true }).then(parseEmails),
  ]);
  if (!isRecord(user) || typeof user.id !== 'number' || !Number.isSafeInteger(user.id) || typeof user.login !== 'string') {
    throw new IdpError('UPSTREAM_ERROR', `${PROVIDER} /user answered without a numeric id and a login`, 'check that the API base URL points at the GitHub REST API');
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

/** The public email when there is one, else the primary verified address, else the primary one (unverified). */
function pickEmail(publicEmail: string | null, emails: GithubEmail[]): { email: string; verified: boolean } | undefined {
  if (publicEmail) {
    const listed = emails.find((e) => e.email.toLowerCase() === publicEmail.toLowerCase());
    return { email: publicEmail, verified: listed?.verified === true };
  }
  const primary = emails.find((e) => e.primary && e.verified) ?? emails.find((e) => e.primary);
  return primary && { email: primary.email, verified: primary.verified };
}

/**
 * GET {apiBase}/{path} with the token. `optional` endpoints (the emails list needs the user:email scope)
 * answer null on 403/404 instead of failing the login.
 */
async function getJson(config: client.Configuration, api: URL, path: string, accessToken: string, opts: { optional?: boolean } = {}): Promise<unknown> {
  const url = new URL(`${api.href.replace(/\/$/, '')}/${path}`);
  let response: Response;
  try {
    response = await client.fetchProtectedResource(config, accessToken, url, 'GET', undefined, new Headers({ accept: 'application/vnd.github+json' }));
  } catch (err) {
    throw toIdpError(err, PROVIDER, `/${path}`, [accessToken]);
  }
  if (opts.optional && (response.status === 403 || response.status === 404)) return null;
  if (response.status !== 200) {
    throw new IdpError(
      'UPSTREAM_ERROR',
      `${PROVIDER} /${path} answered HTTP ${response.status}`,
      response.status === 401 ? 'GitHub refused the access token; start the login again' : 'check that the API base URL points at the GitHub REST API',
    );
  }
  return response.json().catch(() => {
    throw new IdpError('UPSTREAM_ERROR', `${PROVIDER} /${path} did not answer with JSON`, 'check that the API base URL points at the GitHub REST API');
  });
}

function parseEmails(body: unknown): GithubEmail[] {
  if (!Array.isArray(body)) return [];
  return body.filter(
    (e): e is GithubEmail => isRecord(e) && typeof e.email === 'string' && typeof e.primary === 'boolean' && typeof e.verified === 'boolean',
  );
}
