// Applications (service providers) on PostgreSQL: client settings, sign-in methods, and a web app's client secret,
// sealed at rest with the org's key.
import type { App } from '../core/types.js';
import type { AppPatch, AppRepository, NewApp } from '../ports.js';
import {
  APP_COLUMNS,
  type AppRow,
  CHANGED_APP_COLUMNS,
  changedAppParams,
  newAppParams,
  toApp,
} from '../store-rows/apps.js';
import type { Secrets } from '../store-rows/seal.js';
import { placeholders, type Sql } from './sql.js';

const INSERT_SQL = `INSERT INTO apps (${APP_COLUMNS.join(', ')}) VALUES (${placeholders(APP_COLUMNS.length)})`;
const SETS = CHANGED_APP_COLUMNS.map((c, i) => `${c} = $${i + 1}`);
const UPDATE_SQL = `UPDATE apps SET ${SETS.join(', ')} WHERE name = $${SETS.length + 1}`;

export class PgAppRepo implements AppRepository {
  constructor(
    private readonly sql: Sql,
    private readonly now: () => string,
    private readonly secrets: Secrets,
  ) {}

  async list(): Promise<App[]> {
    return (await this.sql.rows<AppRow>('SELECT * FROM apps ORDER BY built_in, name')).map(toApp);
  }

  async names(): Promise<string[]> {
    return (await this.sql.rows<{ name: string }>('SELECT name FROM apps ORDER BY name')).map((r) => r.name);
  }

  async get(name: string): Promise<App | undefined> {
    const row = await this.sql.row<AppRow>('SELECT * FROM apps WHERE name = $1', [name]);
    return row && toApp(row);
  }

  async byClientId(clientId: string): Promise<App | undefined> {
    const row = await this.sql.row<AppRow>('SELECT * FROM apps WHERE client_id = $1', [clientId]);
    return row && toApp(row);
  }

  async clientSecret(name: string): Promise<string | null> {
    const row = await this.sql.row<{ s: string | null }>('SELECT client_secret_sealed AS s FROM apps WHERE name = $1', [
      name,
    ]);
    return row?.s == null ? null : this.secrets.unseal(row.s);
  }

  async setClientSecret(name: string, secret: string): Promise<void> {
    await this.sql.changes('UPDATE apps SET client_secret_sealed = $1, updated_at = $2 WHERE name = $3', [
      this.secrets.seal(secret),
      this.now(),
      name,
    ]);
  }

  async insert(app: NewApp): Promise<void> {
    await this.sql.changes(
      INSERT_SQL,
      newAppParams(app, (p) => this.secrets.seal(p), this.now()),
    );
  }

  async update(name: string, patch: AppPatch): Promise<void> {
    const current = await this.get(name);
    if (!current) return;
    await this.sql.changes(UPDATE_SQL, [...changedAppParams({ ...current, ...patch }, this.now()), name]);
  }

  async delete(name: string): Promise<void> {
    await this.sql.changes('DELETE FROM apps WHERE name = $1', [name]);
  }
}
