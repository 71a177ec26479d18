// ID tokens the org issues to apps: signing, verification and decoding. jose is loaded lazily on the first signature.
// Imported CryptoKeys are cached per kid because a brokered login has a ~15 ms budget and importing costs a few ms.

import { IdpError } from '../core/errors.js';
import type { StoredKey } from './keys.js';
import type { CryptoKey } from 'jose';

type Jose = typeof import('jose');

export interface IdTokenClaims {
  iss: string;
  aud: string;
  sub: string;
  amr: string[];
  acr: string;
  auth_time: number;
  nonce?: string;
  [claim: string]: unknown;
}

export const DEFAULT_ID_TOKEN_TTL_SECONDS = 3600;

let josePromise: Promise<Jose> | null = null;
const keyCache = new Map<string, Promise<CryptoKey>>();

function jose(): Promise<Jose> {
  josePromise ??= import('jose');
  return josePromise;
}

/** The kid is a thumbprint of the public key, so (kid, use) pins one key; no invalidation is needed. */
function cryptoKey(key: StoredKey, use: 'sign' | 'verify'): Promise<CryptoKey> {
  const cacheKey = `${use}:${key.kid}`;
  let cached = keyCache.get(cacheKey);
  if (!cached) {
    const jwk = use === 'sign' ? key.privateJwk : key.publicJwk;
    cached = jose().then((j) => j.importJWK({ ...jwk, kty: 'EC' }, key.alg));
    cached.catch(() => keyCache.delete(cacheKey));
    keyCache.set(cacheKey, cached);
  }
  return cached;
}

export async function signIdToken(
  key: StoredKey,
  claims: IdTokenClaims,
  opts: { ttlSeconds?: number; now?: Date } = {},
): Promise<string> {
  const [{ SignJWT }, privateKey] = await Promise.all([jose(), cryptoKey(key, 'sign')]);
  const iat = Math.floor((opts.now ?? new Date()).getTime() / 1000);
  return new SignJWT({ ...claims, iat, exp: iat + (opts.ttlSeconds ?? DEFAULT_ID_TOKEN_TTL_SECONDS) })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
    .sign(privateKey);
}

/** Checks signature (by kid among the org keys), alg, iss, aud, exp; returns the claims. */
export async function verifyIdToken(
  token: string,
  keys: StoredKey[],
  expect: { iss: string; aud: string },
): Promise<Record<string, unknown>> {
  const { header } = decodeJwt(token);
  const key = keys.find((k) => k.kid === header['kid']);
  if (!key) throw invalid(`no org key has kid ${JSON.stringify(header['kid'] ?? null)}`);
  const [{ jwtVerify }, publicKey] = await Promise.all([jose(), cryptoKey(key, 'verify')]);
  try {
    const { payload } = await jwtVerify(token, publicKey, {
      issuer: expect.iss,
      audience: expect.aud,
      algorithms: [key.alg],
      requiredClaims: ['sub', 'iat', 'exp'],
    });
    return payload;
  } catch (err) {
    throw invalid(err instanceof Error ? err.message : String(err), err);
  }
}

/** Decodes without verifying: for display only (the CLI prints the claims it has just issued). */
export function decodeJwt(token: string): { header: Record<string, unknown>; claims: Record<string, unknown> } {
  const parts = token.split('.');
  if (parts.length !== 3) throw invalid('not a compact JWS (expected three dot-separated parts)');
  return { header: decodeSegment(parts[0]!, 'header'), claims: decodeSegment(parts[1]!, 'claims') };
}

function decodeSegment(segment: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch (err) {
    throw invalid(`the ${what} is not base64url JSON`, err);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(`the ${what} is not a JSON object`);
  return value as Record<string, unknown>;
}

function invalid(reason: string, cause?: unknown): IdpError {
  return new IdpError(
    'ID_TOKEN_INVALID',
    `ID token rejected: ${reason}`,
    'check the issuer, the app client_id and the org keys (idp keys jwks)',
    { cause },
  );
}
