// What idp requires of an OpenID provider's discovery document before any browser opens, and which token endpoint
// authentication method it uses there. One rule for login and `idp doctor`; no openid-client here, so doctor loads it cheaply.

import { IdpError } from '../core/errors.js';
import type { TokenAuthMethod } from '../core/types.js';
import { isRecord } from './claims.js';
import { parseEndpoint } from './transport.js';

/** Endpoints a login needs: without one of them the login would fail, at the latest after the user consented. */
const REQUIRED_ENDPOINTS = ['authorization_endpoint', 'token_endpoint', 'jwks_uri'] as const;
/** Endpoints used when present; they follow the same transport rule. */
const OPTIONAL_ENDPOINTS = ['userinfo_endpoint'] as const;

export interface DiscoveryDocument {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
  userinfo_endpoint?: string;
  token_endpoint_auth_methods_supported?: string[];
}

/**
 * Checks a discovery document: an issuer equal to the configured one (ISSUER_MISMATCH), every required endpoint
 * present, and every endpoint https or loopback http (UPSTREAM_ERROR naming the field). `where` is the document's URL.
 */
export function checkDiscoveryDocument(
  provider: string,
  doc: unknown,
  expectedIssuer: string,
  where: string,
): DiscoveryDocument {
  if (!isRecord(doc)) throw malformed(provider, where, 'it is not a JSON object');
  if (typeof doc.issuer !== 'string' || !doc.issuer) throw malformed(provider, where, 'it has no issuer');
  // Compared as URLs, as openid-client does: https://accounts.google.com and https://accounts.google.com/ are one issuer.
  if (!URL.canParse(doc.issuer) || new URL(doc.issuer).href !== new URL(expectedIssuer).href) {
    throw new IdpError(
      'ISSUER_MISMATCH',
      `the discovery document of ${provider} names the issuer ${doc.issuer}, not ${expectedIssuer}`,
      "set the connection's issuer to exactly the one its discovery document names",
    );
  }
  for (const field of REQUIRED_ENDPOINTS) {
    if (typeof doc[field] !== 'string' || !doc[field]) throw malformed(provider, where, `${field} is missing`);
  }
  for (const field of [...REQUIRED_ENDPOINTS, ...OPTIONAL_ENDPOINTS]) {
    const value = doc[field];
    if (value !== undefined) parseEndpoint(String(value), `${provider} ${field}`, 'UPSTREAM_ERROR');
  }
  return doc as unknown as DiscoveryDocument;
}

/** Where OIDC Discovery puts an issuer's document: the well-known path appended to the issuer's own path. */
export function discoveryUrl(issuer: URL): URL {
  const url = new URL(issuer.href);
  url.pathname = `${url.pathname}/.well-known/openid-configuration`.replace('//', '/');
  return url;
}

function malformed(provider: string, where: string, what: string): IdpError {
  return new IdpError(
    'UPSTREAM_ERROR',
    `the discovery document of ${provider} at ${where} is unusable: ${what}`,
    'idp needs issuer, authorization_endpoint, token_endpoint and jwks_uri; fix the provider, or check that the issuer is the right one',
  );
}

/**
 * The method idp authenticates with at the token endpoint. A configured one wins. Otherwise from the provider's list:
 * client_secret_basic if listed, else client_secret_post, else none (a public client with PKCE); a provider that lists
 * nothing implies client_secret_basic (RFC 8414). Without a secret, only none is possible.
 */
export function chooseTokenAuth(
  configured: TokenAuthMethod | null,
  supported: unknown,
  hasSecret: boolean,
): TokenAuthMethod {
  if (configured) return configured;
  if (!hasSecret) return 'none';
  const listed = Array.isArray(supported) ? supported : ['client_secret_basic'];
  if (listed.includes('client_secret_basic')) return 'client_secret_basic';
  if (listed.includes('client_secret_post')) return 'client_secret_post';
  return 'none';
}

/** A configured method that sends a secret needs one. */
export function requireSecretFor(method: TokenAuthMethod | null, secret: string | null, provider: string): void {
  if (method && method !== 'none' && !secret) {
    throw new IdpError(
      'SECRET_MISSING',
      `the connection to ${provider} authenticates with ${method} but has no client secret`,
      'give the connection its client secret, or set its token authentication to none (a public client)',
    );
  }
}
