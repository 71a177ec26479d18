// Repository for federated connections and their JIT settings; client secrets are sealed at rest.
import type { Connection } from '../core/types.js';
import type { ConnectionPatch, NewConnection } from '../ports.js';
import {
  type ConnectionRow,
  changedConnectionColumns,
  newConnectionColumns,
  toConnection,
} from '../store-rows/connections.js';
import type { Secrets } from '../store-rows/seal.js';
import type { Db } from './db.js';

export class ConnectionRepo {
  constructor(
    private readonly db: Db,
    private readonly now: () => string,
    private readonly box: Secrets,
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

  /** Units of work run one at a time: a plain read holds for the unit. */
  getForLink(name: string): Connection | undefined {
    return this.get(name);
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
    const row = newConnectionColumns(c, (p) => this.box.seal(p), this.now());
    const names = Object.keys(row);
    this.db
      .prepare(`INSERT INTO connections (${names.join(', ')}) VALUES (${names.map((n) => `@${n}`).join(', ')})`)
      .run(row);
  }

  update(name: string, patch: ConnectionPatch): void {
    const current = this.get(name);
    if (!current) return;
    const row = changedConnectionColumns(current, patch, (p) => this.box.seal(p), this.now());
    const sets = Object.keys(row).map((n) => `${n} = @${n}`);
    this.db.prepare(`UPDATE connections SET ${sets.join(', ')} WHERE name = @name`).run({ ...row, name });
  }

  delete(name: string): void {
    this.db.prepare('DELETE FROM connections WHERE name = ?').run(name);
  }
}
