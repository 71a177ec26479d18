// The Google-like sandbox provider: a real OpenID provider (oidc-provider 9) with PKCE required, RS256 keys
// made at start, Google's claims, and our own account chooser and consent pages. Loaded only when asked for.

import { createPrivateKey, generateKeyPair, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import type { Interaction, Provider as OidcProvider } from 'oidc-provider';
import type { GooglePersona } from './personas.js';
import type { RegisteredClient } from '../ports.js';
import { closeServer, guardPages, listenLoopback, readParams, sendHtml } from '../net/http.js';
import { withoutWarning } from '../net/quiet-import.js';
import { errorPage, escapeHtml, form, page, DECISION_FIELD, PERSONA_FIELD, PersonaRadios } from './pages.js';

export interface GoogleSandbox {
  issuer: string;
  close(): Promise<void>;
}

const INTERACTION_PREFIX = '/interaction/';
const HOUR = 60 * 60;

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export async function startGoogleSandbox(
  clients: RegisteredClient[],
  personas: GooglePersona[],
  port: number,
): Promise<GoogleSandbox> {
  // The issuer carries the bound port, so the provider is built once the server listens.
  let dispatch: Handler = (_req, res) => sendHtml(res, 503, errorPage('Starting', 'The Google sandbox is starting.'));
  const server = createServer((req, res) => {
    guardPages(res, []);
    dispatch(req, res);
  });
  const issuer = `http://127.0.0.1:${await listenLoopback(server, port)}`;
  try {
    const [{ Provider, interactionPolicy }, { createMemoryAdapter }] = await Promise.all([
      withoutWarning('Unsupported runtime', () => import('oidc-provider')),
      import('oidc-provider/lib/adapters/memory_adapter.js'),
    ]);
    const googleClients = clients.filter((c) => c.provider === 'google');
    const config = await configuration(googleClients, personas, interactionPolicy);
    const provider = new Provider(issuer, { ...config, adapter: createMemoryAdapter() });
    const interactions = new Interactions(provider, googleClients, personas);
    const oidc = provider.callback();
    dispatch = (req, res) => {
      if (!(req.url ?? '').startsWith(INTERACTION_PREFIX)) return oidc(req, res);
      interactions.handle(req, res).catch((err: unknown) => {
        // oidc-provider's errors carry the status and the readable part in error_description.
        const {
          statusCode,
          error_description: description,
          message,
        } = err as { statusCode?: number; error_description?: string; message: string };
        if (!res.headersSent) sendHtml(res, statusCode ?? 500, errorPage('Sign-in failed', description ?? message));
      });
    };
  } catch (err) {
    await closeServer(server);
    throw err;
  }
  return { issuer, close: () => closeServer(server) };
}

async function configuration(
  clients: RegisteredClient[],
  personas: GooglePersona[],
  policy: typeof import('oidc-provider').interactionPolicy,
): Promise<Record<string, unknown>> {
  const interactions = policy.base();
  // Like Google's account chooser: every authorization asks which account to use, even with a session.
  interactions
    .get('login')
    ?.checks.add(
      new policy.Check('account_chooser', 'the sandbox asks which account to use on every sign-in', (ctx) =>
        ctx.oidc.result?.['login'] ? policy.Check.NO_NEED_TO_PROMPT : policy.Check.REQUEST_PROMPT,
      ),
    );
  return {
    clients: clients.map((c) => ({
      client_id: c.clientId,
      ...(c.tokenEndpointAuthMethod !== 'none' && { client_secret: c.clientSecret }),
      client_name: c.appName,
      redirect_uris: c.redirectUris,
      // Native clients get RFC 8252 7.3: a loopback redirect URI matches with any port.
      application_type: 'native',
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: c.tokenEndpointAuthMethod,
    })),
    findAccount: (_ctx: unknown, sub: string) => {
      const persona = personas.find((p) => p.sub === sub);
      return persona && { accountId: persona.sub, claims: () => googleClaims(persona) };
    },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'given_name', 'family_name', 'picture'],
    },
    scopes: ['openid'],
    responseTypes: ['code'],
    // Google puts the requested claims in the ID token even when an access token is issued.
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    // What Google lists, plus none for public clients (connections with token authentication none).
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'none'],
    routes: { authorization: '/o/oauth2/v2/auth', token: '/token', userinfo: '/v1/userinfo', jwks: '/oauth2/v3/certs' },
    features: { devInteractions: { enabled: false }, rpInitiatedLogout: { enabled: false } },
    interactions: {
      policy: interactions,
      url: (_ctx: unknown, interaction: Interaction) => `${INTERACTION_PREFIX}${interaction.uid}`,
    },
    jwks: { keys: [await signingKey()] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    ttl: {
      AccessToken: HOUR,
      AuthorizationCode: 10 * 60,
      IdToken: HOUR,
      Interaction: HOUR,
      Session: 24 * HOUR,
      Grant: 24 * HOUR,
      RefreshToken: 24 * HOUR,
      ClientCredentials: 10 * 60,
      DeviceCode: 10 * 60,
      BackchannelAuthenticationRequest: 10 * 60,
    },
    clientBasedCORS: () => false,
    renderError: (ctx: { type: string; body: string }, out: { error: string; error_description?: string }) => {
      ctx.type = 'html';
      ctx.body = errorPage(`Error: ${out.error}`, out.error_description ?? out.error);
    },
  };
}

function googleClaims(p: GooglePersona): Record<string, unknown> {
  return {
    sub: p.sub,
    email: p.email,
    email_verified: p.emailVerified,
    name: p.name,
    given_name: p.givenName,
    family_name: p.familyName,
    picture: p.picture,
  };
}

async function signingKey(): Promise<Record<string, unknown>> {
  // Encoded by the job and read back: exporting its own KeyObject can deadlock on Node 20 (see tokens/keys.ts).
  const { privateKey: der } = await promisify(generateKeyPair)('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { format: 'der', type: 'pkcs8' },
    publicKeyEncoding: { format: 'der', type: 'spki' },
  });
  const privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  return { ...privateKey.export({ format: 'jwk' }), kid: randomBytes(8).toString('hex'), alg: 'RS256', use: 'sig' };
}

/** Our pages for oidc-provider's `login` prompt (the account chooser) and `consent` prompt. */
class Interactions {
  private readonly radios: PersonaRadios;

  constructor(
    private readonly provider: OidcProvider,
    private readonly clients: RegisteredClient[],
    private readonly personas: GooglePersona[],
  ) {
    this.radios = new PersonaRadios(
      personas.map((p) => ({
        value: p.username,
        label: p.name,
        detail: `${p.email}${p.emailVerified ? '' : ' (email not verified)'} · persona ${p.username}`,
      })),
    );
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const details = await this.provider.interactionDetails(req, res);
    if (req.url !== `${INTERACTION_PREFIX}${details.uid}`) {
      return sendHtml(
        res,
        400,
        errorPage('Sign-in expired', 'This sign-in page belongs to another sign-in: start again.'),
      );
    }
    if (req.method === 'GET') return sendHtml(res, 200, this.render(details));
    if (req.method !== 'POST')
      return sendHtml(res, 405, errorPage('Method not allowed', `${req.method} is not allowed here.`));
    const submitted = await readParams(req);
    if (submitted.get(DECISION_FIELD) === 'deny') {
      const denied = { error: 'access_denied', error_description: 'The user denied access to the application.' };
      return this.provider.interactionFinished(req, res, denied, { mergeWithLastSubmission: false });
    }
    if (details.prompt.name === 'login') return this.login(req, res, submitted.get(PERSONA_FIELD));
    if (details.prompt.name === 'consent') return this.consent(req, res, details);
    sendHtml(res, 400, errorPage('Unsupported step', `The sandbox cannot answer the '${details.prompt.name}' prompt.`));
  }

  private async login(req: IncomingMessage, res: ServerResponse, username: string | null): Promise<void> {
    const persona = this.personas.find((p) => p.username === username);
    if (!persona)
      return sendHtml(res, 400, errorPage('Unknown account', `There is no sandbox account '${username ?? ''}'.`));
    await this.provider.interactionFinished(
      req,
      res,
      { login: { accountId: persona.sub } },
      { mergeWithLastSubmission: false },
    );
  }

  private async consent(req: IncomingMessage, res: ServerResponse, details: Interaction): Promise<void> {
    const accountId = details.session?.accountId;
    const clientId = String(details.params['client_id']);
    if (!accountId) return sendHtml(res, 400, errorPage('Sign-in expired', 'No account is signed in: start again.'));
    const grant =
      (details.grantId && (await this.provider.Grant.find(details.grantId))) ||
      new this.provider.Grant({ accountId, clientId });
    const missing = details.prompt.details as {
      missingOIDCScope?: string[];
      missingOIDCClaims?: string[];
      missingResourceScopes?: Record<string, string[]>;
    };
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [resource, scopes] of Object.entries(missing.missingResourceScopes ?? {}))
      grant.addResourceScope(resource, scopes.join(' '));
    const grantId = await grant.save();
    await this.provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }

  private render(details: Interaction): string {
    const appName =
      this.clients.find((c) => c.clientId === details.params['client_id'])?.appName ??
      String(details.params['client_id']);
    const app = escapeHtml(appName);
    const action = `${INTERACTION_PREFIX}${details.uid}`;
    if (details.prompt.name === 'login') {
      const hint = details.params['login_hint'];
      const selected = this.personas.find((p) => p.email === hint || p.username === hint)?.username;
      return page(
        'Sign in - Google Accounts',
        `<h1>Choose an account</h1>\n<p>to continue to <strong>${app}</strong></p>\n${form({
          action,
          hidden: {},
          personas: { radios: this.radios, selected },
          buttons: [
            { decision: 'deny', label: 'Cancel' },
            { decision: 'continue', label: 'Continue' },
          ],
        })}`,
      );
    }
    const persona = this.personas.find((p) => p.sub === details.session?.accountId);
    const scopes = String(details.params['scope'] ?? '')
      .split(' ')
      .filter((s) => s && s !== 'openid');
    return page(
      `${appName} wants to access your Google Account`,
      `<h1>${app} wants to access your Google Account</h1>
<p>${escapeHtml(persona ? `${persona.name} · ${persona.email}` : '')}</p>
<p>This will allow ${app} to see: ${escapeHtml(scopes.length ? scopes.join(', ') : 'your account identifier')}</p>
${form({
  action,
  hidden: {},
  buttons: [
    { decision: 'deny', label: 'Deny' },
    { decision: 'approve', label: 'Allow' },
  ],
})}`,
    );
  }
}
