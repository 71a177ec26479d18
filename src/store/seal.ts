// Encryption at rest for TOTP secrets, connection client secrets and private signing keys: AES-256-GCM with a per-org key file (0600).
// Sealed values are versioned ("v1.iv.tag.ciphertext", base64url) so the format can change without a migration guess.

import { createRequire } from 'node:module';
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { IdpError } from '../core/errors.js';

// node:crypto loads on first use: most commands read no secret, and loading it is a visible share of their startup.
// Kept once loaded: a require function made per call costs more than the decryption it serves.
let loaded: typeof import('node:crypto') | undefined;
const nodeCrypto = (): typeof import('node:crypto') =>
  (loaded ??= createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto'));
const randomBytes = (size: number): Buffer => nodeCrypto().randomBytes(size);

/** The org's sealing key, next to idp.db in the data directory. */
export const SEAL_KEY_FILE = 'secret.key';

const VERSION = 'v1';
const KEY_BYTES = 32;
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

/**
 * Reads the org's sealing key, creating it on first use. The new key is written to a private temp file and
 * hard-linked into place, so a concurrent reader sees either no file or the whole key, and two creators agree on one key.
 */
export function loadOrCreateKey(path: string): Buffer {
  const existing = readKey(path);
  if (existing) return existing;
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(temp, randomBytes(KEY_BYTES), { flag: 'wx', mode: 0o600 });
  try {
    linkSync(temp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    unlinkSync(temp);
  }
  const key = readKey(path);
  if (!key) throw keyFileError(path, 'it vanished while being created');
  return key;
}

/** Reads the org's sealing key for opening sealed values: a new key could open none of them, so a missing one fails. */
export function loadKey(path: string): Buffer {
  const key = readKey(path);
  if (!key) {
    throw new IdpError(
      'SECRET_MISSING',
      `the sealing key file ${path} is missing, so the secrets sealed with it cannot be read`,
      'restore it from the backup made with the database',
    );
  }
  return key;
}

function readKey(path: string): Buffer | null {
  let key: Buffer;
  try {
    key = readFileSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  if (key.length !== KEY_BYTES) throw keyFileError(path, `it holds ${key.length} bytes, not ${KEY_BYTES}`);
  return key;
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

function keyFileError(path: string, reason: string): IdpError {
  const hint = 'restore it from backup, or remove it and re-enter the stored secrets';
  return new IdpError('INTERNAL', `the sealing key file ${path} is unusable: ${reason}`, hint);
}
