// Org signing keys (ES256) and pass-through subjects, on node:crypto only so seeding never loads jose.
// The kid is the RFC 7638 thumbprint, so the same public key always gets the same kid.

import { createHash, createHmac, generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import { ecPublicMembers } from '../core/jwks.js';
import type { SigningKey as StoredKey } from '../ports.js';

export function generateSigningKey(): StoredKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const publicJwk = ecPublicMembers(publicKey.export({ format: 'jwk' }));
  return {
    kid: jwkThumbprint(publicJwk),
    alg: 'ES256',
    privateJwk: privateKey.export({ format: 'jwk' }),
    publicJwk,
    createdAt: new Date().toISOString(),
  };
}

/** RFC 7638: sha256 over the required members in lexicographic order, base64url. */
export function jwkThumbprint(jwk: JsonWebKey): string {
  const { crv, kty, x, y } = ecPublicMembers(jwk);
  const canonical = JSON.stringify({ crv, kty, x, y });
  return createHash('sha256').update(canonical).digest('base64url');
}

/**
 * The `sub` an app sees for a pass-through user: stable per (connection, upstream subject), opaque, and
 * different per org, so it neither leaks the upstream id nor collides with local user ids.
 */
export function passThroughSubject(connection: string, upstreamSubject: string, orgSalt: string): string {
  const mac = createHmac('sha256', orgSalt)
    .update(JSON.stringify([connection, upstreamSubject]))
    .digest('base64url');
  return `pt_${mac}`;
}
