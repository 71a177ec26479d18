// The PostgreSQL server the tests run against: IDP_TEST_PG_URL, which .ci/with-pg.sh sets (a throwaway cluster), and a
// fresh schema per store so tests share the server without seeing each other's rows.
import assert from 'node:assert/strict';
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

/** Drops every schema freshPgStore made in this process. */
export async function dropSchemas(): Promise<void> {
  const schemas = made.splice(0);
  if (schemas.length === 0 || !process.env.IDP_TEST_PG_URL) return;
  await admin(async (client) => {
    for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  });
}
