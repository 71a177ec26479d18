// The SQLite org's sealing key: a key file (0600) next to idp.db, created on first use. The sealed-value format itself
// (AES-256-GCM, versioned) is store-rows/seal.ts, shared with the PostgreSQL store.
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { IdpError } from '../core/errors.js';
import { KEY_BYTES, randomBytes } from '../store-rows/seal.js';

/** The org's sealing key, next to idp.db in the data directory. */
export const SEAL_KEY_FILE = 'secret.key';

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

function keyFileError(path: string, reason: string): IdpError {
  const hint = 'restore it from backup, or remove it and re-enter the stored secrets';
  return new IdpError('INTERNAL', `the sealing key file ${path} is unusable: ${reason}`, hint);
}
