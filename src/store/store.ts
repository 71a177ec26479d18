// The organisation store: one SQLite file per data directory, its repositories behind the async port, and immediate
// transactions, one at a time per connection.
import { lstatSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IdpError } from '../core/errors.js';
import type { Db } from './db.js';
import { dbPath, openDb, prepareHome } from './db.js';
import { AppRepo } from './apps.js';
import { AssociationRepo } from './associations.js';
import { ConnectionRepo } from './connections.js';
import { EventRepo } from './events.js';
import { FactorRepo } from './factors.js';
import { PasskeyRepo } from './passkeys.js';
import { FlowRepo } from './flows.js';
import { CodeRepo } from './codes.js';
import { OidcModelRepo } from './oidc-models.js';
import { OrgRepo } from './org.js';
import { UserRepo } from './users.js';
import { seal, unseal } from '../store-rows/seal.js';
import { loadKey, loadOrCreateKey, SEAL_KEY_FILE } from './seal.js';
import type {
  AppRepository,
  AssociationRepository,
  Clock,
  CodeRepository,
  ConnectionRepository,
  EventRepository,
  FactorRepository,
  FlowRepository,
  OidcModelRepository,
  OrgRepository,
  PasskeyRepository,
  Store,
  UserRepository,
} from '../ports.js';
import { facade, Serial } from './serial.js';

export { SEAL_KEY_FILE };

/** The synchronous repositories on one connection, which the Store port's repositories are facades of. */
interface Repos {
  apps: AppRepo;
  connections: ConnectionRepo;
  users: UserRepo;
  associations: AssociationRepo;
  events: EventRepo;
  org: OrgRepo;
  factors: FactorRepo;
  passkeys: PasskeyRepo;
  flows: FlowRepo;
  codes: CodeRepo;
  oidc: OidcModelRepo;
}

/** Rows per read of users.iterate and iterateForExport: no statement stays open across an await. */
const PAGE = 500;

/** The port's repositories on `repos`, each call run through `serial`, or directly when null (inside a unit of work). */
function repositories(repos: Repos, serial: Serial | null) {
  const users = facade(repos.users, serial);
  const pages = <R extends { username: string }>(read: (after: string | null, limit: number) => Promise<R[]>) =>
    async function* (): AsyncGenerator<R> {
      let after: string | null = null;
      for (;;) {
        const page = await read(after, PAGE);
        yield* page;
        if (page.length < PAGE) return;
        after = page[page.length - 1]!.username;
      }
    };
  return {
    apps: facade(repos.apps, serial) satisfies AppRepository,
    connections: facade(repos.connections, serial) satisfies ConnectionRepository,
    users: { ...users, iterate: pages(users.page), iterateForExport: pages(users.exportPage) } satisfies UserRepository,
    associations: facade(repos.associations, serial) satisfies AssociationRepository,
    events: facade(repos.events, serial) satisfies EventRepository,
    org: facade(repos.org, serial) satisfies OrgRepository,
    factors: facade(repos.factors, serial) satisfies FactorRepository,
    passkeys: facade(repos.passkeys, serial) satisfies PasskeyRepository,
    flows: facade(repos.flows, serial) satisfies FlowRepository,
    codes: facade(repos.codes, serial) satisfies CodeRepository,
    oidc: facade(repos.oidc, serial) satisfies OidcModelRepository,
  };
}

/** The Store port on one SQLite file; `db` and `home` are for the composition root and doctor only. */
export class SqliteStore implements Store {
  readonly apps: AppRepository;
  readonly connections: ConnectionRepository;
  readonly users: UserRepository;
  readonly associations: AssociationRepository;
  readonly events: EventRepository;
  readonly org: OrgRepository;
  readonly factors: FactorRepository;
  readonly passkeys: PasskeyRepository;
  readonly flows: FlowRepository;
  readonly codes: CodeRepository;
  readonly oidc: OidcModelRepository;
  /** Units of work on this connection, one at a time; plain calls wait while one is open. */
  private readonly serial = new Serial();
  /** The store a unit of work's fn gets: the same repositories, run directly on the connection. */
  private readonly inTx: Store;
  private sealKey: Buffer | undefined;

  /** `sealKey` given in memory is used instead of the key file (a throwaway copy has none on disk). */
  constructor(
    readonly db: Db,
    readonly home: string,
    readonly clock: Clock = () => new Date(),
    sealKey?: Buffer,
  ) {
    this.sealKey = sealKey;
    const now = (): string => this.clock().toISOString();
    const secrets = { seal: (p: string) => this.seal(p), unseal: (s: string) => this.unseal(s) };
    const repos: Repos = {
      apps: new AppRepo(db, now, secrets),
      connections: new ConnectionRepo(db, now, secrets),
      users: new UserRepo(db, now),
      associations: new AssociationRepo(db, now),
      events: new EventRepo(db, now),
      org: new OrgRepo(db, secrets),
      factors: new FactorRepo(db, now),
      passkeys: new PasskeyRepo(db, now),
      codes: new CodeRepo(db, now),
      flows: new FlowRepo(db, now),
      oidc: new OidcModelRepo(db),
    };
    const plain = repositories(repos, this.serial);
    this.apps = plain.apps;
    this.connections = plain.connections;
    this.users = plain.users;
    this.associations = plain.associations;
    this.events = plain.events;
    this.org = plain.org;
    this.factors = plain.factors;
    this.passkeys = plain.passkeys;
    this.flows = plain.flows;
    this.codes = plain.codes;
    this.oidc = plain.oidc;
    const inTx: Store = {
      ...repositories(repos, null),
      clock,
      tx: (fn) => fn(inTx),
      seal: (p) => this.seal(p),
      unseal: (s) => this.unseal(s),
      // The copy is a backup of this connection, which waits for the unit of work to end: refused, not deadlocked.
      withThrowawayCopy: () =>
        Promise.reject(new IdpError('INTERNAL', 'a throwaway copy cannot be made inside a unit of work')),
    };
    this.inTx = inTx;
  }

  /**
   * Runs fn in one BEGIN IMMEDIATE transaction, all or nothing, holding this connection's mutex throughout: better-sqlite3
   * answers synchronously on one connection, so any other call made while fn awaits would land inside the transaction.
   * Other processes' writers wait on SQLite's busy timeout (STORE_BUSY past it: the prepared statements map it, db.ts).
   */
  async tx<T>(fn: (tx: Store) => Promise<T>): Promise<T> {
    await this.serial.acquire();
    try {
      this.db.prepare('BEGIN IMMEDIATE').run();
      try {
        const result = await fn(this.inTx);
        this.db.prepare('COMMIT').run();
        return result;
      } catch (err) {
        if (this.db.inTransaction) this.db.prepare('ROLLBACK').run();
        throw err;
      }
    } finally {
      this.serial.release();
    }
  }

  seal(plaintext: string): string {
    return seal(this.key(), plaintext);
  }

  unseal(sealed: string): string {
    return unseal(this.key({ create: false }), sealed);
  }

  /** The org's sealing key, created on first use by a seal; opening a sealed value never creates one. */
  private key(opts: { create: boolean } = { create: true }): Buffer {
    const path = join(this.home, SEAL_KEY_FILE);
    this.sealKey ??= opts.create ? loadOrCreateKey(path) : loadKey(path);
    return this.sealKey;
  }

  /**
   * Runs `use` on a throwaway copy of this organisation (SQLite's online backup into a private 0700 temp directory),
   * removed afterwards whatever happens, also on process.exit (how the CLI ends on SIGTERM). `idp check` runs on it.
   * The seal key stays in memory, so a copy that outlives a SIGKILL holds its secrets sealed, and the next run sweeps it.
   */
  async withThrowawayCopy<T>(use: (copy: SqliteStore) => Promise<T>): Promise<T> {
    sweepStaleCopies();
    const home = mkdtempSync(join(tmpdir(), `${COPY_PREFIX}${process.pid}-`));
    const remove = (): void => rmSync(home, { recursive: true, force: true });
    process.on('exit', remove);
    try {
      prepareHome(home);
      await this.backup(dbPath(home));
      const copy = openStore(home, { clock: this.clock, sealKey: this.key({ create: false }) });
      try {
        return await use(copy);
      } finally {
        copy.close();
      }
    } finally {
      process.off('exit', remove);
      remove();
    }
  }

  /** SQLite's online backup from this connection, with no unit of work open on it (its changes are not yet the org's). */
  private async backup(path: string): Promise<void> {
    await this.serial.acquire();
    try {
      await this.db.backup(path);
    } finally {
      this.serial.release();
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

const COPY_PREFIX = 'idp-copy-';

/**
 * Removes this user's throwaway copies whose idp is gone (killed with SIGKILL, which skips every clean-up):
 * `idp-copy-<pid>-*` in the temp directory, which other users may share.
 */
function sweepStaleCopies(): void {
  const dir = tmpdir();
  for (const name of readdirSync(dir)) {
    const pid = name.startsWith(COPY_PREFIX) ? /^(\d+)-/.exec(name.slice(COPY_PREFIX.length))?.[1] : undefined;
    if (pid === undefined || isRunning(Number(pid))) continue;
    const path = join(dir, name);
    if (lstatSync(path, { throwIfNoEntry: false })?.uid === process.getuid?.())
      rmSync(path, { recursive: true, force: true });
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // alive, but another user's
  }
}

export function openStore(
  home: string,
  opts: { readonly?: boolean; clock?: Clock; sealKey?: Buffer } = {},
): SqliteStore {
  const key = opts.sealKey;
  const sealer = key && ((plaintext: string): string => seal(key, plaintext));
  return new SqliteStore(openDb(home, { readonly: opts.readonly, seal: sealer }), home, opts.clock, key);
}

/** For inspection only (doctor, tests): no migration, no WAL switch, and SQLite refuses every write. */
export function openStoreReadOnly(home: string): SqliteStore {
  const readonly = true;
  return openStore(home, { readonly });
}
