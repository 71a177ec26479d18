// The sealed-value format of an org whichever engine holds it: AES-256-GCM, versioned ("v1.iv.tag.ciphertext",
// base64url) so the format can change without a migration guess. Pure: a key and a string in, a string out.
import { createRequire } from 'node:module';
import { IdpError } from '../core/errors.js';

// node:crypto loads on first use: most commands read no secret, and loading it is a visible share of their startup.
// Kept once loaded: a require function made per call costs more than the decryption it serves.
let loaded: typeof import('node:crypto') | undefined;
const nodeCrypto = (): typeof import('node:crypto') =>
  (loaded ??= createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto'));

/** `size` random bytes, from node:crypto loaded on first use. */
export const randomBytes = (size: number): Buffer => nodeCrypto().randomBytes(size);

/** A sealing key's size: AES-256. */
export const KEY_BYTES = 32;

const VERSION = 'v1';
const IV_BYTES = 12;

export function seal(key: Buffer, plaintext: string): string {
  checkKey(key);
  const iv = randomBytes(IV_BYTES);
  const cipher = nodeCrypto().createCipheriv('aes-256-gcm', key, iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [VERSION, ...[iv, cipher.getAuthTag(), ciphertext].map((b) => b.toString('base64url'))].join('.');
}

export function unseal(key: Buffer, sealed: string): string {
  checkKey(key);
  const [version, iv, tag, ciphertext, ...rest] = sealed.split('.');
  if (version !== VERSION || iv === undefined || tag === undefined || ciphertext === undefined || rest.length > 0) {
    throw unsealError('it is not a v1 sealed value');
  }
  try {
    const decipher = nodeCrypto().createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
  } catch (err) {
    throw unsealError('it was altered or sealed with another key', err);
  }
}

/** What a repository seals and opens secrets with: the store's own key, however that store loads it. */
export interface Secrets {
  seal(plaintext: string): string;
  unseal(sealed: string): string;
}

function checkKey(key: Buffer): void {
  if (key.length !== KEY_BYTES)
    throw new IdpError('INTERNAL', `a sealing key must be ${KEY_BYTES} bytes, got ${key.length}`);
}

function unsealError(reason: string, cause?: unknown): IdpError {
  return new IdpError(
    'INTERNAL',
    `cannot decrypt a stored secret: ${reason}`,
    'the key file next to the database must be the one it was written with; re-enter the secret if the key was lost',
    { cause },
  );
}
