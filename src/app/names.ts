// The names an admin gives apps and connections: refusals of names off the one pattern (core/names.ts), and the connection names a step
// option already means (a connection called `totp` could never be told apart from the TOTP step).
import { IdpError } from '../core/errors.js';
import { NAME_RULE, validName } from '../core/names.js';
import { LOCAL_OPTIONS } from '../core/types.js';

const RESERVED = [...LOCAL_OPTIONS, 'LOCAL'] as readonly string[];

export function checkName(kind: 'app' | 'connection', name: string): void {
  const example = kind === 'app' ? 'shop' : 'corp';
  if (!validName(name))
    throw new IdpError('INVALID_VALUE', `'${name}' is not a valid ${kind} name`, `use ${NAME_RULE}, e.g. ${example}`);
}

export function checkConnectionName(name: string): void {
  checkName('connection', name);
  if (RESERVED.includes(name))
    throw new IdpError(
      'INVALID_VALUE',
      `'${name}' is reserved for a local sign-in option`,
      'choose another name, e.g. corp',
    );
}
