// A connections row on either engine: its columns, the Connection it reads as, and the cells a new or changed
// connection fills (its settings, and its client secret: a variable's name, the value sealed, or none).
import { secretTail } from '../core/secret-tail.js';
import type { Connection, ConnectionType, JitSettings, SecretSource, TokenAuthMethod } from '../core/types.js';
import type { ConnectionPatch, NewConnection, SecretInput } from '../ports.js';

export interface ConnectionRow {
  name: string;
  type: ConnectionType;
  sandbox: number;
  issuer: string | null;
  client_id: string;
  secret_kind: 'none' | 'env' | 'stored';
  secret_env: string | null;
  secret_sealed: string | null;
  secret_last4: string | null;
  token_auth: TokenAuthMethod | null;
  base_url: string | null;
  scopes: string;
  jit_enabled: number;
  jit_scheme: JitSettings['scheme'];
  jit_sync: JitSettings['sync'];
  jit_linking: JitSettings['linking'];
  attribute_map: string;
  created_at: string;
  updated_at: string;
}

function secretSource(row: ConnectionRow): SecretSource {
  if (row.secret_kind === 'env') return { kind: 'env', variable: row.secret_env ?? '' };
  if (row.secret_kind === 'stored') return { kind: 'stored', last4: row.secret_last4 ?? '' };
  return { kind: 'none' };
}

export function toConnection(row: ConnectionRow): Connection {
  return {
    name: row.name,
    type: row.type,
    sandbox: row.sandbox === 1,
    issuer: row.issuer,
    clientId: row.client_id,
    secret: secretSource(row),
    tokenAuth: row.token_auth,
    baseUrl: row.base_url,
    scopes: JSON.parse(row.scopes) as string[],
    jit: { enabled: row.jit_enabled === 1, scheme: row.jit_scheme, sync: row.jit_sync, linking: row.jit_linking },
    attributeMap: JSON.parse(row.attribute_map) as Record<string, string>,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** A new connection's cells by column, its secret sealed with `seal`, made and changed `at`. */
export function newConnectionColumns(
  c: NewConnection,
  seal: (plaintext: string) => string,
  at: string,
): Record<string, unknown> {
  return {
    name: c.name,
    type: c.type,
    ...settingColumns(c),
    ...secretColumns(c.secret, seal),
    created_at: at,
    updated_at: at,
  };
}

/**
 * The cells `patch` rewrites by column (every setting, the JIT settings merged into the current ones, the secret only
 * when given), changed `at`.
 */
export function changedConnectionColumns(
  current: Connection,
  patch: ConnectionPatch,
  seal: (plaintext: string) => string,
  at: string,
): Record<string, unknown> {
  return {
    ...settingColumns({ ...current, ...patch, jit: { ...current.jit, ...patch.jit } }),
    ...(patch.secret ? secretColumns(patch.secret, seal) : {}),
    updated_at: at,
  };
}

/** The columns a connection's settings fill, as insert and update both write them. */
function settingColumns(c: Omit<NewConnection, 'name' | 'type' | 'secret'>): Record<string, unknown> {
  return {
    sandbox: c.sandbox ? 1 : 0,
    issuer: c.issuer,
    client_id: c.clientId,
    token_auth: c.tokenAuth ?? null,
    base_url: c.baseUrl ?? null,
    scopes: JSON.stringify(c.scopes),
    jit_enabled: c.jit.enabled ? 1 : 0,
    jit_scheme: c.jit.scheme,
    jit_sync: c.jit.sync,
    jit_linking: c.jit.linking,
    attribute_map: JSON.stringify(c.attributeMap),
  };
}

/** The secret's columns: a reference to an env var, the value sealed (with its last characters), or nothing. */
function secretColumns(secret: SecretInput, seal: (plaintext: string) => string): Record<string, unknown> {
  if (secret.kind === 'env')
    return { secret_kind: 'env', secret_env: secret.variable, secret_sealed: null, secret_last4: null };
  if (secret.kind === 'value')
    return {
      secret_kind: 'stored',
      secret_env: null,
      secret_sealed: seal(secret.value),
      secret_last4: secretTail(secret.value) || null,
    };
  return { secret_kind: 'none', secret_env: null, secret_sealed: null, secret_last4: null };
}
