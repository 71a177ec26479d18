// The org's JWKS: the public halves of its signing keys (RS256 and ES256), as apps fetch them to verify the ID tokens
// idp issues. Built from the public JWKs alone, so publishing keys never needs the seal key, and only public members go out.
import type { JsonWebKey } from 'node:crypto';
import { IdpError } from './errors.js';
import { hint } from './fixes.js';
import type { IdTokenAlg } from './types.js';

/** A signing key as anyone may see it: no private half. */
export interface PublicSigningKey {
  kid: string;
  alg: IdTokenAlg;
  publicJwk: JsonWebKey;
  createdAt: string;
}

export type EcPublicMembers = { kty: 'EC'; crv: string; x: string; y: string };
export type RsaPublicMembers = { kty: 'RSA'; n: string; e: string };

/** A public JWK as published in the JWKS: the public members of its key type only, never "d", "p", "q"... */
export type PublicJwk = (EcPublicMembers | RsaPublicMembers) & { kid: string; alg: IdTokenAlg; use: 'sig' };

export function jwks(keys: readonly PublicSigningKey[]): { keys: PublicJwk[] } {
  return { keys: keys.map((k) => ({ ...publicMembers(k.publicJwk), kid: k.kid, alg: k.alg, use: 'sig' })) };
}

/** The members RFC 7638 hashes for a thumbprint, which are also all a verifier needs. */
export function publicMembers(jwk: JsonWebKey): EcPublicMembers | RsaPublicMembers {
  if (jwk.kty === 'RSA' && jwk.n && jwk.e) return { kty: 'RSA', n: jwk.n, e: jwk.e };
  if (jwk.kty === 'EC' && jwk.crv && jwk.x && jwk.y) return { kty: 'EC', crv: jwk.crv, x: jwk.x, y: jwk.y };
  throw new IdpError(
    'INTERNAL',
    'a stored signing key is neither an EC nor an RSA JWK',
    hint`the organisation holds a damaged key; ${{ kind: 'show', what: 'keys' }} lists its keys`,
  );
}
