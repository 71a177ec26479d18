// Reading the files an admin hands a use case (policy files, scripts, claims), refused with exit 2 when unreadable.
import { readFileSync } from 'node:fs';
import { IdpError } from '../core/errors.js';

export function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new IdpError('FILE_INVALID', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'check the path');
  }
}
