// Repository for federated connections and their JIT settings; client secrets are sealed at rest.
import type { Connection, ConnectionType, JitSettings, SecretSource, TokenAuthMethod } from '../core/types.js';
import { secretTail } from '../core/secret-tail.js';
import type { ConnectionPatch, NewConnection, SecretInput } from '../ports.js';
import type { Db } from './db.js';

interface ConnectionRow {
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

function toConnection(row: ConnectionRow): Connection {
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

export class ConnectionRepo {
  constructor(
    private readonly db: Db,
    private readonly now: () => string,
    private readonly box: { seal(plain: string): string; unseal(sealed: string): string },
  ) {}

  list(): Connection[] {
    return (this.db.prepare('SELECT * FROM connections ORDER BY name').all() as ConnectionRow[]).map(toConnection);
  }

  names(): string[] {
    return this.db.prepare('SELECT name FROM connections ORDER BY name').pluck().all() as string[];
  }

  get(name: string): Connection | undefined {
    const row = this.db.prepare('SELECT * FROM connections WHERE name = ?').get(name) as ConnectionRow | undefined;
    return row && toConnection(row);
  }

  /** The stored secret in clear, for the connector only. Env-referenced secrets are resolved by the caller. */
  storedSecret(name: string): string | null {
    const sealed = this.db.prepare('SELECT secret_sealed FROM connections WHERE name = ?').pluck().get(name) as
      | string
      | null
      | undefined;
    return sealed ? this.box.unseal(sealed) : null;
  }

  insert(c: NewConnection): void {
    const at = this.now();
    const row = { name: c.name, type: c.type, ...settingColumns(c), created_at: at, updated_at: at };
    const names = Object.keys(row);
    this.db
      .prepare(`INSERT INTO connections (${names.join(', ')}) VALUES (${names.map((n) => `@${n}`).join(', ')})`)
      .run(row);
    this.setSecret(c.name, c.secret);
  }

  update(name: string, patch: ConnectionPatch): void {
    const current = this.get(name);
    if (!current) return;
    const row = {
      ...settingColumns({ ...current, ...patch, jit: { ...current.jit, ...patch.jit } }),
      updated_at: this.now(),
    };
    const sets = Object.keys(row).map((n) => `${n} = @${n}`);
    this.db.prepare(`UPDATE connections SET ${sets.join(', ')} WHERE name = @name`).run({ ...row, name });
    if (patch.secret) this.setSecret(name, patch.secret);
  }

  private setSecret(name: string, secret: SecretInput): void {
    const sql =
      'UPDATE connections SET secret_kind = ?, secret_env = ?, secret_sealed = ?, secret_last4 = ? WHERE name = ?';
    if (secret.kind === 'env') this.db.prepare(sql).run('env', secret.variable, null, null, name);
    else if (secret.kind === 'value')
      this.db.prepare(sql).run('stored', null, this.box.seal(secret.value), secretTail(secret.value) || null, name);
    else this.db.prepare(sql).run('none', null, null, null, name);
  }

  delete(name: string): void {
    this.db.prepare('DELETE FROM connections WHERE name = ?').run(name);
  }
}

/** The columns a connection's settings fill, as `insert` and `update` both write them. */
function settingColumns(c: Omit<NewConnection, 'name' | 'type' | 'secret'>) {
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
