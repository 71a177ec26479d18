// Rows the store tests write through the Store port, on either engine: the sandbox GitHub connection that their
// links, exports and imports hang on.
import type { NewConnection, Store } from '../../src/ports.js';

/** JIT on, silent, every sign-in overriding the profile, no linking: what a sandbox connection starts with. */
export const SILENT_JIT = { enabled: true, scheme: 'silent', sync: 'override-all', linking: 'off' } as const;

/** Inserts the sandbox connection `github` (client id gh, no secret, no scopes, SILENT_JIT), with `changes` over it. */
export async function addGithub(store: Store, changes: Partial<NewConnection> = {}): Promise<void> {
  await store.connections.insert({
    name: 'github',
    type: 'github',
    sandbox: true,
    issuer: null,
    clientId: 'gh',
    secret: { kind: 'none' },
    scopes: [],
    jit: SILENT_JIT,
    attributeMap: {},
    ...changes,
  });
}
