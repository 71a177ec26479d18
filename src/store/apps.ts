// Repository for applications (service providers) and their sign-in methods.
import type { App, SignInStep } from '../core/types.js';
import type { AppPatch, AppRepository, NewApp } from '../ports.js';
import type { Db } from './db.js';

interface AppRow {
  name: string;
  client_id: string;
  client_secret_hash: string | null;
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
    hasSecret: row.client_secret_hash !== null,
    redirectUris: JSON.parse(row.redirect_uris) as string[],
    steps: JSON.parse(row.steps) as SignInStep[],
    attributes: JSON.parse(row.attributes) as string[],
    script: row.script,
    builtIn: row.built_in === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export class AppRepo implements AppRepository {
  constructor(
    private readonly db: Db,
    private readonly now: () => string,
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

  insert(app: NewApp): void {
    const at = this.now();
    this.db
      .prepare(
        `INSERT INTO apps (name, client_id, redirect_uris, steps, attributes, script, built_in, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        app.name,
        app.clientId,
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
        'UPDATE apps SET client_id = ?, redirect_uris = ?, steps = ?, attributes = ?, script = ?, updated_at = ? WHERE name = ?',
      )
      .run(
        next.clientId,
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
