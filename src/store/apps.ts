// Repository for applications (service providers): their client settings, sign-in methods, and a web app's client
// secret, sealed at rest.
import type { App, AppType, IdTokenAlg, SignInStep } from '../core/types.js';
import type { AppPatch, NewApp } from '../ports.js';
import type { Db } from './db.js';

interface AppRow {
  name: string;
  client_id: string;
  type: AppType;
  origins: string;
  id_token_alg: IdTokenAlg;
  client_secret_sealed: string | null;
  redirect_uris: string;
  steps: string;
  attributes: string;
  script: string | null;
  built_in: number;
  created_at: string;
  updated_at: string;
}

function toApp(row: AppRow): App {
  return {
    name: row.name,
    clientId: row.client_id,
    type: row.type,
    origins: JSON.parse(row.origins) as string[],
    idTokenAlg: row.id_token_alg,
    hasSecret: row.client_secret_sealed !== null,
    redirectUris: JSON.parse(row.redirect_uris) as string[],
    steps: JSON.parse(row.steps) as SignInStep[],
    attributes: JSON.parse(row.attributes) as string[],
    script: row.script,
    builtIn: row.built_in === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export class AppRepo {
  constructor(
    private readonly db: Db,
    private readonly now: () => string,
    private readonly secrets: { seal(plaintext: string): string; unseal(sealed: string): string },
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
    const at = this.now();
    this.db
      .prepare(
        `INSERT INTO apps (name, client_id, type, origins, id_token_alg, client_secret_sealed, redirect_uris, steps,
                           attributes, script, built_in, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        app.name,
        app.clientId,
        app.type ?? 'spa',
        JSON.stringify(app.origins ?? []),
        app.idTokenAlg ?? 'RS256',
        app.clientSecret === undefined ? null : this.secrets.seal(app.clientSecret),
        JSON.stringify(app.redirectUris),
        JSON.stringify(app.steps),
        JSON.stringify(app.attributes),
        app.script ?? null,
        app.builtIn ? 1 : 0,
        at,
        at,
      );
  }

  update(name: string, patch: AppPatch): void {
    const current = this.get(name);
    if (!current) return;
    const next = { ...current, ...patch };
    this.db
      .prepare(
        `UPDATE apps SET client_id = ?, origins = ?, id_token_alg = ?, redirect_uris = ?, steps = ?, attributes = ?,
                         script = ?, updated_at = ? WHERE name = ?`,
      )
      .run(
        next.clientId,
        JSON.stringify(next.origins),
        next.idTokenAlg,
        JSON.stringify(next.redirectUris),
        JSON.stringify(next.steps),
        JSON.stringify(next.attributes),
        next.script,
        this.now(),
        name,
      );
  }

  delete(name: string): void {
    this.db.prepare('DELETE FROM apps WHERE name = ?').run(name);
  }
}
