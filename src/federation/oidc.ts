// The OpenID Connect connector (Google and any issuer): discovery with an exact issuer check, an ID token verified
// including its signature, then userinfo for the same subject. Claims come out under their OIDC names.

import * as client from 'openid-client';
import { IdpError } from '../core/errors.js';
import type { TokenAuthMethod } from '../core/types.js';
import type { Connector, UpstreamProfile, UpstreamTokens } from '../ports.js';
import { isRecord, withoutEmpty } from './claims.js';
import { checkDiscoveryDocument, chooseTokenAuth, discoveryUrl, requireSecretFor } from './discovery.js';
import { checkCallback, clientAuth, newAuthorizationRequest, redeemCode, toIdpError, type Upstream } from './oauth.js';
import { needsInsecureRequests, parseEndpoint, upstreamFetch } from './transport.js';

export interface OidcOptions {
  /** How messages name the provider, e.g. "Google". */
  provider: string;
  issuer: string;
  clientId: string;
  clientSecret: string | null;
  /** null: chosen from the discovery document (chooseTokenAuth). */
  tokenAuth: TokenAuthMethod | null;
  scopes: string[];
}

const PROFILE_CLAIMS = ['email', 'name', 'given_name', 'family_name', 'picture', 'preferred_username'] as const;

export async function createOidcConnector(opts: OidcOptions): Promise<Connector> {
  if (!opts.scopes.includes('openid')) {
    throw new IdpError(
      'INVALID_VALUE',
      `the scopes of the ${opts.provider} connection lack 'openid'`,
      "add 'openid' to the connection's scopes: without it there is no ID token",
    );
  }
  const config = await discover(opts);
  const upstream: Upstream = {
    provider: opts.provider,
    config,
    scopes: opts.scopes,
    expectsIdToken: true,
    clientSecret: opts.clientSecret,
  };
  return {
    authorizationRequest: (redirectUri) => newAuthorizationRequest(upstream, redirectUri),
    checkCallback: (callbackUrl, request) => void checkCallback(upstream, callbackUrl, request),
    exchangeCode: (callbackUrl, request) => redeemCode(upstream, callbackUrl, request),
    fetchProfile: (tokens) => fetchOidcProfile(upstream, tokens),
  };
}

async function discover(opts: OidcOptions): Promise<client.Configuration> {
  const issuer = parseEndpoint(opts.issuer, `${opts.provider} issuer`);
  // openid-client skips its issuer check when handed a discovery document URL, so refuse one.
  if (issuer.pathname.includes('/.well-known/')) {
    throw new IdpError(
      'INVALID_VALUE',
      `${opts.provider} issuer ${issuer.href} is a discovery document URL`,
      'give the issuer itself, e.g. https://accounts.google.com',
    );
  }
  requireSecretFor(opts.tokenAuth, opts.clientSecret, opts.provider);
  let config: client.Configuration;
  try {
    config = await client.discovery(issuer, opts.clientId, undefined, discoveredAuth(opts), {
      [client.customFetch]: upstreamFetch(opts.provider),
      // Signature checks are off by default in openid-client 6 (TLS vouches for the token endpoint); the broker wants them.
      execute: needsInsecureRequests([issuer])
        ? [client.allowInsecureRequests, client.enableNonRepudiationChecks]
        : [client.enableNonRepudiationChecks],
    });
  } catch (err) {
    throw toIdpError(err, opts.provider, 'discovery document');
  }
  // Before any browser opens: a document that lacks an endpoint would otherwise fail the login after consent. The
  // endpoints also pass the configured URLs' transport rule, as allowInsecureRequests covers every one of them.
  checkDiscoveryDocument(opts.provider, config.serverMetadata(), issuer.href, discoveryUrl(issuer).href);
  return config;
}

/** The configured method, or the one the discovery document (known once fetched) makes chooseTokenAuth pick. */
function discoveredAuth(opts: OidcOptions): client.ClientAuth {
  return (as, metadata, body, headers) =>
    clientAuth(
      chooseTokenAuth(opts.tokenAuth, as.token_endpoint_auth_methods_supported, !!opts.clientSecret),
      opts.clientSecret,
    )(as, metadata, body, headers);
}

async function fetchOidcProfile(upstream: Upstream, tokens: UpstreamTokens): Promise<UpstreamProfile> {
  const idClaims = tokens.idTokenClaims;
  if (!idClaims || typeof idClaims.sub !== 'string') {
    throw new IdpError(
      'INTERNAL',
      `fetchProfile needs the verified ID token claims of ${upstream.provider}`,
      'pass the tokens exchangeCode returned',
    );
  }
  const userinfo = upstream.config.serverMetadata().userinfo_endpoint
    ? await fetchUserInfo(upstream, tokens.accessToken, idClaims.sub)
    : {};
  // userinfo is the fresher source; the ID token fills what it leaves out.
  const merged: Record<string, unknown> = { ...idClaims, ...userinfo };
  const claims = withoutEmpty(Object.fromEntries(PROFILE_CLAIMS.map((name) => [name, merged[name]])));
  if (claims.email !== undefined)
    claims.email_verified = merged.email_verified === true || merged.email_verified === 'true';
  return { subject: idClaims.sub, claims };
}

async function fetchUserInfo(
  upstream: Upstream,
  accessToken: string,
  subject: string,
): Promise<Record<string, unknown>> {
  try {
    const userinfo: unknown = await client.fetchUserInfo(upstream.config, accessToken, subject);
    return isRecord(userinfo) ? userinfo : {};
  } catch (err) {
    throw toIdpError(err, upstream.provider, 'userinfo endpoint', [accessToken, upstream.clientSecret]);
  }
}
