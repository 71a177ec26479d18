// ID tokens the org issues to apps: signing (node:crypto), verification (jose, loaded lazily) and decoding.
// Keys are imported once per kid because a brokered login has a ~15 ms budget and importing costs a few ms.

import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { IdpError } from '../core/errors.js';
import { publicMembers } from '../core/jwks.js';
import { hint } from '../core/fixes.js';
import type { IdTokenClaims, SigningKey as StoredKey } from '../ports.js';
import type { CryptoKey } from 'jose';

type Jose = typeof import('jose');

export const DEFAULT_ID_TOKEN_TTL_SECONDS = 3600;

let josePromise: Promise<Jose> | null = null;
const keyCache = new Map<string, Promise<CryptoKey>>();

function jose(): Promise<Jose> {
  josePromise ??= import('jose');
  return josePromise;
}

/** The kid is a thumbprint of the public key, so it pins one key; no invalidation is needed. */
function verifyingKey(key: StoredKey): Promise<CryptoKey> {
  let cached = keyCache.get(key.kid);
  if (!cached) {
    cached = jose().then((j) => j.importJWK(publicMembers(key.publicJwk), key.alg));
    cached.catch(() => keyCache.delete(key.kid));
    keyCache.set(key.kid, cached);
  }
  return cached;
}

/**
 * Signs with node:crypto (RS256: RSASSA-PKCS1-v1_5 with SHA-256, node's default for RSA keys; ES256: raw r||s as JWS
 * wants): loading jose costs a whole login's budget, and signing is a few lines. Verification stays on jose, so tests
 * check this signer against an independent implementation.
 */
export async function signIdToken(
  key: StoredKey,
  claims: IdTokenClaims,
  opts: { ttlSeconds?: number; now?: Date } = {},
): Promise<string> {
  const iat = Math.floor((opts.now ?? new Date()).getTime() / 1000);
  const header = { alg: key.alg, kid: key.kid, typ: 'JWT' };
  const payload = { ...claims, iat, exp: iat + (opts.ttlSeconds ?? DEFAULT_ID_TOKEN_TTL_SECONDS) };
  const input = `${segment(header)}.${segment(payload)}`;
  const signature = sign(
    'sha256',
    Buffer.from(input),
    key.alg === 'ES256' ? { key: signingKey(key), dsaEncoding: 'ieee-p1363' } : signingKey(key),
  );
  return `${input}.${signature.toString('base64url')}`;
}

const signingKeys = new Map<string, KeyObject>();

function signingKey(key: StoredKey): KeyObject {
  let cached = signingKeys.get(key.kid);
  if (!cached) {
    cached = createPrivateKey({ key: key.privateJwk, format: 'jwk' });
    signingKeys.set(key.kid, cached);
  }
  return cached;
}

function segment(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
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
  const [{ jwtVerify }, publicKey] = await Promise.all([jose(), verifyingKey(key)]);
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
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalid(`the ${what} is not a JSON object`);
  return value as Record<string, unknown>;
}

function invalid(reason: string, cause?: unknown): IdpError {
  return new IdpError(
    'ID_TOKEN_INVALID',
    `ID token rejected: ${reason}`,
    hint`check the issuer, the app client_id and the org keys (${{ kind: 'show', what: 'keys' }})`,
    { cause },
  );
}
