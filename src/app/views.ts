// The JSON shapes of apps, connections and users (snake_case, secrets masked) that use cases return and record:
// one place, so `show --json`, `set --json` and the audit trail agree.
import { profileClaims } from '../core/claims.js';
import type { App, Connection, SecretSource, User } from '../core/types.js';

export function maskSecret(secret: SecretSource): string | null {
  if (secret.kind === 'env') return `env:${secret.variable}`;
  if (secret.kind === 'stored') return `****${secret.last4}`;
  return null;
}

export function connectionView(c: Connection) {
  return {
    name: c.name,
    type: c.type,
    sandbox: c.sandbox,
    issuer: c.issuer,
    base_url: c.baseUrl,
    client_id: c.clientId,
    client_secret: maskSecret(c.secret),
    token_auth: c.tokenAuth ?? 'auto',
    scopes: c.scopes,
    jit: { enabled: c.jit.enabled, scheme: c.jit.scheme, sync: c.jit.sync, linking: c.jit.linking },
    attribute_map: c.attributeMap,
  };
}

export function appView(a: App) {
  return {
    name: a.name,
    client_id: a.clientId,
    type: a.type,
    has_secret: a.hasSecret,
    built_in: a.builtIn,
    redirect_uris: a.redirectUris,
    origins: a.origins,
    id_token_alg: a.idTokenAlg,
    steps: a.steps,
    attributes: a.attributes,
    script: a.script !== null,
  };
}

export function userView(u: User) {
  return {
    id: u.id,
    ...profileClaims(u),
    attributes: u.attributes,
    status: u.status,
    source: u.source,
    has_password: u.hasPassword,
    created_at: u.createdAt,
    updated_at: u.updatedAt,
    last_login_at: u.lastLoginAt,
  };
}
