// A throwaway copy of an organisation (SQLite's online backup into a private temp directory, 0700 with a 0600 file,
// plus the seal key so sealed secrets still open), removed afterwards whatever happens. `idp check` runs on it.
import { chmodSync, copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dbPath, prepareHome } from './db.js';
import { openStore, SEAL_KEY_FILE, type Store } from './store.js';

export async function withCopy<T>(store: Store, run: (copy: Store) => Promise<T>): Promise<T> {
  const home = mkdtempSync(join(tmpdir(), 'idp-copy-'));
  try {
    prepareHome(home);
    await store.db.backup(dbPath(home));
    const key = join(store.home, SEAL_KEY_FILE);
    if (existsSync(key)) {
      copyFileSync(key, join(home, SEAL_KEY_FILE));
      chmodSync(join(home, SEAL_KEY_FILE), 0o600);
    }
    const copy = openStore(home, { clock: store.clock });
    try {
      return await run(copy);
    } finally {
      copy.close();
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}
