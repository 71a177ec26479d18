// The org's rows on either engine: the org_settings keys and their defaults, and a signing_keys row with the public
// and the whole SigningKey it reads as (the private half sealed at rest with the store's key).
import type { PublicSigningKey } from '../core/jwks.js';
import type { IdTokenAlg } from '../core/types.js';
import type { SigningKey } from '../ports.js';

/** org_settings keys. */
export const SMTP_RELAY = 'smtp_relay';
export const ORG_NAME = 'org_name';
export const BASE_URL = 'base_url';
/** Where `idp serve` listens unless told otherwise. */
export const DEFAULT_BASE_URL = 'http://localhost:8788';

export interface KeyRow {
  kid: string;
  alg: IdTokenAlg;
  private_sealed: string;
  public_jwk: string;
  created_at: string;
}

/** A new signing key's cells, in the order kid, alg, private_sealed, public_jwk, created_at. */
export function signingKeyParams(key: SigningKey, seal: (plaintext: string) => string): unknown[] {
  return [key.kid, key.alg, seal(JSON.stringify(key.privateJwk)), JSON.stringify(key.publicJwk), key.createdAt];
}

export function publicHalf(r: Omit<KeyRow, 'private_sealed'>): PublicSigningKey {
  return {
    kid: r.kid,
    alg: r.alg,
    publicJwk: JSON.parse(r.public_jwk) as PublicSigningKey['publicJwk'],
    createdAt: r.created_at,
  };
}

/** The whole key, its private half opened with `unseal`. */
export function toSigningKey(r: KeyRow, unseal: (sealed: string) => string): SigningKey {
  return {
    ...publicHalf(r),
    privateJwk: JSON.parse(unseal(r.private_sealed)) as SigningKey['privateJwk'],
  };
}
