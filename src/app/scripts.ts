// The rules a conditional-authentication script must meet before it is stored, whichever way it arrives (app script
// set, a policy file): a size limit, and that it loads (compiles, and its top level ends) under the engine's limits.
import { IdpError } from '../core/errors.js';
import type { ScriptRunner } from '../ports.js';

/** A sign-in decision fits in a few kilobytes; Asgardeo's own templates are under 2 KiB. */
export const MAX_SCRIPT_BYTES = 64 * 1024;

/** Refuses a script that is too big or does not load; `where` names it in the message (a file, a path in a file). */
export async function checkScript(scripts: ScriptRunner, source: string, where: string): Promise<void> {
  const bytes = Buffer.byteLength(source, 'utf8');
  if (bytes > MAX_SCRIPT_BYTES) {
    throw new IdpError(
      'FILE_INVALID',
      `${where}: the script is ${Math.ceil(bytes / 1024)} KiB; the limit is ${MAX_SCRIPT_BYTES / 1024} KiB`,
      'keep the script to the sign-in decision; the app was not changed',
    );
  }
  const compiled = await scripts.compile(source);
  if (!compiled.ok)
    throw new IdpError(
      'FILE_INVALID',
      `${where}${compiled.line ? `:${compiled.line}` : ''}: ${compiled.message}`,
      'fix the script; the app was not changed',
    );
}
