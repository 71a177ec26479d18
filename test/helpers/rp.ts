// The openid-client relying party of the `idp serve` tests: discovery over plain HTTP on 127.0.0.1, and the two ends
// of a code + PKCE sign-in (the authorization request it sends, the token request for the code that comes back).
import * as client from 'openid-client';

/** The RP's configuration from the issuer's discovery; without a secret, a public client (no client authentication). */
export function discover(issuer: string, clientId: string, secret?: string): Promise<client.Configuration> {
  return client.discovery(new URL(issuer), clientId, secret, secret ? undefined : client.None(), {
    execute: [client.allowInsecureRequests],
  });
}

export interface AuthorizationRequest {
  url: URL;
  verifier: string;
  state: string;
  nonce: string;
}

/** A code request with PKCE (S256), and a fresh verifier, state and nonce. */
export async function authorizationRequest(
  config: client.Configuration,
  redirectUri: string,
  scope = 'openid profile email',
): Promise<AuthorizationRequest> {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  return { url, verifier, state, nonce };
}

/** The token request for the code `callback` brought back, checking its state and the ID token's nonce. */
export function redeemCallback(config: client.Configuration, callback: URL, request: AuthorizationRequest) {
  return client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: request.verifier,
    expectedState: request.state,
    expectedNonce: request.nonce,
  });
}
