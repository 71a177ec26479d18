// The tokens module's public surface: org keys (node:crypto) and ID tokens (jose, loaded lazily).
// Importing this file does not load jose; the first signature or verification does.

export { generateSigningKey, jwks, jwkThumbprint, passThroughSubject, type StoredKey, type PublicJwk } from './keys.js';
export { signIdToken, verifyIdToken, decodeJwt, DEFAULT_ID_TOKEN_TTL_SECONDS, type IdTokenClaims } from './jwt.js';
