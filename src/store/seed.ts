// Creates an organisation: its name, settings and signing keys, and unless asked for an empty one, the demo org from fixtures/demo-org.json.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hashPassword } from '../core/password.js';
import { defaultJit, defaultScopes } from '../core/connection-defaults.js';
import type { ConnectionType, SignInStep } from '../core/types.js';
import { newClientId, newSandboxSecret } from '../core/ids.js';
import { MY_ACCOUNT } from '../core/signin.js';
import { originsOf } from '../core/urls.js';
import type { SigningKey, Store } from '../ports.js';

interface DemoOrg {
  apps: { name: string; redirectUris: string[]; steps: SignInStep[]; attributes: string[] }[];
  connections: { name: string; type: ConnectionType; clientId: string }[];
  users: {
    username: string;
    email: string;
    emailVerified: boolean;
    name: string;
    givenName: string;
    familyName: string;
    password: string;
  }[];
}

const DEMO_FILE = new URL('../../../fixtures/demo-org.json', import.meta.url);

/**
 * False, changing nothing, when the organisation exists already: another idp process created it first. The signing keys
 * (RS256 and ES256) come from the caller (src/tokens makes them), so the store needs no token code; the name is valid.
 */
export async function seedOrg(
  store: Store,
  opts: { demo: boolean; actor: string; name: string; signingKeys: SigningKey[] },
): Promise<boolean> {
  const demo = opts.demo ? (JSON.parse(readFileSync(DEMO_FILE, 'utf8')) as DemoOrg) : undefined;
  // Hash before the transaction: scrypt is slow and must not hold the write lock.
  const hashes = await Promise.all((demo?.users ?? []).map((u) => hashPassword(u.password)));
  return store.tx(async (tx) => {
    if ((await tx.org.setting('org_id')) !== undefined) return false;
    await tx.org.setSetting('org_id', randomBytes(8).toString('hex'));
    await tx.org.setSetting('created_at', tx.clock().toISOString());
    await tx.org.setSetting('subject_salt', randomBytes(32).toString('base64url'));
    await tx.org.setName(opts.name);
    for (const key of opts.signingKeys) await tx.org.addSigningKey(key);
    await tx.apps.insert({
      name: MY_ACCOUNT,
      clientId: newClientId(),
      redirectUris: [],
      steps: [['password']],
      attributes: ['username', 'email', 'email_verified', 'name'],
      builtIn: true,
    });
    for (const c of demo?.connections ?? []) {
      await tx.connections.insert({
        name: c.name,
        type: c.type,
        sandbox: true,
        issuer: null,
        clientId: c.clientId,
        secret: { kind: 'value', value: newSandboxSecret() },
        scopes: defaultScopes(c.type),
        jit: defaultJit(),
        attributeMap: {},
      });
    }
    for (const a of demo?.apps ?? [])
      await tx.apps.insert({ ...a, clientId: newClientId(), origins: originsOf(a.redirectUris) });
    for (const [i, u] of (demo?.users ?? []).entries()) {
      const { password: _password, ...profile } = u;
      await tx.users.insert({ ...profile, passwordHash: hashes[i]!, source: 'local' });
    }
    await tx.events.recordConfig({
      actor: opts.actor,
      action: 'init',
      target: 'org',
      detail: demo ? 'created the demo organisation' : 'created an empty organisation',
      before: null,
      after: {
        name: opts.name,
        apps: [MY_ACCOUNT, ...(demo?.apps.map((a) => a.name) ?? [])],
        connections: demo?.connections.map((c) => c.name) ?? [],
      },
    });
    return true;
  });
}
