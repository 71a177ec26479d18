// The demo org on PostgreSQL for suites that run on both engines: seeded once per test process in a template database
// (seeding hashes passwords with scrypt), and copied per test into a database of its own, which the CLI run for the
// test's home is pointed at too.
import { randomBytes } from 'node:crypto';
import { createOrganisation } from '../../src/cli/context.js';
import { openPgStore, type PgStore } from '../../src/store-pg/store.js';
import { pointHomeAt } from './idp.js';
import { ON_POSTGRES, pgDatabaseFor } from './pg.js';

export { ON_POSTGRES };

const sealKey = randomBytes(32);
let template: Promise<string> | undefined;

/**
 * A fresh copy of the demo org in a database of its own, which `idp` commands run with `home` use as well; the
 * databases go when the test process ends its tests.
 */
export async function pgDemoStore(home: string): Promise<PgStore> {
  template ??= (async () => {
    const url = await pgDatabaseFor('demo');
    const store = await openPgStore(url, { sealKey });
    try {
      await createOrganisation(store, { demo: true, actor: 'test' });
    } finally {
      // A database with connections open cannot be copied.
      await store.close();
    }
    return url;
  })();
  const url = await pgDatabaseFor('org', await template);
  pointHomeAt(home, url, sealKey.toString('base64url'));
  return openPgStore(url, { sealKey });
}
