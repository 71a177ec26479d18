// What an organisation-admin use case runs with: the org's store, who is acting (recorded in every audit event), and
// the ports a rule needs beyond the store. The composition root (src/cli/context.ts) builds it.
import type { PasskeyVerifier, ScriptRunner, Store, TotpEnroller } from '../ports.js';

export interface Admin {
  store: Store;
  /** Named in the audit trail: the OS user for the CLI, the user themselves in My Account. */
  actor: string;
  scripts: ScriptRunner;
  totp: TotpEnroller;
  passkeys: PasskeyVerifier;
}
