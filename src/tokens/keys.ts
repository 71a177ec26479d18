// Org signing keys (RS256: RSA 2048, and ES256: P-256) and pass-through subjects, on node:crypto only so seeding never
// loads jose. The kid is the RFC 7638 thumbprint, so the same public key always gets the same kid.

import {
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';
import { publicMembers } from '../core/jwks.js';
import type { IdTokenAlg } from '../core/types.js';
import type { SigningKey as StoredKey } from '../ports.js';

/**
 * The keys come encoded from the generator and are read back: KeyObjects straight from its job can deadlock Node 20's
 * JWK export when GC finalises the job meanwhile (both lock the key's one mutex).
 */
export function generateSigningKey(alg: IdTokenAlg): StoredKey {
  const privateKeyEncoding = { format: 'der', type: 'pkcs8' } as const;
  const publicKeyEncoding = { format: 'der', type: 'spki' } as const;
  const { privateKey, publicKey } =
    alg === 'RS256'
      ? generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding, publicKeyEncoding })
      : generateKeyPairSync('ec', { namedCurve: 'P-256', privateKeyEncoding, publicKeyEncoding });
  return storedKey(
    alg,
    createPrivateKey({ key: privateKey, ...privateKeyEncoding }),
    createPublicKey({ key: publicKey, ...publicKeyEncoding }),
  );
}

function storedKey(alg: IdTokenAlg, privateKey: KeyObject, publicKey: KeyObject): StoredKey {
  const publicJwk = publicMembers(publicKey.export({ format: 'jwk' }));
  return {
    kid: jwkThumbprint(publicJwk),
    alg,
    privateJwk: privateKey.export({ format: 'jwk' }),
    publicJwk,
    createdAt: new Date().toISOString(),
  };
}

/** RFC 7638: sha256 over the required members in lexicographic order, base64url. */
export function jwkThumbprint(jwk: JsonWebKey): string {
  const members = publicMembers(jwk);
  const canonical =
    members.kty === 'RSA'
      ? JSON.stringify({ e: members.e, kty: members.kty, n: members.n })
      : JSON.stringify({ crv: members.crv, kty: members.kty, x: members.x, y: members.y });
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
