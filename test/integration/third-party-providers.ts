// Small providers that idp did not write, speaking the exact protocol shapes on 127.0.0.1: an OpenID provider whose
// discovery document and token endpoint authentication are configurable (strict about the one method it takes), and a
// GitHub Enterprise Server (web at /login/oauth, REST API at /api/v3) whose API answers can be scripted.
import assert from 'node:assert/strict';
import { createSign, generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface TokenRequest {
  authorization: string | undefined;
  body: URLSearchParams;
}

interface Running {
  url: string;
  close(): Promise<void>;
}

async function listen(
  handler: (req: IncomingMessage, res: ServerResponse, body: string) => void,
): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handler(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(typeof address === 'object' && address);
  return { server, url: `http://127.0.0.1:${address.port}` };
}

function closer(server: Server): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

export interface OidcProviderOptions {
  /** token_endpoint_auth_methods_supported; undefined leaves the field out. */
  methods?: string[];
  /** The one method the token endpoint accepts. */
  accepts: 'client_secret_basic' | 'client_secret_post' | 'none';
  clientId: string;
  clientSecret?: string;
  /** Edits the discovery document before it is served. */
  edit?: (doc: Record<string, unknown>, own: string) => void;
}

export interface OidcProvider extends Running {
  tokenRequests: TokenRequest[];
  /** Requests to the authorize endpoint (a login that reached the browser). */
  authorizeHits: number;
}

/** An OpenID provider that consents at once: /authorize redirects straight back with a code. */
export async function startOidcProvider(opts: OidcProviderOptions): Promise<OidcProvider> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'RS256', use: 'sig' };
  const codes = new Map<string, { nonce: string; challenge: string }>();
  const state: OidcProvider = { url: '', tokenRequests: [], authorizeHits: 0, close: async () => undefined };
  const { server, url } = await listen((req, res, body) => {
    const own = state.url;
    const route = new URL(req.url ?? '/', own);
    if (route.pathname === '/.well-known/openid-configuration') {
      const doc: Record<string, unknown> = {
        issuer: own,
        authorization_endpoint: `${own}/authorize`,
        token_endpoint: `${own}/token`,
        jwks_uri: `${own}/jwks`,
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
        code_challenge_methods_supported: ['S256'],
        ...(opts.methods && { token_endpoint_auth_methods_supported: opts.methods }),
      };
      opts.edit?.(doc, own);
      return json(res, 200, doc);
    }
    if (route.pathname === '/jwks') return json(res, 200, { keys: [jwk] });
    if (route.pathname === '/authorize') {
      state.authorizeHits++;
      const code = randomBytes(12).toString('hex');
      codes.set(code, {
        nonce: route.searchParams.get('nonce') ?? '',
        challenge: route.searchParams.get('code_challenge') ?? '',
      });
      const back = new URL(route.searchParams.get('redirect_uri') ?? '');
      back.searchParams.set('code', code);
      back.searchParams.set('state', route.searchParams.get('state') ?? '');
      return void res.writeHead(302, { location: back.href }).end();
    }
    if (route.pathname === '/token' && req.method === 'POST') {
      const params = new URLSearchParams(body);
      state.tokenRequests.push({ authorization: req.headers.authorization, body: params });
      if (!authenticated(opts, req.headers.authorization, params))
        return json(res, 401, {
          error: 'invalid_client',
          error_description: `this client authenticates with ${opts.accepts}`,
        });
      const issued = codes.get(params.get('code') ?? '');
      if (!issued || !params.get('code_verifier')) return json(res, 400, { error: 'invalid_grant' });
      const now = Math.floor(Date.now() / 1000);
      const idToken = sign(
        {
          iss: own,
          aud: opts.clientId,
          sub: 'third-party-7',
          nonce: issued.nonce,
          iat: now,
          exp: now + 300,
          email: 'seven@example.com',
          email_verified: true,
        },
        privateKey,
      );
      return json(res, 200, {
        access_token: randomBytes(16).toString('hex'),
        token_type: 'Bearer',
        expires_in: 300,
        id_token: idToken,
      });
    }
    json(res, 404, { error: 'not_found' });
  });
  state.url = url;
  state.close = closer(server);
  return state;
}

function authenticated(opts: OidcProviderOptions, authorization: string | undefined, params: URLSearchParams): boolean {
  const basic = /^Basic (.+)$/.exec(authorization ?? '')?.[1];
  if (opts.accepts === 'none')
    return !authorization && !params.has('client_secret') && params.get('client_id') === opts.clientId;
  if (opts.accepts === 'client_secret_post')
    return (
      !authorization && params.get('client_id') === opts.clientId && params.get('client_secret') === opts.clientSecret
    );
  if (!basic || params.has('client_secret')) return false;
  const [id, secret] = Buffer.from(basic, 'base64')
    .toString('utf8')
    .split(':')
    .map((part) => decodeURIComponent(part.replace(/\+/g, ' ')));
  return id === opts.clientId && secret === opts.clientSecret;
}

function sign(claims: Record<string, unknown>, key: Parameters<ReturnType<typeof createSign>['sign']>[0]): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const input = `${part({ alg: 'RS256', kid: 'k1', typ: 'JWT' })}.${part(claims)}`;
  return `${input}.${createSign('RSA-SHA256').update(input).sign(key).toString('base64url')}`;
}

export interface ApiAnswer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export interface GithubServer extends Running {
  /** Headers of every API request, by path. */
  apiRequests: { path: string; headers: IncomingMessage['headers'] }[];
  tokenRequests: TokenRequest[];
}

export const GHES_USER = {
  login: 'mona',
  id: 4242,
  name: 'Mona Lisa',
  email: null,
  avatar_url: 'https://ghe.example/mona.png',
};
export const GHES_EMAILS = [{ email: 'mona@example.com', primary: true, verified: true, visibility: 'private' }];

/** A GitHub Enterprise Server: /login/oauth/{authorize,access_token} and /api/v3/{user,user/emails}, answers scripted by path. */
export async function startGithubServer(
  clientId: string,
  clientSecret: string,
  answers: { user?: ApiAnswer; emails?: ApiAnswer } = {},
): Promise<GithubServer> {
  const state: GithubServer = { url: '', apiRequests: [], tokenRequests: [], close: async () => undefined };
  const { server, url } = await listen((req, res, body) => {
    const route = new URL(req.url ?? '/', state.url);
    if (route.pathname === '/login/oauth/authorize') {
      const back = new URL(route.searchParams.get('redirect_uri') ?? '');
      back.searchParams.set('code', 'ghe-code');
      back.searchParams.set('state', route.searchParams.get('state') ?? '');
      return void res.writeHead(302, { location: back.href }).end();
    }
    if (route.pathname === '/login/oauth/access_token') {
      const params = new URLSearchParams(body);
      state.tokenRequests.push({ authorization: req.headers.authorization, body: params });
      if (params.get('client_id') !== clientId || params.get('client_secret') !== clientSecret)
        return json(res, 200, { error: 'incorrect_client_credentials' });
      return json(res, 200, { access_token: 'gho_ghes', token_type: 'bearer', scope: 'read:user,user:email' });
    }
    if (route.pathname.startsWith('/api/v3/')) {
      const path = route.pathname.slice('/api/v3'.length);
      state.apiRequests.push({ path, headers: req.headers });
      const answer =
        path === '/user'
          ? (answers.user ?? { status: 200, body: GHES_USER })
          : path === '/user/emails'
            ? (answers.emails ?? { status: 200, body: GHES_EMAILS })
            : { status: 404, body: { message: 'Not Found' } };
      return json(res, answer.status, answer.body, answer.headers);
    }
    json(res, 404, { message: 'Not Found' });
  });
  state.url = url;
  state.close = closer(server);
  return state;
}
