// The org's JWKS: the public halves of its signing keys, as apps fetch them to verify the ID tokens idp issues.
// Built from the public JWKs alone, so publishing keys never needs the seal key, and only public members go out.
import type { JsonWebKey } from 'node:crypto';
import { IdpError } from './errors.js';
import { hint } from './fixes.js';

/** A signing key as anyone may see it: no private half. */
export interface PublicSigningKey {
  kid: string;
  alg: 'ES256';
  publicJwk: JsonWebKey;
  createdAt: string;
}

/** A public JWK as published in the JWKS: EC members only, never "d". */
export interface PublicJwk extends JsonWebKey {
  kty: 'EC';
  crv: string;
  x: string;
  y: string;
  kid: string;
  alg: 'ES256';
  use: 'sig';
}

export function jwks(keys: readonly PublicSigningKey[]): { keys: PublicJwk[] } {
  return { keys: keys.map((k) => ({ ...ecPublicMembers(k.publicJwk), kid: k.kid, alg: k.alg, use: 'sig' })) };
}

export function ecPublicMembers(jwk: JsonWebKey): { kty: 'EC'; crv: string; x: string; y: string } {
  const { kty, crv, x, y } = jwk;
  if (kty !== 'EC' || !crv || !x || !y) {
    throw new IdpError(
      'INTERNAL',
      'a stored signing key is not an EC JWK',
      hint`the organisation holds a damaged key; ${{ kind: 'show', what: 'keys' }} lists its keys`,
    );
  }
  return { kty, crv, x, y };
}
