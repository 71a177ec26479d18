// The GitHub-like sandbox provider, shaped like a GitHub Enterprise Server: GitHub's OAuth app protocol (authorize page,
// access_token endpoint, its redirect rules and errors) and the REST shapes of /user and /user/emails under /api/v3,
// with personas that meet a suspended app or a rate limit. Plain node:http, so it starts in milliseconds.

import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { GithubPersona } from './personas.js';
import { sameSecret } from '../core/same-secret.js';
import type { RegisteredClient } from '../ports.js';
import { closeServer, guardPages, listenLoopback, readParams, redirect, sendHtml, sendJson } from '../net/http.js';
import { errorPage, escapeHtml, form, page, PERSONA_FIELD, DECISION_FIELD, PersonaRadios } from './pages.js';

export interface GithubSandbox {
  url: string;
  authorizeUrl: string;
  tokenUrl: string;
  apiBase: string;
  close(): Promise<void>;
}

const CODE_TTL_MS = 10 * 60 * 1000;
const AUTHORIZE_PATH = '/login/oauth/authorize';
const TOKEN_PATH = '/login/oauth/access_token';
const API_PREFIX = '/api/v3';
/** The REST API versions GitHub accepts in X-GitHub-Api-Version. */
const API_VERSIONS = ['2022-11-28'];
const RATE_LIMIT = 5000;
const DOCS = 'https://docs.github.com';
const TOKEN_ERROR_DOCS = `${DOCS}/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/`;

/** What an approved authorization request binds its code to. */
interface Authorization {
  clientId: string;
  redirectUri: string;
  /** RFC 6749 4.1.3: a redirect_uri sent to /authorize must be repeated, identically, at the token endpoint. */
  redirectUriSent: boolean;
  state: string | null;
  scopes: string[];
  codeChallenge: string | null;
  expiresAt: number;
}

interface IssuedCode extends Authorization {
  login: string;
  /** Set once redeemed: a replayed code revokes the token it produced (RFC 6749 4.1.2). */
  redeemedAs?: string;
}

interface AccessToken {
  login: string;
  scopes: string[];
}

type TokenError =
  | 'incorrect_client_credentials'
  | 'bad_verification_code'
  | 'redirect_uri_mismatch'
  | 'unsupported_grant_type';

const TOKEN_ERRORS: Record<TokenError, { description: string; uri: string }> = {
  incorrect_client_credentials: {
    description: 'The client_id and/or client_secret passed are incorrect.',
    uri: `${TOKEN_ERROR_DOCS}#incorrect-client-credentials`,
  },
  bad_verification_code: {
    description: 'The code passed is incorrect or expired.',
    uri: `${TOKEN_ERROR_DOCS}#bad-verification-code`,
  },
  redirect_uri_mismatch: {
    description: 'The redirect_uri MUST match the registered callback URL for this application.',
    uri: `${DOCS}/apps/managing-oauth-apps/troubleshooting-authorization-request-errors/#redirect-uri-mismatch2`,
  },
  unsupported_grant_type: { description: 'The grant_type must be authorization_code.', uri: TOKEN_ERROR_DOCS },
};

const AUTHORIZE_ERROR_DOCS = `${DOCS}/apps/managing-oauth-apps/troubleshooting-authorization-request-errors/`;

/** The errors GitHub's authorize endpoint redirects with, worded as GitHub words them. */
const AUTHORIZE_ERRORS = {
  access_denied: {
    error: 'access_denied',
    error_description: 'The user has denied your application access.',
    error_uri: `${AUTHORIZE_ERROR_DOCS}#access-denied`,
  },
  redirect_uri_mismatch: {
    error: 'redirect_uri_mismatch',
    error_description: 'The redirect_uri MUST match the registered callback URL for this application.',
    error_uri: `${AUTHORIZE_ERROR_DOCS}#redirect-uri-mismatch`,
  },
  application_suspended: {
    error: 'application_suspended',
    error_description: 'Your application has been suspended. Contact support@github.com.',
    error_uri: `${AUTHORIZE_ERROR_DOCS}#application-suspended`,
  },
};

/** The scopes GitHub grants /user/emails to: `user` includes `user:email`. */
const EMAIL_SCOPES = ['user', 'user:email'];

export async function startGithubSandbox(
  clients: RegisteredClient[],
  personas: GithubPersona[],
  port: number,
): Promise<GithubSandbox> {
  const sandbox = new GithubLike(clients, personas);
  const server = createServer((req, res) => {
    guardPages(res, []);
    sandbox.handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { message: `sandbox error: ${(err as Error).message}` });
      else res.destroy();
    });
  });
  const bound = await listenLoopback(server, port);
  const url = `http://127.0.0.1:${bound}`;
  sandbox.apiBase = `${url}${API_PREFIX}`;
  return {
    url,
    authorizeUrl: `${url}${AUTHORIZE_PATH}`,
    tokenUrl: `${url}${TOKEN_PATH}`,
    apiBase: sandbox.apiBase,
    close: () => closeServer(server),
  };
}

class GithubLike {
  apiBase = '';
  private readonly clients: Map<string, RegisteredClient>;
  private readonly pending = new Map<string, Authorization>();
  private readonly codes = new Map<string, IssuedCode>();
  private readonly tokens = new Map<string, AccessToken>();
  private readonly radios: PersonaRadios;

  constructor(
    clients: RegisteredClient[],
    private readonly personas: GithubPersona[],
  ) {
    this.clients = new Map(clients.filter((c) => c.provider === 'github').map((c) => [c.clientId, c]));
    this.radios = new PersonaRadios(
      personas.map((p) => ({
        value: p.login,
        label: p.login,
        detail: `${p.name} · ${p.publicEmail ?? 'no public email'}`,
      })),
    );
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const route = `${req.method} ${url.pathname}`;
    if (route === `GET ${AUTHORIZE_PATH}`) return this.authorizePage(url.searchParams, res);
    if (route === `POST ${AUTHORIZE_PATH}`) return this.authorizeDecision(await readParams(req), res);
    if (route === `POST ${TOKEN_PATH}`) return this.accessToken(req, url.searchParams, res);
    if (url.pathname.startsWith(`${API_PREFIX}/`)) return this.api(req, url.pathname.slice(API_PREFIX.length), res);
    sendHtml(res, 404, errorPage('Not Found', `${req.method} ${url.pathname} is not a page of the GitHub sandbox.`));
  }

  private authorizePage(params: URLSearchParams, res: ServerResponse): void {
    const client = this.clients.get(params.get('client_id') ?? '');
    if (!client)
      return sendHtml(
        res,
        400,
        errorPage('Application not found', 'No OAuth application is registered with this client_id.'),
      );
    const registered = client.redirectUris;
    const given = params.get('redirect_uri');
    const redirectUri = given ?? registered[0];
    if (!redirectUri)
      return sendHtml(
        res,
        400,
        errorPage('Redirect URI mismatch', `${client.appName} has no registered callback URL.`),
      );
    // As GitHub does: a mismatch goes back to the registered callback, with the error and the state.
    if (!registered.some((r) => githubRedirectMatches(r, redirectUri))) {
      const state = params.get('state');
      return redirect(
        res,
        withQuery(registered[0]!, { ...AUTHORIZE_ERRORS.redirect_uri_mismatch, ...(state === null ? {} : { state }) }),
      );
    }
    const challenge = params.get('code_challenge');
    if (
      challenge !== null &&
      (params.get('code_challenge_method') !== 'S256' || !/^[A-Za-z0-9_-]{43}$/.test(challenge))
    ) {
      return sendHtml(
        res,
        400,
        errorPage(
          'Invalid PKCE request',
          'code_challenge must be a base64url SHA-256 digest sent with code_challenge_method=S256.',
        ),
      );
    }
    const requestId = randomToken(16);
    const request: Authorization = {
      clientId: client.clientId,
      redirectUri,
      redirectUriSent: given !== null,
      state: params.get('state'),
      scopes: splitScopes(params.get('scope') ?? ''),
      codeChallenge: challenge,
      expiresAt: Date.now() + CODE_TTL_MS,
    };
    this.prune(this.pending);
    this.pending.set(requestId, request);
    sendHtml(res, 200, this.renderAuthorize(client, request, requestId, params.get('login')));
  }

  private renderAuthorize(
    client: RegisteredClient,
    request: Authorization,
    requestId: string,
    login: string | null,
  ): string {
    const app = escapeHtml(client.appName);
    const { scopes, redirectUri } = request;
    const body = `<h1>Authorize ${app}</h1>
<p><strong>${app}</strong> wants to access your GitHub sandbox account${scopes.length ? ` (scopes: ${escapeHtml(scopes.join(', '))})` : ' (public profile only)'}.</p>
<p>Choose the account to sign in as:</p>
${form({
  action: AUTHORIZE_PATH,
  hidden: { request_id: requestId },
  personas: { radios: this.radios, selected: login ?? undefined },
  buttons: [
    { decision: 'deny', label: 'Cancel' },
    { decision: 'approve', label: `Authorize ${client.appName}` },
  ],
})}
<p><small>Authorizing will redirect to ${escapeHtml(new URL(redirectUri).origin)}</small></p>`;
    return page(`Authorize ${client.appName}`, body);
  }

  private authorizeDecision(form: URLSearchParams, res: ServerResponse): void {
    const requestId = form.get('request_id') ?? '';
    const request = this.pending.get(requestId);
    this.pending.delete(requestId);
    if (!request || request.expiresAt < Date.now()) {
      return sendHtml(
        res,
        400,
        errorPage(
          'Authorization expired',
          'This authorization request is unknown or expired: start the sign-in again.',
        ),
      );
    }
    const stateParam: Record<string, string> = request.state === null ? {} : { state: request.state };
    if (form.get(DECISION_FIELD) !== 'approve')
      return redirect(res, withQuery(request.redirectUri, { ...AUTHORIZE_ERRORS.access_denied, ...stateParam }));
    const login = form.get(PERSONA_FIELD);
    const persona = this.personas.find((p) => p.login === login);
    if (login === null || !persona) {
      return sendHtml(res, 400, errorPage('Unknown account', `There is no sandbox account '${login ?? ''}'.`));
    }
    if (persona.appSuspended)
      return redirect(
        res,
        withQuery(request.redirectUri, { ...AUTHORIZE_ERRORS.application_suspended, ...stateParam }),
      );
    const code = randomBytes(10).toString('hex');
    this.prune(this.codes);
    this.codes.set(code, { ...request, login, expiresAt: Date.now() + CODE_TTL_MS });
    redirect(res, withQuery(request.redirectUri, { code, ...stateParam }));
  }

  private async accessToken(req: IncomingMessage, query: URLSearchParams, res: ServerResponse): Promise<void> {
    // GitHub reads these parameters from the query string as well as from a form or JSON body.
    const params = new URLSearchParams([...query, ...(await readParams(req))]);
    const asJson = (req.headers.accept ?? '').includes('application/json');
    const result = this.redeem(params, req.headers.authorization);
    if ('error' in result) {
      const { description, uri } = TOKEN_ERRORS[result.error];
      return sendToken(res, asJson, {
        error: result.error,
        error_description: result.description ?? description,
        error_uri: uri,
      });
    }
    sendToken(res, asJson, { access_token: result.token, token_type: 'bearer', scope: result.scopes.join(',') });
  }

  private redeem(
    params: URLSearchParams,
    authorization: string | undefined,
  ): { token: string; scopes: string[] } | { error: TokenError; description?: string } {
    const credentials = basicCredentials(authorization) ?? {
      id: params.get('client_id') ?? '',
      secret: params.get('client_secret') ?? '',
    };
    const client = this.clients.get(credentials.id);
    if (!client || !sameSecret(client.clientSecret, credentials.secret))
      return { error: 'incorrect_client_credentials' };
    const grantType = params.get('grant_type');
    if (grantType !== null && grantType !== 'authorization_code') return { error: 'unsupported_grant_type' };
    const codeValue = params.get('code') ?? '';
    const code = this.codes.get(codeValue);
    if (!code || code.clientId !== client.clientId || code.expiresAt < Date.now())
      return { error: 'bad_verification_code' };
    if (code.redeemedAs !== undefined) {
      this.tokens.delete(code.redeemedAs);
      return { error: 'bad_verification_code' };
    }
    // Any further failure still burns the code: it was presented by its own client, so it is spent.
    code.redeemedAs = '';
    const redirectUri = params.get('redirect_uri');
    if (redirectUri === null ? code.redirectUriSent : redirectUri !== code.redirectUri)
      return { error: 'redirect_uri_mismatch' };
    const pkce = checkPkce(code.codeChallenge, params.get('code_verifier'));
    if (pkce) return { error: 'bad_verification_code', description: pkce };
    const token = `gho_${randomToken(27)}`;
    code.redeemedAs = token;
    this.tokens.set(token, { login: code.login, scopes: code.scopes });
    return { token, scopes: code.scopes };
  }

  private api(req: IncomingMessage, path: string, res: ServerResponse): void {
    const route = `${req.method} ${path}`;
    if (route !== 'GET /user' && route !== 'GET /user/emails')
      return sendJson(res, 404, apiError('Not Found', `${DOCS}/rest`, 404));
    const token = bearer(req.headers.authorization);
    if (token === undefined) {
      return sendJson(
        res,
        401,
        apiError('Requires authentication', `${DOCS}/rest/users/users#get-the-authenticated-user`, 401),
      );
    }
    const grant = token === null ? undefined : this.tokens.get(token);
    const persona = grant && this.personas.find((p) => p.login === grant.login);
    if (!grant || !persona) return sendJson(res, 401, apiError('Bad credentials', `${DOCS}/rest`, 401));
    const version = req.headers['x-github-api-version'];
    if (typeof version === 'string' && !API_VERSIONS.includes(version)) {
      return sendJson(
        res,
        400,
        apiError(`API version ${version} is not supported.`, `${DOCS}/rest/about-the-rest-api/api-versions`, 400),
      );
    }
    if (persona.rateLimited) return sendRateLimited(res, persona);
    const scopeHeaders = { 'x-oauth-scopes': grant.scopes.join(', '), 'x-github-media-type': 'github.v3; format=json' };
    if (path === '/user')
      return sendJson(res, 200, this.userResource(persona), { ...scopeHeaders, 'x-accepted-oauth-scopes': '' });
    const emailHeaders = { ...scopeHeaders, 'x-accepted-oauth-scopes': EMAIL_SCOPES.join(', ') };
    if (!grant.scopes.some((s) => EMAIL_SCOPES.includes(s))) {
      return sendJson(
        res,
        404,
        apiError('Not Found', `${DOCS}/rest/users/emails#list-email-addresses-for-the-authenticated-user`, 404),
        emailHeaders,
      );
    }
    sendJson(res, 200, persona.emails, emailHeaders);
  }

  private userResource(p: GithubPersona): Record<string, unknown> {
    const url = `${this.apiBase}/users/${p.login}`;
    return {
      login: p.login,
      id: p.id,
      node_id: `U_${Buffer.from(`04:User${p.id}`).toString('base64url')}`,
      avatar_url: p.avatarUrl,
      gravatar_id: '',
      url,
      html_url: `https://github.example/${p.login}`,
      repos_url: `${url}/repos`,
      type: 'User',
      user_view_type: 'public',
      site_admin: false,
      name: p.name,
      company: null,
      blog: '',
      location: null,
      email: p.publicEmail,
      hireable: null,
      bio: null,
      twitter_username: null,
      public_repos: 0,
      public_gists: 0,
      followers: 0,
      following: 0,
      created_at: '2011-01-25T18:44:36Z',
      updated_at: '2025-01-01T00:00:00Z',
    };
  }

  private prune(map: Map<string, { expiresAt: number }>): void {
    const now = Date.now();
    for (const [key, value] of map) if (value.expiresAt < now) map.delete(key);
  }
}

/**
 * GitHub's rule (docs: "Redirect URLs"): same scheme; the host or a subdomain of it; the same port, except that a
 * loopback callback (http://127.0.0.1, http://localhost) takes any port; and the registered path or a subpath of it.
 */
export function githubRedirectMatches(registered: string, given: string): boolean {
  if (registered === given) return true;
  const r = URL.parse(registered);
  const g = URL.parse(given);
  if (!r || !g || g.protocol !== r.protocol || g.hash !== '' || g.username || g.password) return false;
  const loopback = r.protocol === 'http:' && ['127.0.0.1', 'localhost'].includes(r.hostname);
  const sameHost =
    g.hostname === r.hostname ||
    (!loopback && !/^[\d.]+$|^\[/.test(r.hostname) && g.hostname.endsWith(`.${r.hostname}`));
  const samePort = loopback || g.port === r.port;
  const base = r.pathname.endsWith('/') ? r.pathname : `${r.pathname}/`;
  const underPath = g.pathname === r.pathname || g.pathname.startsWith(base);
  return sameHost && samePort && underPath && !g.pathname.split('/').includes('..');
}

/** RFC 7636 S256 check; returns why it failed, or null when the verifier fits (or no challenge was sent). */
function checkPkce(challenge: string | null, verifier: string | null): string | null {
  if (challenge === null) return null;
  if (verifier === null)
    return 'The code_verifier is required because a code_challenge was sent with the authorization request.';
  const digest = createHash('sha256').update(verifier).digest('base64url');
  return digest === challenge && /^[A-Za-z0-9._~-]{43,128}$/.test(verifier)
    ? null
    : 'The code_verifier does not match the code_challenge sent with the authorization request.';
}

function sendToken(res: ServerResponse, asJson: boolean, body: Record<string, string>): void {
  // GitHub answers token errors with HTTP 200, in JSON only when asked for it.
  if (asJson) return sendJson(res, 200, body);
  res.writeHead(200, {
    'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
    'cache-control': 'no-store',
  });
  res.end(new URLSearchParams(body).toString());
}

/** GitHub's primary rate limit, exhausted: 403 with the x-ratelimit-* headers saying when it resets. */
function sendRateLimited(res: ServerResponse, persona: GithubPersona): void {
  const reset = Math.floor(Date.now() / 1000) + 15 * 60;
  sendJson(
    res,
    403,
    apiError(
      `API rate limit exceeded for user ID ${persona.id}.`,
      `${DOCS}/rest/overview/rate-limits-for-the-rest-api`,
      403,
    ),
    {
      'x-ratelimit-limit': String(RATE_LIMIT),
      'x-ratelimit-remaining': '0',
      'x-ratelimit-used': String(RATE_LIMIT),
      'x-ratelimit-reset': String(reset),
      'x-ratelimit-resource': 'core',
    },
  );
}

function apiError(message: string, documentationUrl: string, status: number): Record<string, string> {
  return { message, documentation_url: documentationUrl, status: String(status) };
}

/** The token of `Authorization: Bearer X` or `token X`; undefined when absent, null when malformed. */
function bearer(header: string | undefined): string | null | undefined {
  if (!header) return undefined;
  const match = /^(?:bearer|token)\s+(\S+)$/i.exec(header.trim());
  return match?.[1] ?? null;
}

function basicCredentials(header: string | undefined): { id: string; secret: string } | null {
  const match = /^basic\s+(\S+)$/i.exec(header?.trim() ?? '');
  if (!match?.[1]) return null;
  // RFC 6749 2.3.1: both halves are form-urlencoded before they are joined.
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  const [id, secret] = [decoded.slice(0, colon), decoded.slice(colon + 1)].map(
    (part) => new URLSearchParams(`v=${part}`).get('v') ?? '',
  );
  return { id: id ?? '', secret: secret ?? '' };
}

/** GitHub accepts scopes separated by spaces or commas. */
function splitScopes(scope: string): string[] {
  return [...new Set(scope.split(/[\s,]+/).filter(Boolean))];
}

function randomToken(bytes: number): string {
  return randomBytes(bytes).toString('base64url').replace(/[-_]/g, '0');
}

function withQuery(base: string, params: Record<string, string>): string {
  const url = new URL(base);
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  return url.href;
}
