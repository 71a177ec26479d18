// Applications (service providers) on PostgreSQL: client settings, sign-in methods, and a web app's client secret,
// sealed at rest with the org's key.
import type { App, AppType, IdTokenAlg, SignInStep } from '../core/types.js';
import type { AppPatch, AppRepository, NewApp } from '../ports.js';
import type { Sql } from './sql.js';

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

export interface Secrets {
  seal(plaintext: string): string;
  unseal(sealed: string): string;
}

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
    const at = this.now();
    await this.sql.changes(
      `INSERT INTO apps (name, client_id, type, origins, id_token_alg, client_secret_sealed, redirect_uris, steps,
                         attributes, script, built_in, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
      [
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
      ],
    );
  }

  async update(name: string, patch: AppPatch): Promise<void> {
    const current = await this.get(name);
    if (!current) return;
    const next = { ...current, ...patch };
    await this.sql.changes(
      `UPDATE apps SET client_id = $1, origins = $2, id_token_alg = $3, redirect_uris = $4, steps = $5, attributes = $6,
                       script = $7, updated_at = $8 WHERE name = $9`,
      [
        next.clientId,
        JSON.stringify(next.origins),
        next.idTokenAlg,
        JSON.stringify(next.redirectUris),
        JSON.stringify(next.steps),
        JSON.stringify(next.attributes),
        next.script,
        this.now(),
        name,
      ],
    );
  }

  async delete(name: string): Promise<void> {
    await this.sql.changes('DELETE FROM apps WHERE name = $1', [name]);
  }
}
