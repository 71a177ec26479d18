// Opens an organisation's SQLite file safely: 0700 directory, 0600 file, identity and version checks
// before anything is written, then WAL and forward-only migrations, each in one transaction.
import type Database from 'better-sqlite3';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { IdpError } from '../core/errors.js';
import { hint } from '../core/fixes.js';
import { APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION } from './migrations.js';
import { seal } from '../store-rows/seal.js';
import { loadOrCreateKey, SEAL_KEY_FILE } from './seal.js';
import { loadSqlite } from './sqlite.cjs';

export type Db = Database.Database;

const BUSY_TIMEOUT_MS = 5000;

let addon: object | undefined;

/**
 * better-sqlite3's native addon, loaded on the first open and handed to it: the bundled CLI carries better-sqlite3's
 * JavaScript but not the addon, and knowing its path skips the `bindings` package probing a dozen paths each start.
 */
function nativeAddon(): object {
  if (!addon) {
    const require = createRequire(import.meta.url);
    let path: string;
    try {
      path = require.resolve('better-sqlite3/build/Release/better_sqlite3.node');
    } catch (err) {
      throw new IdpError(
        'SQLITE_ADDON_MISSING',
        "better-sqlite3's native addon is not built",
        'run `npm ci` (or `npm rebuild better-sqlite3`) in the idp directory',
        { cause: err },
      );
    }
    addon = require(path) as object;
  }
  return addon;
}

export const DB_FILE = 'idp.db';

export function dbPath(home: string): string {
  return join(home, DB_FILE);
}

export function databaseExists(home: string): boolean {
  const path = dbPath(home);
  return existsSync(path) && statSync(path).size > 0;
}

/**
 * Creates the data directory (0700) and an empty database file (0600) so SQLite never widens the mode. An existing
 * directory open to group or others is closed to 0700 when it is idp's: the user's own, holding only idp's files.
 */
export function prepareHome(home: string): void {
  if (!existsSync(home)) {
    mkdirSync(home, { recursive: true, mode: 0o700 });
    chmodSync(home, 0o700);
  } else {
    tightenIfIdps(home);
  }
  try {
    closeSync(openSync(dbPath(home), 'wx', 0o600));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err; // another idp process created it first
  }
}

/** What idp keeps in a data directory (seal.ts writes the key through `secret.key.<pid>.<random>.tmp`). */
function isIdpFile(name: string): boolean {
  return (
    [DB_FILE, `${DB_FILE}-wal`, `${DB_FILE}-shm`, `${DB_FILE}-journal`, SEAL_KEY_FILE, 'personas.json'].includes(
      name,
    ) ||
    (name.startsWith(`${SEAL_KEY_FILE}.`) && name.endsWith('.tmp'))
  );
}

/** A directory holding anything else is left as it is (the user chose to share it); `idp doctor` says how to close it. */
function tightenIfIdps(home: string): void {
  if (process.platform === 'win32') return;
  const stat = statSync(home);
  if ((stat.mode & 0o077) === 0 || stat.uid !== process.getuid?.()) return;
  if (readdirSync(home).every(isIdpFile)) chmodSync(home, 0o700);
}

export interface OpenOptions {
  readonly?: boolean;
  /** Seals with the org's key (default: secret.key next to the file), for migrations that encrypt what was stored in the clear. */
  seal?: (plaintext: string) => string;
}

/** Opens and migrates. Refuses, without writing, a file that is not an idp database or is from a newer idp. */
export function openDb(home: string, opts: OpenOptions = {}): Db {
  const path = dbPath(home);
  // @types/better-sqlite3 still types this as a path; better-sqlite3 has accepted the addon object itself since v9.
  const nativeBinding = nativeAddon() as unknown as string;
  let db: Db;
  try {
    db = new (loadSqlite())(path, {
      fileMustExist: true,
      readonly: opts.readonly ?? false,
      timeout: BUSY_TIMEOUT_MS,
      nativeBinding,
    });
  } catch (err) {
    throw new IdpError(
      'DB_MISSING',
      `cannot open the database at ${path}`,
      hint`run ${{ kind: 'init' }} to create an organisation`,
      { cause: err },
    );
  }
  shareStatements(db, home);
  try {
    const version = checkIdentity(db, path);
    // One exec, not a prepared statement per pragma: every command pays for these at startup.
    db.exec(
      opts.readonly
        ? 'PRAGMA foreign_keys = ON'
        : 'PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON',
    );
    if (!opts.readonly && version < SCHEMA_VERSION)
      migrate(db, opts.seal ?? ((plaintext) => seal(loadOrCreateKey(join(home, SEAL_KEY_FILE)), plaintext)));
    return db;
  } catch (err) {
    db.close();
    throw isBusy(err) ? storeBusy(home, err) : err;
  }
}

/**
 * A store of this idp's schema in memory, holding nothing: what a data directory not made yet would hold, so a plan
 * (`idp store copy --dry-run`) can read a destination without creating it.
 */
export function blankDb(): Db {
  const db = new (loadSqlite())(':memory:', { nativeBinding: nativeAddon() as unknown as string });
  migrate(db, () => {
    throw new IdpError('INTERNAL', 'a blank store has nothing to seal');
  });
  return db;
}

/** SQLite's "database is locked": another connection kept the write lock past the busy timeout. */
export function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

/** Contention is not a bug: a named refusal that says who holds the lock, after SQLite waited the whole busy timeout. */
export function storeBusy(home: string, cause: unknown): IdpError {
  return new IdpError(
    'STORE_BUSY',
    `the database stayed locked for ${BUSY_TIMEOUT_MS / 1000} s`,
    `another idp process is writing to ${home}; run this again when it has finished`,
    { cause },
  );
}

/**
 * Statements are prepared once per SQL text on a connection and reused: repositories prepare where they query, and
 * compiling a statement costs SQLite more than running one (a brokered login runs a few dozen). A reused statement is
 * handed out in the default mode (pluck, raw and expand off), so each use sets the mode it needs; one still being
 * iterated is not handed out again (that would reset the iteration): a second one is prepared for that use.
 *
 * Every statement waits up to the busy timeout for the write lock (the `timeout` option above), then fails with
 * SQLITE_BUSY. Its statements are wrapped here, where each is prepared, so a write anywhere (an engine's stage event as
 * well as a use case's transaction) reports STORE_BUSY rather than an internal error.
 */
function shareStatements(db: Db, home: string): void {
  const prepare = db.prepare.bind(db);
  const prepared = new Map<string, Database.Statement>();
  const translated =
    <A extends unknown[], R>(run: (...args: A) => R) =>
    (...args: A): R => {
      try {
        return run(...args);
      } catch (err) {
        throw isBusy(err) ? storeBusy(home, err) : err;
      }
    };
  const fresh = (source: string): Database.Statement => {
    const statement = prepare(source);
    statement.run = translated(statement.run.bind(statement));
    statement.get = translated(statement.get.bind(statement));
    statement.all = translated(statement.all.bind(statement));
    return statement;
  };
  db.prepare = ((source: string) => {
    const statement = prepared.get(source);
    if (statement === undefined) {
      const made = fresh(source);
      prepared.set(source, made);
      return made;
    }
    if (statement.busy) return fresh(source);
    if (statement.reader) statement.pluck(false).raw(false).expand(false);
    return statement;
  }) as Db['prepare'];
}

/** The schema version of an idp database (0 for a blank file); throws for anything else. */
function checkIdentity(db: Db, path: string): number {
  let appId: number;
  let version: number;
  let tables: number;
  try {
    // One read transaction: another idp creating this org at the same moment must be seen before or after its
    // first migration, never half-way (its tables without its application id).
    [appId, version, tables] = db.transaction((): [number, number, number] => [
      db.pragma('application_id', { simple: true }) as number,
      db.pragma('user_version', { simple: true }) as number,
      (db.prepare("SELECT count(*) AS n FROM sqlite_schema WHERE type = 'table'").get() as { n: number }).n,
    ])();
  } catch (err) {
    throw notIdp(path, err);
  }
  const blank = appId === 0 && version === 0 && tables === 0;
  if (!blank && appId !== APPLICATION_ID) throw notIdp(path);
  if (version > SCHEMA_VERSION) {
    throw new IdpError(
      'DB_NEWER',
      `the database at ${path} was written by a newer idp (schema ${version}, this idp knows ${SCHEMA_VERSION})`,
      hint`upgrade idp, or point ${{ kind: 'option', option: 'home' }} at another directory; the file was left untouched`,
    );
  }
  return version;
}

function notIdp(path: string, cause?: unknown): IdpError {
  return new IdpError(
    'DB_NOT_IDP',
    `${path} is not an idp database`,
    hint`point ${{ kind: 'option', option: 'home' }} (or IDP_HOME) at an idp data directory; the file was left untouched`,
    { cause },
  );
}

/** The version is read again under the write lock: two first runs at once must not both apply a migration. */
function migrate(db: Db, seal: (plaintext: string) => string): void {
  const step = db.transaction((): boolean => {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version >= SCHEMA_VERSION) return false;
    const migration = MIGRATIONS[version]!;
    if (typeof migration === 'string') db.exec(migration);
    else migration(db, seal);
    db.pragma(`application_id = ${APPLICATION_ID}`);
    db.pragma(`user_version = ${version + 1}`);
    return true;
  });
  let applied = true;
  while (applied) applied = step.immediate();
}
