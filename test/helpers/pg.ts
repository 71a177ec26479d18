// The PostgreSQL server the tests run against: IDP_TEST_PG_URL, which .ci/with-pg.sh sets (a throwaway cluster), and a
// fresh schema per store so tests share the server without seeing each other's rows.
import assert from 'node:assert/strict';
import { after } from 'node:test';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openPgStore, type PgStore, type PgStoreOptions } from '../../src/store-pg/store.js';

/** The server's URL; without one the test fails (never skips), saying how to get a server. */
export function pgUrl(): string {
  const url = process.env.IDP_TEST_PG_URL;
  assert.ok(
    url,
    'IDP_TEST_PG_URL is not set: these tests need a PostgreSQL server. Run them under a throwaway one: bash .ci/with-pg.sh node test/run.js (npm test does)',
  );
  return url;
}

/** Whether this run puts the suites' orgs on PostgreSQL (IDP_TEST_STORE=postgres, under .ci/with-pg.sh). */
export const ON_POSTGRES = process.env.IDP_TEST_STORE === 'postgres';

// Registered when the helper loads, so on the file's root: inside a test it would run when that test ends.
if (ON_POSTGRES) after(dropDatabases);

export function newSchema(): string {
  return `t_${randomBytes(6).toString('hex')}`;
}

const made: string[] = [];

/** A store in a new schema of the test server, with a random seal key unless given; dropped by dropSchemas. */
export async function freshPgStore(opts: PgStoreOptions = {}): Promise<PgStore> {
  const schema = opts.schema ?? newSchema();
  made.push(schema);
  return openPgStore(pgUrl(), { sealKey: randomBytes(32), ...opts, schema });
}

/** Runs SQL as the test role outside any store (to inspect or tamper), on its own connection. */
export async function admin<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: pgUrl() });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

const databases: string[] = [];

/**
 * A new database on the test server (a copy of `template`'s database when given) and its URL; dropped by
 * dropDatabases. The test role may create databases (.ci/with-pg.sh).
 */
export async function pgDatabaseFor(label: string, template?: string): Promise<string> {
  const name = `${label}_${randomBytes(6).toString('hex')}`;
  const from = template ? ` TEMPLATE "${new URL(template).pathname.slice(1)}"` : '';
  await admin((client) => client.query(`CREATE DATABASE "${name}"${from}`));
  databases.push(name);
  const url = new URL(pgUrl());
  url.pathname = `/${name}`;
  return url.href;
}

/** Drops every database pgDatabaseFor made in this process, with whatever connections are still open to them. */
export async function dropDatabases(): Promise<void> {
  const names = databases.splice(0);
  if (names.length === 0 || !process.env.IDP_TEST_PG_URL) return;
  await admin(async (client) => {
    for (const name of names) await dropDatabase(client, name);
  });
}

/**
 * Drops a database with the connections still open to it. An autovacuum worker (a superuser's backend, which the test
 * role may not end) can hold a new database for a moment: the drop is tried again until it is gone.
 */
export async function dropDatabase(client: pg.Client, name: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      return;
    } catch (err) {
      if ((err as { code?: string }).code !== '42501' || attempt >= 50) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** Drops every schema freshPgStore made in this process. */
export async function dropSchemas(): Promise<void> {
  const schemas = made.splice(0);
  if (schemas.length === 0 || !process.env.IDP_TEST_PG_URL) return;
  await admin(async (client) => {
    for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  });
}
