// Repository for applications (service providers): their client settings, sign-in methods, and a web app's client
// secret, sealed at rest.
import type { App } from '../core/types.js';
import type { AppPatch, NewApp } from '../ports.js';
import {
  APP_COLUMNS,
  type AppRow,
  CHANGED_APP_COLUMNS,
  changedAppParams,
  newAppParams,
  toApp,
} from '../store-rows/apps.js';
import type { Secrets } from '../store-rows/seal.js';
import type { Db } from './db.js';

const INSERT_SQL = `INSERT INTO apps (${APP_COLUMNS.join(', ')}) VALUES (${APP_COLUMNS.map(() => '?').join(', ')})`;
const UPDATE_SQL = `UPDATE apps SET ${CHANGED_APP_COLUMNS.map((c) => `${c} = ?`).join(', ')} WHERE name = ?`;

export class AppRepo {
  constructor(
    private readonly db: Db,
    private readonly now: () => string,
    private readonly secrets: Secrets,
  ) {}

  list(): App[] {
    return (this.db.prepare('SELECT * FROM apps ORDER BY built_in, name').all() as AppRow[]).map(toApp);
  }

  names(): string[] {
    return this.db.prepare('SELECT name FROM apps ORDER BY name').pluck().all() as string[];
  }

  get(name: string): App | undefined {
    const row = this.db.prepare('SELECT * FROM apps WHERE name = ?').get(name) as AppRow | undefined;
    return row && toApp(row);
  }

  byClientId(clientId: string): App | undefined {
    const row = this.db.prepare('SELECT * FROM apps WHERE client_id = ?').get(clientId) as AppRow | undefined;
    return row && toApp(row);
  }

  clientSecret(name: string): string | null {
    const sealed = this.db.prepare('SELECT client_secret_sealed FROM apps WHERE name = ?').pluck().get(name) as
      | string
      | null
      | undefined;
    return sealed == null ? null : this.secrets.unseal(sealed);
  }

  setClientSecret(name: string, secret: string): void {
    this.db
      .prepare('UPDATE apps SET client_secret_sealed = ?, updated_at = ? WHERE name = ?')
      .run(this.secrets.seal(secret), this.now(), name);
  }

  insert(app: NewApp): void {
    this.db.prepare(INSERT_SQL).run(...newAppParams(app, (p) => this.secrets.seal(p), this.now()));
  }

  update(name: string, patch: AppPatch): void {
    const current = this.get(name);
    if (!current) return;
    this.db.prepare(UPDATE_SQL).run(...changedAppParams({ ...current, ...patch }, this.now()), name);
  }

  delete(name: string): void {
    this.db.prepare('DELETE FROM apps WHERE name = ?').run(name);
  }
}
