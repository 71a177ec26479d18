// Reading the files an admin hands a use case (policy, scenario, claims, import files, scripts) as text within its
// kind's limits (core/file-text.ts): a file over the limit is refused before it is read; an unreadable one with exit 2.
import { readFileSync, statSync } from 'node:fs';
import { IdpError } from '../core/errors.js';
import { checkFileSize, decodeText, type FileKind } from '../core/file-text.js';

export function readText(file: string, kind: FileKind = 'policy'): string {
  try {
    checkFileSize(file, statSync(file).size, kind);
    return decodeText(readFileSync(file), file, kind);
  } catch (err) {
    if (err instanceof IdpError) throw err;
    throw new IdpError(
      'FILE_INVALID',
      `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      'check the path',
    );
  }
}
