// An apps row on either engine: its columns, the App it reads as, and the cells a new app and a changed one fill (a web
// app's client secret sealed with the store's key).
import type { App, AppType, IdTokenAlg, SignInStep } from '../core/types.js';
import type { NewApp } from '../ports.js';

export interface AppRow {
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

export function toApp(row: AppRow): App {
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

/** The columns a new app fills, in newAppParams order. */
export const APP_COLUMNS = [
  'name',
  'client_id',
  'type',
  'origins',
  'id_token_alg',
  'client_secret_sealed',
  'redirect_uris',
  'steps',
  'attributes',
  'script',
  'built_in',
  'created_at',
  'updated_at',
] as const;

/** A new app's cells in APP_COLUMNS order: a spa signing with RS256 unless told otherwise, made and changed `at`. */
export function newAppParams(app: NewApp, seal: (plaintext: string) => string, at: string): unknown[] {
  return [
    app.name,
    app.clientId,
    app.type ?? 'spa',
    JSON.stringify(app.origins ?? []),
    app.idTokenAlg ?? 'RS256',
    app.clientSecret === undefined ? null : seal(app.clientSecret),
    JSON.stringify(app.redirectUris),
    JSON.stringify(app.steps),
    JSON.stringify(app.attributes),
    app.script ?? null,
    app.builtIn ? 1 : 0,
    at,
    at,
  ];
}

/** The columns a change to an app rewrites (what an AppPatch can change, and when), in changedAppParams order. */
export const CHANGED_APP_COLUMNS = [
  'client_id',
  'origins',
  'id_token_alg',
  'redirect_uris',
  'steps',
  'attributes',
  'script',
  'updated_at',
] as const;

/** The changed app's cells in CHANGED_APP_COLUMNS order, changed `at`. */
export function changedAppParams(next: App, at: string): unknown[] {
  return [
    next.clientId,
    JSON.stringify(next.origins),
    next.idTokenAlg,
    JSON.stringify(next.redirectUris),
    JSON.stringify(next.steps),
    JSON.stringify(next.attributes),
    next.script,
    at,
  ];
}
