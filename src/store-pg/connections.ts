// Federated connections and their JIT settings on PostgreSQL; a stored client secret is sealed at rest.
import type { Connection } from '../core/types.js';
import type { ConnectionPatch, ConnectionRepository, NewConnection } from '../ports.js';
import {
  type ConnectionRow,
  changedConnectionColumns,
  newConnectionColumns,
  toConnection,
} from '../store-rows/connections.js';
import type { Secrets } from '../store-rows/seal.js';
import type { Sql } from './sql.js';

export class PgConnectionRepo implements ConnectionRepository {
  constructor(
    private readonly sql: Sql,
    private readonly now: () => string,
    private readonly secrets: Secrets,
  ) {}

  async list(): Promise<Connection[]> {
    return (await this.sql.rows<ConnectionRow>('SELECT * FROM connections ORDER BY name')).map(toConnection);
  }

  async names(): Promise<string[]> {
    return (await this.sql.rows<{ name: string }>('SELECT name FROM connections ORDER BY name')).map((r) => r.name);
  }

  async get(name: string): Promise<Connection | undefined> {
    const row = await this.sql.row<ConnectionRow>('SELECT * FROM connections WHERE name = $1', [name]);
    return row && toConnection(row);
  }

  async getForLink(name: string): Promise<Connection | undefined> {
    const row = await this.sql.row<ConnectionRow>('SELECT * FROM connections WHERE name = $1 FOR SHARE', [name]);
    return row && toConnection(row);
  }

  /** The stored secret in clear, for the connector only. Env-referenced secrets are resolved by the caller. */
  async storedSecret(name: string): Promise<string | null> {
    const row = await this.sql.row<{ s: string | null }>('SELECT secret_sealed AS s FROM connections WHERE name = $1', [
      name,
    ]);
    return row?.s ? this.secrets.unseal(row.s) : null;
  }

  async insert(c: NewConnection): Promise<void> {
    const row = newConnectionColumns(c, (p) => this.secrets.seal(p), this.now());
    const names = Object.keys(row);
    await this.sql.changes(
      `INSERT INTO connections (${names.join(', ')}) VALUES (${names.map((_, i) => `$${i + 1}`).join(', ')})`,
      Object.values(row),
    );
  }

  async update(name: string, patch: ConnectionPatch): Promise<void> {
    const current = await this.get(name);
    if (!current) return;
    const row = changedConnectionColumns(current, patch, (p) => this.secrets.seal(p), this.now());
    const names = Object.keys(row);
    await this.sql.changes(
      `UPDATE connections SET ${names.map((n, i) => `${n} = $${i + 1}`).join(', ')} WHERE name = $${names.length + 1}`,
      [...Object.values(row), name],
    );
  }

  async delete(name: string): Promise<void> {
    await this.sql.changes('DELETE FROM connections WHERE name = $1', [name]);
  }
}
