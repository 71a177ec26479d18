// What a bulk user import reports and records on either engine: its counts, the users left to enrol again or to set a
// password, and the one config event the import writes.
import type { ConfigChange } from '../ports.js';

export interface ImportResult {
  imported: number;
  associations: number;
  factors: number;
  passkeys: number;
  /** Users whose MFA enrolment was exported without its secret: they enrol again at their next MFA sign-in. */
  mfaToEnrol: string[];
  /** Users who had a password where they were exported, exported without its hash: they have none here. */
  passwordToSet: string[];
}

/** The result of importing `imported` records, before any of their links, factors or passkeys is counted. */
export function newImportResult(imported: number): ImportResult {
  return { imported, associations: 0, factors: 0, passkeys: 0, mfaToEnrol: [], passwordToSet: [] };
}

/** The config event of an import from `file` by `actor`. */
export function importEvent(result: ImportResult, file: string, actor: string): ConfigChange {
  const { imported, associations, factors, passkeys } = result;
  return {
    actor,
    action: 'users.import',
    target: 'users',
    detail: `imported ${imported} user(s) from ${file} (${associations} linked connection(s), ${factors} MFA factor(s), ${passkeys} passkey(s))`,
    before: null,
    after: { count: imported, associations, factors, passkeys },
  };
}
