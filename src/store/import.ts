// Bulk user import: every record, with its linked connections and MFA factors, in one immediate transaction, so a bad
// record leaves the store as it was. A record from `users export` comes back as it was: id, source, times, links,
// factors, passkeys.
import { IdpError } from '../core/errors.js';
import type { UserRecord } from '../core/user-records.js';
import { type ImportResult, importEvent, newImportResult } from '../store-rows/import.js';
import { USERNAME_RULE_BROKEN, USERNAME_RULE_ON_INSERT } from './migrations.js';
import { passkeyParams } from '../store-rows/passkeys.js';
import { INSERT_PASSKEY_SQL } from './passkeys.js';
import type { Db } from './db.js';
import type { SqliteStore as Store } from './store.js';
import { restoreStatement } from './users.js';

export async function importUsers(
  store: Store,
  records: UserRecord[],
  file: string,
  actor: string,
): Promise<ImportResult> {
  const insert = restoreStatement(store.db);
  const link = store.db.prepare(
    "INSERT INTO associations (connection, subject, user_id, linked_at, last_login_at, last_claims) VALUES (?, ?, ?, ?, ?, '{}')",
  );
  const factor = store.db.prepare(
    "INSERT INTO mfa_factors (id, user_id, type, secret_sealed, last_used_step, created_at, confirmed_at) VALUES (?, ?, 'totp', ?, ?, ?, ?)",
  );
  const passkey = store.db.prepare(INSERT_PASSKEY_SQL);
  const at = store.clock().toISOString();
  return withBulkSettings(store, () =>
    store.tx(async (tx) => {
      const result = newImportResult(records.length);
      usernameRuleCheckedOnce(store, file, () => {
        for (const r of records) {
          try {
            const id = r.id ?? crypto.randomUUID();
            insert(id, r, r.source, {
              createdAt: r.createdAt ?? at,
              updatedAt: r.updatedAt ?? at,
              lastLoginAt: r.lastLoginAt,
            });
            for (const a of r.associations) link.run(a.connection, a.subject, id, a.linkedAt ?? at, a.lastLoginAt);
            result.associations += r.associations.length;
            for (const f of r.mfa) {
              if (f.secretSealed === null) continue;
              factor.run(crypto.randomUUID(), id, f.secretSealed, f.lastUsedStep, f.createdAt ?? at, f.confirmedAt);
              result.factors++;
            }
            if (r.mfa.some((f) => f.secretSealed === null)) result.mfaToEnrol.push(r.username);
            for (const p of r.passkeys) {
              passkey.run(...passkeyParams(p.id ?? crypto.randomUUID(), id, p, p.createdAt ?? at, p.lastUsedAt));
              result.passkeys++;
            }
            if (r.passwordLeftBehind) result.passwordToSet.push(r.username);
          } catch (err) {
            throw conflict(err, r, file);
          }
        }
      });
      await tx.events.recordConfig(importEvent(result, file, actor));
      return result;
    }),
  );
}

/**
 * The trigger guarding "a username with an @ is its user's own email" costs about as much per row as the insert
 * itself. Inside the import's transaction it is lifted, the rule checked once over the whole table, and the trigger
 * put back: the store still refuses a broken row (the whole import rolls back), at the cost of one scan.
 */
function usernameRuleCheckedOnce(store: Store, file: string, insertAll: () => void): void {
  store.db.exec('DROP TRIGGER users_email_username_insert');
  insertAll();
  const broken = store.db.prepare(USERNAME_RULE_BROKEN).pluck().get() as string | undefined;
  if (broken !== undefined) {
    throw new IdpError(
      'IMPORT_INVALID',
      `${file}: username '${broken}' looks like an email address but is not the user's email`,
      "use a username without @, or the user's own email; nothing was imported",
    );
  }
  store.db.exec(USERNAME_RULE_ON_INSERT);
}

/** The page cache of an import's connection, in KiB (SQLite's notation: negative), while the import runs. */
const IMPORT_CACHE_KIB = -64 * 1024;

/**
 * The connection settings one big transaction runs faster with, restored afterwards. It grows the WAL by tens of MB:
 * checkpointing while it grows cost more, measured, than the one checkpoint the connection makes when it closes. Its
 * rows land all over the primary key's index (ids are random), so SQLite's default 2 MB page cache kept spilling
 * changed pages to the WAL and reading them back: with 64 MB (allocated only as pages are used) 100,000 users went in
 * about 40% faster, measured.
 */
async function withBulkSettings<T>(store: Store, run: () => Promise<T>): Promise<T> {
  const restore = bulkSettings(store.db);
  try {
    return await run();
  } finally {
    restore();
  }
}

/** Applies those settings to `db` (imports and `idp store copy`'s load); returns what puts the previous ones back. */
export function bulkSettings(db: Db): () => void {
  const pages = db.pragma('wal_autocheckpoint', { simple: true }) as number;
  const cache = db.pragma('cache_size', { simple: true }) as number;
  db.pragma('wal_autocheckpoint = 0');
  db.pragma(`cache_size = ${IMPORT_CACHE_KIB}`);
  return () => {
    db.pragma(`cache_size = ${cache}`);
    db.pragma(`wal_autocheckpoint = ${pages}`);
  };
}

/** A constraint the record broke, named by its line: which one SQLite says in its message. */
function conflict(err: unknown, r: UserRecord, file: string): unknown {
  const message = (err as Error).message ?? '';
  const what = message.includes('associations.connection')
    ? 'one of its linked connections is already linked to another user'
    : message.includes('mfa_factors')
      ? 'the record has more than one TOTP factor'
      : message.includes('passkeys.credential_id')
        ? 'one of its passkeys is already registered (in the store or earlier in the file)'
        : message.includes('passkeys.id')
          ? 'one of its passkey ids already exists (in the store or earlier in the file)'
          : message.includes('users.id')
            ? `id ${r.id} already exists (in the store or earlier in the file)`
            : message.includes('users.email')
              ? `email ${r.email} already exists (in the store or earlier in the file)`
              : message.includes('users.username')
                ? `username ${r.username} already exists (in the store or earlier in the file)`
                : undefined;
  if (!message.includes('UNIQUE constraint failed') || what === undefined) return err;
  return new IdpError(
    'IMPORT_INVALID',
    `${file}:${r.line}: ${what}`,
    'fix that record and import again; nothing was imported',
  );
}
