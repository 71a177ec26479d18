// The sealing key of an org held by a PostgreSQL server: never stored beside the data it seals, it comes from the
// environment (IDP_SEAL_KEY) or a private file (IDP_SEAL_KEY_FILE), the same on every instance serving the org.
import { readFileSync, statSync } from 'node:fs';
import { IdpError } from '../core/errors.js';
import { KEY_BYTES } from '../store-rows/seal.js';

const HOW =
  'set IDP_SEAL_KEY to 32 random bytes in base64url (or base64, e.g. from `openssl rand -base64 32`), or IDP_SEAL_KEY_FILE to a file holding it (mode 0600); every instance of the org needs the same key, kept apart from the database';

/** Reads the key from `env`; undefined when neither variable is set. Refuses a malformed key or an open key file. */
export function sealKeyFromEnv(env: NodeJS.ProcessEnv = process.env): Buffer | undefined {
  const value = env.IDP_SEAL_KEY;
  const file = env.IDP_SEAL_KEY_FILE;
  if (value && file)
    throw new IdpError('SEAL_KEY_INVALID', 'both IDP_SEAL_KEY and IDP_SEAL_KEY_FILE are set', 'set only one of them');
  if (value) return decodeKey(value, 'IDP_SEAL_KEY');
  if (!file) return undefined;
  let mode: number;
  let text: string;
  try {
    mode = statSync(file).mode;
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new IdpError('SEAL_KEY_INVALID', `cannot read the sealing key file ${file}: ${(err as Error).message}`, HOW, {
      cause: err,
    });
  }
  if (process.platform !== 'win32' && (mode & 0o077) !== 0)
    throw new IdpError(
      'SEAL_KEY_INVALID',
      `the sealing key file ${file} is open to group or others (mode ${(mode & 0o777).toString(8)})`,
      'make it readable by its owner only (chmod 600), and replace the key if others may have read it',
    );
  return decodeKey(text.trim(), `the file ${file}`);
}

/** base64url or base64 (padded or not) of exactly 32 bytes; anything else is refused rather than half-read. */
function decodeKey(text: string, source: string): Buffer {
  const normalised = text.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  const key = Buffer.from(normalised, 'base64url');
  if (key.length !== KEY_BYTES || key.toString('base64url') !== normalised)
    throw new IdpError(
      'SEAL_KEY_INVALID',
      `${source} does not hold a sealing key: it must be ${KEY_BYTES} bytes in base64url or base64`,
      HOW,
    );
  return key;
}

export function sealKeyMissing(): IdpError {
  return new IdpError(
    'SEAL_KEY_MISSING',
    'no sealing key is set, so the secrets this org stores sealed (client secrets, TOTP secrets, signing keys) cannot be read or written',
    HOW,
  );
}
