// The organisation store: one SQLite file per data directory, its repositories, and immediate transactions.
import { chmodSync, copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Db } from './db.js';
import { dbPath, openDb, prepareHome } from './db.js';
import { AppRepo } from './apps.js';
import { AssociationRepo } from './associations.js';
import { ConnectionRepo } from './connections.js';
import { EventRepo } from './events.js';
import { FactorRepo } from './factors.js';
import { FlowRepo } from './flows.js';
import { CodeRepo } from './codes.js';
import { OrgRepo } from './org.js';
import { UserRepo } from './users.js';
import { loadOrCreateKey, seal, unseal } from './seal.js';
import type { Clock, Store } from '../ports.js';

export const SEAL_KEY_FILE = 'secret.key';

/** The Store port on one SQLite file; `db` and `home` are for the composition root and doctor only. */
export class SqliteStore implements Store {
  readonly apps: AppRepo;
  readonly connections: ConnectionRepo;
  readonly users: UserRepo;
  readonly associations: AssociationRepo;
  readonly events: EventRepo;
  readonly org: OrgRepo;
  readonly factors: FactorRepo;
  readonly flows: FlowRepo;
  readonly codes: CodeRepo;
  private sealKey: Buffer | undefined;

  constructor(readonly db: Db, readonly home: string, readonly clock: Clock = () => new Date()) {
    const now = (): string => this.clock().toISOString();
    this.apps = new AppRepo(db, now);
    this.connections = new ConnectionRepo(db, now, { seal: (p) => this.seal(p), unseal: (s) => this.unseal(s) });
    this.users = new UserRepo(db, now);
    this.associations = new AssociationRepo(db, now);
    this.events = new EventRepo(db, now);
    this.org = new OrgRepo(db);
    this.factors = new FactorRepo(db, now);
    this.codes = new CodeRepo(db, now);
    this.flows = new FlowRepo(db, now);
  }

  /** Runs fn in one BEGIN IMMEDIATE transaction: all or nothing, and writers queue instead of failing mid-way. */
  tx<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  seal(plaintext: string): string {
    return seal(this.key(), plaintext);
  }

  unseal(sealed: string): string {
    return unseal(this.key(), sealed);
  }

  private key(): Buffer {
    this.sealKey ??= loadOrCreateKey(join(this.home, SEAL_KEY_FILE));
    return this.sealKey;
  }

  /**
   * Runs `use` on a throwaway copy of this organisation (SQLite's online backup into a private 0700 temp directory,
   * with the seal key so sealed secrets still open), removed afterwards whatever happens. `idp check` runs on it.
   */
  async withThrowawayCopy<T>(use: (copy: SqliteStore) => Promise<T>): Promise<T> {
    const home = mkdtempSync(join(tmpdir(), 'idp-copy-'));
    try {
      prepareHome(home);
      await this.db.backup(dbPath(home));
      const key = join(this.home, SEAL_KEY_FILE);
      if (existsSync(key)) {
        copyFileSync(key, join(home, SEAL_KEY_FILE));
        chmodSync(join(home, SEAL_KEY_FILE), 0o600);
      }
      const copy = openStore(home, { clock: this.clock });
      try {
        return await use(copy);
      } finally {
        copy.close();
      }
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

export function openStore(home: string, opts: { readonly?: boolean; clock?: Clock } = {}): SqliteStore {
  return new SqliteStore(openDb(home, opts), home, opts.clock);
}

/** For inspection only (doctor, tests): no migration, no WAL switch, and SQLite refuses every write. */
export function openStoreReadOnly(home: string): SqliteStore {
  const readonly = true;
  return openStore(home, { readonly });
}
