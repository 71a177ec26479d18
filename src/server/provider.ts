// The OpenID provider of `idp serve`: oidc-provider 9 configured the way Asgardeo lays out its endpoints, with the
// org's apps as its clients, the org's keys, its models kept in the org's store, and claims from the broker use case.
import type { Interaction, MiddlewareContext, Provider } from 'oidc-provider';
import { type KeptWithGrant, sessionClaims, sessionStands } from '../app/broker.js';
import { MY_ACCOUNT } from '../core/signin.js';
import type { App } from '../core/types.js';
import type { Store } from '../ports.js';
import { withoutWarning } from '../net/quiet-import.js';
import { errorPage } from './pages/error.js';
import { page } from './pages/layout.js';
import { ACR_MFA, ACR_SINGLE_FACTOR } from '../flow/session.js';

/** Where the provider's endpoints sit under the org's mount (`/t/<org>`): Asgardeo's paths. */
export const ROUTES = {
  authorization: '/oauth2/authorize',
  token: '/oauth2/token',
  userinfo: '/oauth2/userinfo',
  jwks: '/oauth2/jwks',
  revocation: '/oauth2/revoke',
  introspection: '/oauth2/introspect',
  end_session: '/oidc/logout',
} as const;

/** The web driver's pages for one interaction, under the mount. */
export const INTERACTION_PATH = '/authenticationendpoint/';

/** The scripts passkey pages load (src/net/passkey-assets.ts), under the mount. */
export const ASSET_PATH = '/assets';

/** What idp keeps with a grant (app/broker.ts KeptWithGrant), stored as a model of its own beside the grant. */
export const KEPT_MODEL = 'KeptWithGrant';

/** What findAccount reads of oidc-provider's request context. */
interface AccountContext {
  oidc?: {
    client?: { clientId: string };
    result?: { consent?: { grantId?: string } };
    session?: { grantIdFor(clientId: string): string | undefined };
  };
}

/** The provider refuses requests apps make (an unregistered redirect URI, a missing PKCE challenge): the app must change. */
const REQUEST_FIX = "check the app's request against its registration: client_id, redirect_uri and PKCE";

const MINUTE = 60;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Standard claims by scope; an app's own attributes come with `openid`, since no standard scope names them. */
const SCOPE_CLAIMS = {
  profile: ['username', 'preferred_username', 'name', 'given_name', 'family_name', 'picture'],
  email: ['email', 'email_verified'],
};

export interface ProviderOptions {
  store: Store;
  /** `http://localhost:PORT/t/<org>/oauth2/token` */
  issuer: string;
  /** `/t/<org>` */
  mount: string;
  /** The keys that sign cookies: stable across restarts, so sessions survive one. */
  cookieKeys: string[];
  /** Where the built-in My Account app receives its code: it signs in through this provider like any app. */
  myAccountCallback: string;
}

export async function createProvider(opts: ProviderOptions): Promise<Provider> {
  const { Provider, errors } = await withoutWarning('Unsupported runtime', () => import('oidc-provider'));
  const { store } = opts;
  const provider = new Provider(opts.issuer, await configuration(opts, errors.InvalidGrant));
  // Behind no proxy: the Host the browser used is the one in the issuer (server.ts trusts the one it sets itself when
  // idp serve has a public URL).
  provider.proxy = false;
  provider.use(credentialedCors(store));
  return provider;
}

async function configuration(
  { store, mount, cookieKeys, myAccountCallback }: ProviderOptions,
  InvalidGrant: new (detail: string) => Error,
): Promise<Record<string, unknown>> {
  const customAttributes = new Set<string>();
  for (const app of await store.apps.list())
    for (const attribute of app.attributes)
      if (!Object.values(SCOPE_CLAIMS).flat().includes(attribute)) customAttributes.add(attribute);
  return {
    adapter: modelAdapter(store, myAccountCallback, InvalidGrant),
    findAccount: async (ctx: AccountContext, sub: string, token?: { grantId?: string; clientId?: string }) => {
      // At the token and userinfo endpoints the token names its grant; at the authorization endpoint the interaction's
      // result or the session does.
      const clientId = token?.clientId ?? ctx.oidc?.client?.clientId;
      const grantId =
        token?.grantId ?? ctx.oidc?.result?.consent?.grantId ?? (clientId && ctx.oidc?.session?.grantIdFor(clientId));
      const kept = grantId
        ? ((await store.oidc.find(KEPT_MODEL, grantId, now())) as KeptWithGrant | undefined)
        : undefined;
      if (!kept || !clientId)
        return (await sessionStands(store, sub)) ? { accountId: sub, claims: () => ({ sub }) } : undefined;
      const claims = await sessionClaims(store, clientId, sub, kept);
      return claims && { accountId: sub, claims: () => claims };
    },
    claims: {
      // How and when the person authenticated, with every ID token: apps check MFA with amr and acr.
      openid: ['sub', 'idp', 'pass_through', 'acr', 'amr', 'auth_time', ...customAttributes],
      ...SCOPE_CLAIMS,
    },
    scopes: ['openid', 'profile', 'email', 'offline_access'],
    acrValues: [ACR_SINGLE_FACTOR, ACR_MFA],
    responseTypes: ['code'],
    // Asgardeo and its SDKs read the user's attributes from the ID token.
    conformIdTokenClaims: false,
    pkce: { required: (_ctx: unknown, client: { clientAuthMethod: string }) => client.clientAuthMethod === 'none' },
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'none'],
    // Apps registered for the refresh grant get refresh tokens without asking for offline_access, as on Asgardeo.
    issueRefreshToken: async (_ctx: unknown, client: { grantTypeAllowed(type: string): boolean }) =>
      client.grantTypeAllowed('refresh_token'),
    routes: ROUTES,
    features: {
      devInteractions: { enabled: false },
      // An app sees and revokes only its own tokens: the org's apps are not one another's resource servers.
      revocation: { enabled: true, allowedPolicy: ownToken },
      introspection: { enabled: true, allowedPolicy: ownToken },
      userinfo: { enabled: true },
      rpInitiatedLogout: { enabled: true, logoutSource, postLogoutSuccessSource },
    },
    interactions: {
      url: (_ctx: unknown, interaction: Interaction) => `${mount}${INTERACTION_PATH}${interaction.uid}`,
    },
    jwks: {
      keys: (await store.org.signingKeys()).map((k) => ({ ...k.privateJwk, kid: k.kid, alg: k.alg, use: 'sig' })),
    },
    enabledJWA: { idTokenSigningAlgValues: ['RS256', 'ES256'] },
    cookies: {
      keys: cookieKeys,
      long: { signed: true, httpOnly: true, sameSite: 'lax' },
      short: { signed: true, httpOnly: true, sameSite: 'lax' },
    },
    ttl: {
      AccessToken: HOUR,
      AuthorizationCode: 10 * MINUTE,
      IdToken: HOUR,
      Interaction: HOUR,
      Session: 14 * DAY,
      Grant: 14 * DAY,
      RefreshToken: 14 * DAY,
    },
    // oidc-provider asks synchronously, so the app's origins come with its client metadata (read at each lookup).
    extraClientMetadata: { properties: [ORIGINS_METADATA] },
    clientBasedCORS: (_ctx: unknown, origin: string, client: { [ORIGINS_METADATA]?: unknown }) =>
      Array.isArray(client[ORIGINS_METADATA]) && client[ORIGINS_METADATA].includes(origin),
    renderError: (ctx: { type: string; body: string }, out: { error: string; error_description?: string }) => {
      ctx.type = 'html';
      ctx.body = errorPage({
        title: 'Sign-in failed',
        message: out.error_description ?? out.error,
        fix: REQUEST_FIX,
        code: out.error,
      });
    },
  };
}

async function ownToken(_ctx: unknown, client: { clientId: string }, token: { clientId?: string }): Promise<boolean> {
  return token.clientId === client.clientId;
}

/** The client metadata property carrying the app's origins, for clientBasedCORS. */
const ORIGINS_METADATA = 'idp_origins';

/** The org's app as oidc-provider's client: public SPAs (PKCE, no secret), confidential web apps (their secret). */
export function clientMetadata(app: App, secret: string | null): Record<string, unknown> {
  return {
    client_id: app.clientId,
    [ORIGINS_METADATA]: app.origins,
    client_name: app.name,
    redirect_uris: app.redirectUris,
    post_logout_redirect_uris: app.redirectUris,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    id_token_signed_response_alg: app.idTokenAlg,
    application_type: 'web',
    ...(app.type === 'web' && secret !== null
      ? { client_secret: secret, token_endpoint_auth_method: 'client_secret_basic' }
      : { token_endpoint_auth_method: 'none' }),
  };
}

/** Now in epoch seconds, the unit of the provider's expiries. */
export function now(): number {
  return Math.floor(Date.now() / 1000);
}

/**
 * oidc-provider's storage on the Store port. Clients are not stored: they are the org's apps, read at each lookup,
 * so an app created or changed while the server runs takes effect at once.
 */
function modelAdapter(store: Store, myAccountCallback: string, InvalidGrant: new (detail: string) => Error) {
  return (model: string) => {
    if (model === 'Client') {
      return {
        async find(clientId: string) {
          const app = await store.apps.byClientId(clientId);
          // A web app is confidential: until it has a secret (one applied from a policy file) it is no client at all,
          // never a public one.
          const secret = app?.type === 'web' ? await store.apps.clientSecret(app.name) : null;
          if (!app || (app.type === 'web' && secret === null)) return undefined;
          const registered = app.name === MY_ACCOUNT ? { ...app, redirectUris: [myAccountCallback] } : app;
          return clientMetadata(registered, secret);
        },
      };
    }
    return {
      async upsert(id: string, payload: Record<string, unknown>, expiresIn?: number) {
        const owner = GRANT_BOUND.has(model) && typeof payload.grantId === 'string' ? payload.grantId : undefined;
        await store.oidc.upsert(model, id, payload, typeof expiresIn === 'number' ? now() + expiresIn : null, owner);
      },
      async find(id: string) {
        const payload = await store.oidc.find(model, id, now());
        // A token outlives neither its app nor its user's access: every endpoint, introspection included, sees none.
        if (payload && GRANT_BOUND.has(model) && !(await tokenStands(store, payload))) return undefined;
        return payload;
      },
      async findByUid(uid: string) {
        return store.oidc.findByUid(model, uid, now());
      },
      async consume(id: string) {
        // oidc-provider reads `consumed` and marks it some awaits later, so two requests redeeming one code at once
        // could both pass its check. The mark is conditional here: the loser revokes the grant, as a reuse does.
        if (await store.oidc.consume(model, id, now())) return;
        const grantId = (await store.oidc.find(model, id, 0))?.grantId;
        if (typeof grantId === 'string') {
          await store.tx(async (tx) => {
            await tx.oidc.revokeByGrantId(grantId);
            await tx.oidc.destroy('Grant', grantId);
          });
        }
        throw new InvalidGrant(`${CONSUMABLE[model] ?? model} already consumed`);
      },
      async destroy(id: string) {
        await store.oidc.destroy(model, id);
      },
      async revokeByGrantId(grantId: string) {
        await store.oidc.revokeByGrantId(grantId);
      },
    };
  };
}

/**
 * oidc-provider answers CORS for registered origins but never allows credentials, which browser SDKs send to the token
 * endpoint; it opens discovery and the JWKS to every origin, and echoes any origin on preflights and on errors of the
 * client endpoints. Answer only origins some app registered, and allow credentials where it allowed one.
 */
function credentialedCors(store: Store) {
  return async (ctx: MiddlewareContext, next: () => Promise<void>): Promise<void> => {
    await next();
    const allowed = ctx.response.get('access-control-allow-origin');
    if (!allowed) return;
    const origin = ctx.get('origin');
    if (!(await store.apps.list()).some((app) => app.origins.includes(origin))) {
      for (const header of CORS_HEADERS) ctx.remove(header);
      return;
    }
    if (ctx.method === 'OPTIONS' || OPEN_ROUTES.has(ctx.oidc?.route ?? '')) {
      ctx.set('access-control-allow-origin', origin);
      ctx.set('vary', 'Origin');
    }
    ctx.set('access-control-allow-credentials', 'true');
  };
}

/** What a consumed model is called in the error its second use gets. */
const CONSUMABLE: Record<string, string> = {
  AuthorizationCode: 'authorization code',
  RefreshToken: 'refresh token',
  PushedAuthorizationRequest: 'pushed authorization request',
};

/**
 * The models that act for a person under a grant, and the only ones a revoked grant takes along. An Interaction also
 * names a grant but outlives it: switching accounts ends the session (revoking its grants), and the sign-in that asked
 * for it must still resume its interaction.
 */
const GRANT_BOUND = new Set(['AccessToken', 'RefreshToken', 'AuthorizationCode']);

async function tokenStands(store: Store, payload: Record<string, unknown>): Promise<boolean> {
  const { clientId, accountId, grantId } = payload;
  if (typeof clientId !== 'string' || typeof accountId !== 'string' || typeof grantId !== 'string') return false;
  const kept = (await store.oidc.find(KEPT_MODEL, grantId, now())) as KeptWithGrant | undefined;
  return kept !== undefined && (await sessionClaims(store, clientId, accountId, kept)) !== undefined;
}

/** Routes oidc-provider opens to any origin (it echoes the Origin back). */
const OPEN_ROUTES = new Set(['jwks', 'discovery']);

const CORS_HEADERS = [
  'access-control-allow-origin',
  'access-control-allow-methods',
  'access-control-allow-headers',
  'access-control-expose-headers',
  'access-control-max-age',
];

/** oidc-provider's sign-out confirmation (its form carries its own CSRF token), in the web driver's page shell. */
async function logoutSource(ctx: { body: string }, form: string): Promise<void> {
  ctx.body = page({
    title: 'Sign out',
    heading: 'Sign out',
    body: `${form}<p>Do you want to sign out of this organisation?</p>
<p class="actions"><button type="submit" form="op.logoutForm" value="yes" name="logout">Sign out</button>
<button type="submit" form="op.logoutForm" class="secondary">Stay signed in</button></p>`,
  });
}

async function postLogoutSuccessSource(ctx: { body: string }): Promise<void> {
  ctx.body = page({ title: 'Signed out', heading: 'Signed out', body: '<p>You have signed out.</p>' });
}
