// The authorization-code flow both connectors share, on openid-client: the request (PKCE S256, state, nonce),
// the callback checks (state first, in constant time), the code redemption, and openid-client errors as IdpErrors.

import * as client from 'openid-client';
import { IdpError, isIdpError } from '../core/errors.js';
import { sameSecret } from '../core/same-secret.js';
import type { TokenAuthMethod } from '../core/types.js';
import type { AuthRequest, UpstreamTokens } from '../ports.js';
import { upstreamText } from '../core/upstream-text.js';

/** One configured upstream as the shared flow sees it. */
export interface Upstream {
  /** How messages name the provider: "GitHub", "Google", or the issuer's host. */
  provider: string;
  config: client.Configuration;
  scopes: string[];
  /** OIDC upstreams: an ID token is required and checked (signature, iss, aud, exp, nonce). */
  expectsIdToken: boolean;
  /** Redacted from whatever the provider answers, like every other value idp sends it. */
  clientSecret: string | null;
}

/** openid-client's client authentication for a method; none sends only the client_id (PKCE protects the code). */
export function clientAuth(method: TokenAuthMethod, secret: string | null): client.ClientAuth {
  if (method === 'none' || !secret) return client.None();
  return method === 'client_secret_basic' ? client.ClientSecretBasic(secret) : client.ClientSecretPost(secret);
}

export async function newAuthorizationRequest(upstream: Upstream, redirectUri: string): Promise<AuthRequest> {
  const codeVerifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(upstream.config, {
    redirect_uri: redirectUri,
    scope: upstream.scopes.join(' '),
    state,
    nonce,
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
  });
  return { url: url.href, state, nonce, codeVerifier, redirectUri };
}

/** What idp sends an upstream in one login: redacted from any text the upstream answers with. */
function sentIn(upstream: Upstream, callbackUrl: URL, request: AuthRequest): Sent {
  return [
    upstream.clientSecret,
    request.codeVerifier,
    request.state,
    request.nonce,
    ...callbackUrl.searchParams.getAll('code'),
  ];
}

export async function redeemCode(upstream: Upstream, callbackUrl: URL, request: AuthRequest): Promise<UpstreamTokens> {
  const sent = sentIn(upstream, callbackUrl, request);
  const responseUrl = checkCallback(upstream, callbackUrl, request);
  try {
    const tokens = await client.authorizationCodeGrant(upstream.config, responseUrl, {
      pkceCodeVerifier: request.codeVerifier,
      expectedState: request.state,
      ...(upstream.expectsIdToken ? { expectedNonce: request.nonce } : {}),
    });
    const claims = upstream.expectsIdToken ? tokens.claims() : undefined;
    return {
      accessToken: tokens.access_token,
      idToken: tokens.id_token ?? null,
      scope: tokens.scope ?? null,
      idTokenClaims: claims ? { ...claims } : null,
    };
  } catch (err) {
    throw toIdpError(err, upstream.provider, 'token endpoint', sent);
  }
}

/**
 * Checks the callback before anything reaches the token endpoint: exactly one state, equal to the request's;
 * then an upstream error; then a code. Returns the authorization response re-rooted on the registered redirect URI,
 * because openid-client derives `redirect_uri` from the URL it is given and the callback's host is the browser's word.
 */
export function checkCallback(upstream: Upstream, callbackUrl: URL, request: AuthRequest): URL {
  const { provider } = upstream;
  const params = callbackUrl.searchParams;
  const states = params.getAll('state');
  if (states.length !== 1 || !sameSecret(states[0]!, request.state)) {
    throw new IdpError(
      'STATE_MISMATCH',
      `the callback from ${provider} does not carry this login's state`,
      'start the login again; a callback that does not belong to the login in progress is refused',
    );
  }
  const error = params.get('error');
  if (error === 'access_denied') {
    throw new IdpError(
      'UPSTREAM_DENIED',
      `consent denied at ${provider}`,
      `approve the request at ${provider}, or choose another sign-in option`,
    );
  }
  if (error) {
    throw new IdpError(
      'UPSTREAM_ERROR',
      `${provider} refused the login: ${describeOAuthError(error, params.get('error_description'), sentIn(upstream, callbackUrl, request))}`,
      hintFor(error),
    );
  }
  if (!params.get('code')) {
    throw new IdpError(
      'UPSTREAM_ERROR',
      `the callback from ${provider} carries neither a code nor an error`,
      'start the login again',
    );
  }
  const responseUrl = new URL(request.redirectUri);
  responseUrl.search = callbackUrl.search;
  return responseUrl;
}

/** What idp sent in the request an upstream text answers: redacted from that text. */
type Sent = readonly (string | null | undefined)[];

function describeOAuthError(error: string, description: string | null | undefined, sent: Sent): string {
  return upstreamText(description ? `${error} (${description})` : error, sent);
}

function hintFor(error: string): string {
  switch (error) {
    case 'invalid_client':
    case 'unauthorized_client':
    case 'incorrect_client_credentials':
      return "check the connection's client ID and client secret against the provider's app registration";
    case 'invalid_grant':
    case 'bad_verification_code':
      return 'the code expired, was already used, or did not match its PKCE verifier; start the login again';
    case 'invalid_token':
      return 'the provider refused the access token; start the login again';
    case 'redirect_uri_mismatch':
      return "register this callback URL exactly in the provider's app settings";
    case 'application_suspended':
      return "the provider has suspended the OAuth app of this connection; its owner must have it reinstated (or give the connection another app's client ID)";
    default:
      return "the provider's description says why; start the login again once that is fixed";
  }
}

/**
 * Turns whatever openid-client (or our fetch) threw into an IdpError. `what` names the endpoint involved; `sent` is
 * what idp sent it. Response bodies never reach the message; the error fields and values an upstream chose do,
 * through upstreamText.
 */
export function toIdpError(err: unknown, provider: string, what: string, sent: Sent = []): Error {
  const wrapped = findIdpError(err);
  if (wrapped) return wrapped;
  if (err instanceof client.ResponseBodyError) {
    return new IdpError(
      'UPSTREAM_ERROR',
      `${provider} ${what} refused the request: ${describeOAuthError(err.error, err.error_description, sent)}`,
      hintFor(err.error),
    );
  }
  if (err instanceof client.WWWAuthenticateChallengeError) {
    const error = err.cause[0]?.parameters.error ?? `HTTP ${err.status}`;
    return new IdpError(
      'UPSTREAM_ERROR',
      `${provider} ${what} refused the request: ${describeOAuthError(error, err.cause[0]?.parameters.error_description, sent)}`,
      hintFor(error),
    );
  }
  if (err instanceof client.ClientError) return fromClientError(err, provider, what, sent);
  return err instanceof Error ? err : new Error(String(err));
}

function findIdpError(err: unknown): IdpError | undefined {
  for (let current = err; current instanceof Error; current = current.cause) {
    if (isIdpError(current)) return current;
  }
  return undefined;
}

function fromClientError(err: client.ClientError, provider: string, what: string, sent: Sent): IdpError {
  const inner = err.cause instanceof Error ? err.cause : undefined;
  const detail = upstreamText(inner?.message ?? err.message, sent);
  const data = (inner ? inner.cause : err.cause) as
    | { attribute?: unknown; claim?: unknown; expected?: unknown; body?: { issuer?: unknown } }
    | undefined;
  const trace = { cause: new Error(`${err.code ?? 'openid-client'}: ${detail}`) };
  switch (err.code) {
    case 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED':
      if (data?.attribute === 'issuer') {
        return new IdpError(
          'ISSUER_MISMATCH',
          `${provider} says its issuer is ${upstreamText(String(data.body?.issuer), sent)}, not the configured ${String(data.expected)}`,
          "set the connection's issuer to exactly the provider's issuer URL",
          trace,
        );
      }
      return new IdpError(
        'ID_TOKEN_INVALID',
        `${provider} ${what} answered for another subject than the ID token's`,
        'start the login again',
        trace,
      );
    case 'OAUTH_JWT_CLAIM_COMPARISON_FAILED':
      if (data?.claim === 'nonce') {
        return new IdpError(
          'NONCE_MISMATCH',
          `the ID token from ${provider} does not carry this login's nonce`,
          'start the login again',
          trace,
        );
      }
      return idTokenInvalid(provider, detail, trace);
    case 'OAUTH_JWT_TIMESTAMP_CHECK_FAILED':
    case 'OAUTH_KEY_SELECTION_FAILED':
      return idTokenInvalid(provider, detail, trace);
    case 'OAUTH_RESPONSE_IS_NOT_CONFORM': {
      const status = err.cause instanceof Response ? ` HTTP ${err.cause.status}` : ' an unexpected status';
      return new IdpError(
        'UPSTREAM_ERROR',
        `${provider} ${what} answered${status}`,
        'check the URL of the connection and that the provider is healthy',
        trace,
      );
    }
  }
  if (/"iss" \(issuer\)/.test(detail)) {
    return new IdpError(
      'ISSUER_MISMATCH',
      `the callback from ${provider} names another issuer: ${detail}`,
      "check the connection's issuer",
      trace,
    );
  }
  if (/JWT|ID Token|id_token|JWS/.test(detail)) return idTokenInvalid(provider, detail, trace);
  return new IdpError(
    'UPSTREAM_ERROR',
    `${provider} ${what} gave an unusable response: ${detail}`,
    'check that the provider is healthy and the connection points at it',
    trace,
  );
}

function idTokenInvalid(provider: string, detail: string, trace: { cause: Error }): IdpError {
  return new IdpError(
    'ID_TOKEN_INVALID',
    `the ID token from ${provider} failed verification: ${detail}`,
    "start the login again; if it persists, check the connection's issuer and client ID",
    trace,
  );
}
