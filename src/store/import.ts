// Bulk user import: every record in one immediate transaction, so a bad record leaves the store as it was.
import { IdpError } from '../core/errors.js';
import type { UserRecord } from '../core/user-records.js';
import type { SqliteStore as Store } from './store.js';

export function importUsers(store: Store, records: UserRecord[], file: string, actor: string): number {
  const insert = store.users.insertStatement();
  const at = store.clock().toISOString();
  withoutAutoCheckpoint(store, () =>
    store.tx(() => {
      for (const r of records) {
        try {
          insert(crypto.randomUUID(), r, 'local', at);
        } catch (err) {
          throw conflict(err, r, file);
        }
      }
      store.events.recordConfig({ actor, action: 'users.import', target: 'users', detail: `imported ${records.length} user(s) from ${file}`, before: null, after: { count: records.length } });
    }),
  );
  return records.length;
}

/**
 * One big transaction grows the WAL by tens of MB: checkpointing while it grows cost more, measured, than the one
 * checkpoint the connection makes when it closes.
 */
function withoutAutoCheckpoint(store: Store, run: () => void): void {
  const pages = store.db.pragma('wal_autocheckpoint', { simple: true }) as number;
  store.db.pragma('wal_autocheckpoint = 0');
  try {
    run();
  } finally {
    store.db.pragma(`wal_autocheckpoint = ${pages}`);
  }
}

function conflict(err: unknown, r: UserRecord, file: string): unknown {
  const message = (err as Error).message ?? '';
  if (!message.includes('UNIQUE constraint failed')) return err;
  const what = message.includes('users.email') ? `email ${r.email}` : `username ${r.username}`;
  return new IdpError('IMPORT_INVALID', `${file}:${r.line}: ${what} already exists (in the store or earlier in the file)`, 'fix that record and import again; nothing was imported');
}
