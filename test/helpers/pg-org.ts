// The demo org on PostgreSQL for suites that run on both engines: seeded once per test process in a template schema
// (seeding hashes passwords with scrypt), and copied per test through StoreTables into a schema of its own.
import { after } from 'node:test';
import { randomBytes } from 'node:crypto';
import { createOrganisation } from '../../src/cli/context.js';
import type { PgStore } from '../../src/store-pg/store.js';
import { dropSchemas, freshPgStore, ON_POSTGRES } from './pg.js';

export { ON_POSTGRES };

const sealKey = randomBytes(32);
let template: Promise<PgStore> | undefined;

// Registered when the helper loads, so on the file's root: inside a test it would run when that test ends.
if (ON_POSTGRES) after(dropSchemas);

/** A fresh copy of the demo org in a schema of its own; the schemas go when the test process ends its tests. */
export async function pgDemoStore(): Promise<PgStore> {
  template ??= (async () => {
    const store = await freshPgStore({ sealKey });
    await createOrganisation(store, { demo: true, actor: 'test' });
    return store;
  })();
  const source = await template;
  const copy = await freshPgStore({ sealKey });
  const tables = await source.tables();
  await copy.load(tables.map((t) => ({ table: t.name, rows: source.rows(t.name) })));
  return copy;
}
