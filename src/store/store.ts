// The organisation store: one SQLite file per data directory, its repositories, and immediate transactions.
import { lstatSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Db } from './db.js';
import { dbPath, isBusy, openDb, prepareHome, storeBusy } from './db.js';
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
import { loadKey, loadOrCreateKey, seal, SEAL_KEY_FILE, unseal } from './seal.js';
import type { Clock, Store } from '../ports.js';

export { SEAL_KEY_FILE };

/** The Store port on one SQLite file; `db` and `home` are for the composition root and doctor only. */
export class SqliteStore implements Store {
  readonly apps: AppRepo;
  readonly connections: ConnectionRepo;
  readonly users: UserRepo;
  readonly associations: AssociationRepo;
  readonly events: EventRepo;
  readonly org: OrgRepo;
  readonly factors: FactorRepo;
  readonly passkeys: PasskeyRepo;
  readonly flows: FlowRepo;
  readonly codes: CodeRepo;
  readonly oidc: OidcModelRepo;
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
    this.apps = new AppRepo(db, now, secrets);
    this.connections = new ConnectionRepo(db, now, secrets);
    this.users = new UserRepo(db, now);
    this.associations = new AssociationRepo(db, now);
    this.events = new EventRepo(db, now);
    this.org = new OrgRepo(db, secrets);
    this.factors = new FactorRepo(db, now);
    this.passkeys = new PasskeyRepo(db, now);
    this.codes = new CodeRepo(db, now);
    this.flows = new FlowRepo(db, now);
    this.oidc = new OidcModelRepo(db);
  }

  /** Runs fn in one BEGIN IMMEDIATE transaction: all or nothing, and writers queue instead of failing mid-way. */
  tx<T>(fn: () => T): T {
    try {
      return this.db.transaction(fn).immediate();
    } catch (err) {
      throw isBusy(err) ? storeBusy(this.home, err) : err;
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
      await this.db.backup(dbPath(home));
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
