// The Store port on PostgreSQL: one pool per store, units of work as SERIALIZABLE transactions (REPEATABLE READ where
// the unit says its rules hold by constraints) on one pooled client, rerun on a serialization failure; several
// `idp serve` instances share the org this way (see src/README.md).
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { IdpError, isIdpError } from '../core/errors.js';
import type { Clock, Store, UnitOptions } from '../ports.js';
import type { Row, StoreTables, TableInfo } from '../ports/store-tables.js';
// The sealed-value format is the org's whatever engine holds it (store-rows); the key is loaded here, never from the
// SQLite store's key file.
import { seal, unseal } from '../store-rows/seal.js';
import { PgAppRepo } from './apps.js';
import { PgAssociationRepo } from './associations.js';
import { PgCodeRepo } from './codes.js';
import {
  type ConnectOptions,
  connectionError,
  describeUrl,
  newPool,
  prefersTls,
  quoteIdent,
  tlsRefused,
} from './connect.js';
import { PgConnectionRepo } from './connections.js';
import { PgEventRepo } from './events.js';
import { PgFactorRepo } from './factors.js';
import { PgFlowRepo } from './flows.js';
import { migrate, readVersion, rehearseMigration, SCHEMA_VERSION } from './migrations.js';

import { PgOidcModelRepo } from './oidc-models.js';
import { PgOrgRepo } from './org.js';
import { PgPasskeyRepo } from './passkeys.js';
import { sealKeyFromEnv, sealKeyMissing } from './seal-key.js';
import { type Sql, sqlOn } from './sql.js';
import { allEmpty, loadRows, readTables, resetIdentities, tableRows } from './tables.js';
import { PgUserRepo } from './users.js';

// What the composition root calls besides openPgStore, from this one module.
export { isPgUrl } from './connect.js';
export type { ImportResult } from '../store-rows/import.js';
export { importUsers } from './import.js';
export { SCHEMA_VERSION } from './migrations.js';

export interface PgStoreOptions extends ConnectOptions {
  clock?: Clock;
  /** The sealing key; absent, IDP_SEAL_KEY or IDP_SEAL_KEY_FILE is read the first time a secret is sealed or opened. */
  sealKey?: Buffer;
  /** Bring the schema up to date on open (default); false leaves it as it is (`idp store migrate`, doctor). */
  migrate?: boolean;
}

/** What a store and the units of work it opens share. */
interface Shared {
  pool: pg.Pool;
  url: string;
  opts: PgStoreOptions;
  /** The URL without its query, and the schema when one was named: how messages point at this store. */
  where: string;
  clock: Clock;
  key: { value?: Buffer };
  /** The tables as the catalog last described them; forgotten when this store migrates. */
  layout?: Promise<TableInfo[]>;
}

/** Serialization failure and deadlock: PostgreSQL undid the unit of work, which may be run again as it is. */
const RERUN = new Set(['40001', '40P01']);
const UNIQUE_VIOLATION = '23505';
/**
 * SERIALIZABLE aborts some units that did not truly conflict: B-tree reads lock whole index pages, so logins reading and
 * inserting neighbouring keys (usernames user41, user42) collide, and on a small org every key is a neighbour. Measured
 * with 16 concurrent first logins of different people through the whole flow: 4.9 aborts per login, and one login in a
 * few hundred failing after 30; hence provisioning runs at REPEATABLE READ (UnitOptions.constraintsSuffice), and the
 * budget stays for the units that need SERIALIZABLE.
 */
const MAX_ATTEMPTS = 30;
/**
 * A unique violation reruns at most this often: a unit that read "no such row" and lost the race to insert it decides
 * again on fresh reads (two instances' first logins of one person end with one user); a plain duplicate fails again.
 */
const MAX_UNIQUE_RERUNS = 3;

export async function openPgStore(url: string, opts: PgStoreOptions = {}): Promise<PgStore> {
  const where = describeUrl(url) + (opts.schema === undefined ? '' : ` (schema ${opts.schema})`);
  let pool = newPool(url, opts);
  try {
    await prepare(pool, where, opts);
  } catch (err) {
    await pool.end();
    if (!(tlsRefused(err) && prefersTls(url))) throw connectionError(err, where);
    pool = newPool(url, opts, { plain: true });
    try {
      await prepare(pool, where, opts);
    } catch (again) {
      await pool.end();
      throw connectionError(again, where);
    }
  }
  const key = { value: opts.sealKey };
  return new PgStore({ pool, url, opts, where, clock: opts.clock ?? (() => new Date()), key });
}

/**
 * A copy's destination as `idp store copy --dry-run` reads it, without writing to it: the store as it stands, or, where
 * the database (or schema) holds no idp schema yet, a blank store of this idp's schema, its tables those this idp's
 * migrations make there, applied in a transaction that is rolled back.
 */
export async function probePgStore(
  url: string,
  opts: PgStoreOptions = {},
): Promise<StoreTables & { close(): Promise<void> }> {
  const store = await openPgStore(url, { ...opts, migrate: false });
  try {
    if ((await store.schemaVersion()) !== 0) return store;
    const tables = await store.rehearsedTables();
    return {
      schemaVersion: async () => SCHEMA_VERSION,
      tables: async () => tables,
      rows: async function* () {},
      isEmpty: async () => true,
      load: async () => {
        throw new IdpError('INTERNAL', `${store.where} was opened to be probed, not written`);
      },
      seal: (plaintext) => store.seal(plaintext),
      unseal: (sealed) => store.unseal(sealed),
      close: () => store.close(),
    };
  } catch (err) {
    await store.close();
    throw err;
  }
}

/** The first connection: it proves the server can be reached and entered, and brings the schema up to date. */
async function prepare(pool: pg.Pool, where: string, opts: PgStoreOptions): Promise<void> {
  const client = await checkout(pool);
  try {
    if (opts.migrate !== false) await migrate(client, where, opts.schema);
  } finally {
    checkin(client);
  }
}

const ignore = (): void => undefined;

/**
 * A client taken from the pool for a unit of work. The pool listens for errors only on idle clients: one the server
 * drops while it is out (a terminated backend) would end the process; its pending query fails instead, and is handled.
 */
async function checkout(pool: pg.Pool): Promise<pg.PoolClient> {
  const client = await pool.connect();
  client.on('error', ignore);
  return client;
}

/** Back to the pool, or discarded when `broken` says the connection is unusable. */
function checkin(client: pg.PoolClient, broken?: Error): void {
  client.removeListener('error', ignore);
  client.release(broken);
}

export class PgStore implements Store, StoreTables {
  readonly apps: PgAppRepo;
  readonly connections: PgConnectionRepo;
  readonly users: PgUserRepo;
  readonly associations: PgAssociationRepo;
  readonly events: PgEventRepo;
  readonly org: PgOrgRepo;
  readonly factors: PgFactorRepo;
  readonly passkeys: PgPasskeyRepo;
  readonly flows: PgFlowRepo;
  readonly codes: PgCodeRepo;
  readonly oidc: PgOidcModelRepo;
  /** Statements on this store's pool or unit of work: for this adapter's bulk import. */
  readonly sql: Sql;

  /** `client`: the connection of the unit of work this store is bound to; absent, each statement takes the pool's. */
  constructor(
    private readonly shared: Shared,
    private readonly client?: pg.PoolClient,
  ) {
    this.sql = sqlOn(client ?? shared.pool, (err) => connectionError(err, shared.where));
    const now = (): string => this.clock().toISOString();
    const secrets = { seal: (p: string) => this.seal(p), unseal: (s: string) => this.unseal(s) };
    this.apps = new PgAppRepo(this.sql, now, secrets);
    this.connections = new PgConnectionRepo(this.sql, now, secrets);
    this.users = new PgUserRepo(this.sql, now);
    this.associations = new PgAssociationRepo(this.sql, now);
    this.events = new PgEventRepo(this.sql, now);
    this.org = new PgOrgRepo(this.sql, secrets);
    this.factors = new PgFactorRepo(this.sql, now);
    this.passkeys = new PgPasskeyRepo(this.sql, now);
    this.flows = new PgFlowRepo(this.sql, now);
    this.codes = new PgCodeRepo(this.sql, now);
    this.oidc = new PgOidcModelRepo(this.sql);
  }

  readonly clock: Clock = () => this.shared.clock();

  /** Where this store is, for messages: the URL without a query, and the schema when one was named. */
  get where(): string {
    return this.shared.where;
  }

  /** The schema named when opening, if one was (otherwise the role's default). */
  get schema(): string | undefined {
    return this.shared.opts.schema;
  }

  /**
   * One SERIALIZABLE transaction on one pooled client. On a serialization failure or a deadlock PostgreSQL has undone
   * it: fn runs again on fresh reads (up to MAX_ATTEMPTS, after a short random pause, so racing units spread out), as
   * after a unique violation (see MAX_UNIQUE_RERUNS). Inside a unit, `tx` joins it.
   */
  async tx<T>(fn: (tx: Store) => Promise<T>, opts: UnitOptions = {}): Promise<T> {
    if (this.client) return fn(this);
    const begin = `BEGIN ISOLATION LEVEL ${opts.constraintsSuffice ? 'REPEATABLE READ' : 'SERIALIZABLE'}`;
    let uniqueReruns = 0;
    for (let attempt = 1; ; attempt++) {
      const client = await this.connect();
      let broken: Error | undefined;
      try {
        await client.query(begin);
        const result = await fn(new PgStore(this.shared, client));
        await client.query('COMMIT');
        return result;
      } catch (err) {
        broken = await rollback(client);
        const code = (err as { code?: unknown }).code;
        // A unit resting on its unique keys reports a lost race as a unique violation where SERIALIZABLE would report
        // a serialization failure (first logins of people proposing one username): it gets the same reruns.
        const lostRace = code === UNIQUE_VIOLATION && (opts.constraintsSuffice || uniqueReruns++ < MAX_UNIQUE_RERUNS);
        const rerun = RERUN.has(code as string) || lostRace;
        if (!rerun) throw connectionError(err, this.shared.where);
        if (attempt >= MAX_ATTEMPTS) {
          if (code === UNIQUE_VIOLATION && !opts.constraintsSuffice) throw err;
          throw new IdpError(
            'STORE_BUSY',
            `${this.shared.where} refused this change ${MAX_ATTEMPTS} times for conflicting with concurrent ones`,
            'run it again: other instances or commands were changing the same rows',
            { cause: err },
          );
        }
      } finally {
        checkin(client, broken);
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(200, 2 ** attempt) * (0.5 + Math.random())));
    }
  }

  private connect(): Promise<pg.PoolClient> {
    return checkout(this.shared.pool).catch((err) => {
      throw connectionError(err, this.shared.where);
    });
  }

  seal(plaintext: string): string {
    return seal(this.key(), plaintext);
  }

  unseal(sealed: string): string {
    const key = this.key();
    try {
      return unseal(key, sealed);
    } catch (err) {
      if (!isIdpError(err)) throw err;
      throw new IdpError(
        'SEAL_KEY_INVALID',
        err.message,
        "IDP_SEAL_KEY (or IDP_SEAL_KEY_FILE) must hold the key this org's secrets were sealed with, the same on every instance; re-enter the secret if that key was lost",
        { cause: err },
      );
    }
  }

  /** The org's sealing key, from the options or the environment on first use; never from or into the database. */
  private key(): Buffer {
    this.shared.key.value ??= sealKeyFromEnv();
    if (!this.shared.key.value) throw sealKeyMissing();
    return this.shared.key.value;
  }

  async schemaVersion(): Promise<number> {
    const client = this.client ?? (await this.connect());
    try {
      return await readVersion(client);
    } catch (err) {
      throw connectionError(err, this.shared.where);
    } finally {
      if (!this.client) checkin(client);
    }
  }

  /** Brings the schema up to date (for a store opened with `migrate: false`); the versions before and after. */
  async migrate(): Promise<{ from: number; to: number }> {
    const client = await this.connect();
    try {
      const from = await readVersion(client);
      this.shared.layout = undefined;
      await migrate(client, this.shared.where, this.shared.opts.schema);
      return { from, to: await readVersion(client) };
    } catch (err) {
      throw connectionError(err, this.shared.where);
    } finally {
      checkin(client);
    }
  }

  /**
   * The tables `migrate` would give this store, read in a transaction that made them and was rolled back: nothing is
   * left behind. The connection is discarded afterwards: statements it prepared named tables that no longer exist.
   */
  async rehearsedTables(): Promise<TableInfo[]> {
    const client = await this.connect();
    const translate = (err: unknown): unknown => connectionError(err, this.shared.where);
    try {
      return await rehearseMigration(client, this.shared.where, this.shared.opts.schema, () =>
        readTables(sqlOn(client, translate)),
      );
    } catch (err) {
      throw translate(err);
    } finally {
      checkin(client, new Error('a rehearsal connection is not reused'));
    }
  }

  /** The server's version and one round trip's time: what `idp doctor` reports. */
  async serverInfo(): Promise<{ version: string; roundTripMs: number }> {
    const started = performance.now();
    const row = await this.sql.row<{ version: string }>('SELECT current_setting($1) AS version', ['server_version']);
    return { version: row!.version, roundTripMs: performance.now() - started };
  }

  /**
   * Read from the catalog once per store (three queries over it, tens of milliseconds): a copy asks for the tables
   * again for every table it reads. Only `idp store copy` and tests call this, on stores whose schema they change
   * through `migrate` alone.
   */
  tables(): Promise<TableInfo[]> {
    this.shared.layout ??= readTables(this.sql);
    const layout = this.shared.layout;
    layout.catch(() => {
      if (this.shared.layout === layout) this.shared.layout = undefined;
    });
    return layout;
  }

  async *rows(table: string): AsyncIterable<Row> {
    const info = (await this.tables()).find((t) => t.name === table);
    if (!info) throw new IdpError('INTERNAL', `${this.shared.where} has no table ${table}`);
    yield* tableRows(this.sql, info);
  }

  async isEmpty(): Promise<boolean> {
    return allEmpty(this.sql, await this.tables());
  }

  /** Every table's rows in one transaction (not rerun: the rows are read once from their source as they are written). */
  async load(input: { table: string; rows: AsyncIterable<Row> }[]): Promise<void> {
    const tables = await this.tables();
    await this.once(async (client) => loadRows(client, tables, input));
  }

  /** fn on one client in one transaction, rolled back if it throws; for work that cannot be rerun. */
  private async once<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = this.client ?? (await this.connect());
    if (this.client) return fn(client);
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      broken = await rollback(client);
      throw connectionError(err, this.shared.where);
    } finally {
      checkin(client, broken);
    }
  }

  /**
   * Runs `use` on a throwaway copy of this organisation: a new schema beside this one, made by the same migrations and
   * filled from it in one statement per table, dropped afterwards whatever happens. The seal key stays in memory. A
   * copy left behind by a killed process (nothing runs on SIGKILL) is dropped by a later copy once a day old.
   */
  async withThrowawayCopy<T>(use: (copy: Store) => Promise<T>): Promise<T> {
    // On the pool even from a unit of work: the copy's schema must not come and go with that unit's transaction.
    if (this.client) return new PgStore(this.shared).withThrowawayCopy(use);
    await this.dropStaleCopies();
    const source = (await this.sql.row<{ schema: string }>('SELECT current_schema() AS schema'))!.schema;
    const schema = `${COPY_PREFIX}${Math.floor(Date.now() / 1000)}_${randomBytes(4).toString('hex')}`;
    try {
      const copy = await openPgStore(this.shared.url, {
        ...this.shared.opts,
        schema,
        migrate: true,
        max: 4,
        clock: this.shared.clock,
      });
      copy.shared.key = this.shared.key;
      try {
        await copy.once(async (client) => {
          for (const table of await readTables(copy.sql)) {
            const columns = table.columns.map(quoteIdent).join(', ');
            const name = quoteIdent(table.name);
            await client.query(`INSERT INTO ${name} (${columns}) SELECT ${columns} FROM ${quoteIdent(source)}.${name}`);
          }
          await resetIdentities(client);
        });
        return await use(copy);
      } finally {
        await copy.close();
      }
    } finally {
      await this.sql.changes(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
    }
  }

  private async dropStaleCopies(): Promise<void> {
    const rows = await this.sql.rows<{ name: string }>(
      `SELECT nspname AS name FROM pg_namespace WHERE starts_with(nspname, $1)`,
      [COPY_PREFIX],
    );
    const dayAgo = Date.now() / 1000 - 86400;
    for (const { name } of rows) {
      const made = Number(/^idp_copy_(\d+)_/.exec(name)?.[1]);
      if (made < dayAgo) await this.sql.changes(`DROP SCHEMA IF EXISTS ${quoteIdent(name)} CASCADE`);
    }
  }

  /** Ends the pool; a store bound to a unit of work has nothing of its own to close. */
  async close(): Promise<void> {
    if (!this.client && !this.shared.pool.ended) await this.shared.pool.end();
  }
}

const COPY_PREFIX = 'idp_copy_';

/** Ends the transaction on `client`; the error when even that failed (the connection is then discarded). */
async function rollback(client: pg.PoolClient): Promise<Error | undefined> {
  try {
    await client.query('ROLLBACK');
    return undefined;
  } catch (err) {
    return err as Error;
  }
}
