// The TokenSigner port: ID tokens signed with node:crypto (jwt.ts) and org-salted pass-through subjects (keys.ts).
import type { TokenSigner } from '../ports.js';
import { decodeJwt, signIdToken } from './jwt.js';
import { passThroughSubject } from './keys.js';

export const tokenSigner: TokenSigner = {
  async signIdToken(key, claims, now) {
    const idToken = await signIdToken(key, claims, { now });
    return { idToken, claims: decodeJwt(idToken).claims };
  },
  passThroughSubject,
};
