// Repository for local users: lookup, keyset-paginated listing, bulk import, and status changes.
import type { ProfilePatch } from '../core/claims.js';
import { IdpError } from '../core/errors.js';
import type { User, UserStatus } from '../core/types.js';
import type { ExportedUser, ListQuery, NewUser } from '../ports.js';
import {
  cursorOf,
  cursorUsername,
  type ExportRow,
  PROFILE_COLUMNS,
  profileParams,
  type RowTimes,
  toExportedUser,
  toUser,
  USER_COLUMNS,
  type UserRow,
  userParams,
} from '../store-rows/users.js';
import type { Db } from './db.js';

const INSERT_SQL = `INSERT INTO users (${USER_COLUMNS.join(', ')}) VALUES (${USER_COLUMNS.map(() => '?').join(', ')})`;
const UPDATE_PROFILE_SQL = `UPDATE users SET ${PROFILE_COLUMNS.map((c) => `${c} = ?`).join(', ')} WHERE id = ?`;

/**
 * The migration 6 trigger's refusal as an IdpError. Use cases check the rule first with a clearer message: reaching
 * this means a path that forgot to, and the store still refuses rather than let one identifier name two accounts.
 */
function identifierRule(write: () => unknown): void {
  try {
    write();
  } catch (err) {
    if ((err as { code?: string }).code !== 'SQLITE_CONSTRAINT_TRIGGER') throw err;
    throw new IdpError(
      'INVALID_VALUE',
      (err as Error).message,
      "a username with an @ must be exactly the user's email address",
      { cause: err },
    );
  }
}

/**
 * A bound inserter for bulk import: one prepared statement, no read-back, the times given (a user restored from an
 * export keeps when it was made and last signed in); `source` apart so callers need not copy records.
 */
export function restoreStatement(
  db: Db,
): (id: string, user: Omit<NewUser, 'id' | 'source'>, source: string, times: RowTimes) => void {
  const statement = db.prepare(INSERT_SQL);
  return (id, u, source, times) => {
    statement.run(...userParams(id, u, source, times));
  };
}

/** The users repository, synchronous: the store's facade (store.ts) gives it the port's Promise-returning face. */
export class UserRepo {
  constructor(
    private readonly db: Db,
    private readonly now: () => string,
  ) {}

  /**
   * The one resolution rule for an identifier: the user with that id, else with that username, else with that email
   * (the last two case-insensitive). A username with an @ is always its user's own email (user-fields.ts, and the
   * migration 6 trigger), so the three lookups never name two different accounts.
   */
  find(ref: string): User | undefined {
    const row = (this.db.prepare('SELECT * FROM users WHERE id = ?').get(ref) ??
      this.db.prepare('SELECT * FROM users WHERE username = ?').get(ref) ??
      this.db.prepare('SELECT * FROM users WHERE email = ?').get(ref)) as UserRow | undefined;
    return row && toUser(row);
  }

  /**
   * Usernames (or, for a ref with an @, emails) that could be a typo of ref, for "did you mean": the same first
   * character and a length within 2, read from the column's NOCASE index rather than by scanning every user.
   */
  lookalikes(ref: string): string[] {
    const first = ref.slice(0, 1);
    if (!first) return [];
    const column = ref.includes('@') ? 'email' : 'username';
    return this.db
      .prepare(
        `SELECT ${column} FROM users WHERE ${column} >= ? AND ${column} < ? AND length(${column}) BETWEEN ? AND ? LIMIT 10000`,
      )
      .pluck()
      .all(first, `${first}\u{10ffff}`, ref.length - 2, ref.length + 2) as string[];
  }

  byId(id: string): User | undefined {
    const row = this.db.prepare('SELECT * FROM users WHERE id = ?').get(id) as UserRow | undefined;
    return row && toUser(row);
  }

  byEmail(email: string): User | undefined {
    const row = this.db.prepare('SELECT * FROM users WHERE email = ?').get(email) as UserRow | undefined;
    return row && toUser(row);
  }

  identifierTaken(value: string): boolean {
    return (
      this.db.prepare('SELECT 1 FROM users WHERE id = ? OR username = ? OR email = ?').get(value, value, value) !==
      undefined
    );
  }

  count(): number {
    return this.db.prepare('SELECT count(*) FROM users').pluck().get() as number;
  }

  passwordState(id: string): { hash: string | null; failedLogins: number; mfaFailures: number } {
    const row = this.db.prepare('SELECT password_hash, failed_logins, mfa_failures FROM users WHERE id = ?').get(id) as
      | { password_hash: string | null; failed_logins: number; mfa_failures: number }
      | undefined;
    return {
      hash: row?.password_hash ?? null,
      failedLogins: row?.failed_logins ?? 0,
      mfaFailures: row?.mfa_failures ?? 0,
    };
  }

  /** Keyset pagination on username (the cursor is the last username, opaque): stable under inserts, O(limit) per page. */
  list(query: ListQuery): { users: User[]; next: string | null } {
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.source) {
      where.push('source = ?');
      params.push(query.source);
    }
    if (query.search) {
      where.push("(username LIKE ? ESCAPE '\\' OR email LIKE ? ESCAPE '\\' OR name LIKE ? ESCAPE '\\')");
      const pattern = `%${query.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      params.push(pattern, pattern, pattern);
    }
    if (query.after) {
      where.push('username > ?');
      params.push(cursorUsername(query.after));
    }
    const sql = `SELECT * FROM users ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY username LIMIT ?`;
    const rows = this.db.prepare(sql).all(...params, query.limit + 1) as UserRow[];
    const more = rows.length > query.limit;
    const page = rows.slice(0, query.limit).map(toUser);
    return { users: page, next: more ? cursorOf(page[page.length - 1]!.username) : null };
  }

  /** One page of every user with its password hash, in username order after `after` (keyset: no cursor held open). */
  page(after: string | null, limit: number): (User & { passwordHash: string | null })[] {
    const rows = this.db
      .prepare('SELECT * FROM users WHERE username > ? ORDER BY username LIMIT ?')
      .all(after ?? '', limit) as UserRow[];
    return rows.map((row) => ({ ...toUser(row), passwordHash: row.password_hash }));
  }

  /**
   * One page of what a lossless export needs (password hash, linked connections, MFA factors with their sealed
   * secrets, passkeys), in username order after `after`: the links and factors ride along as JSON from one query.
   */
  exportPage(after: string | null, limit: number): ExportedUser[] {
    const sql = `SELECT u.*,
        (SELECT json_group_array(json_object('connection', a.connection, 'subject', a.subject, 'linkedAt', a.linked_at, 'lastLoginAt', a.last_login_at))
           FROM (SELECT * FROM associations WHERE user_id = u.id ORDER BY connection, subject) a) AS links,
        (SELECT json_group_array(json_object('type', f.type, 'createdAt', f.created_at, 'confirmedAt', f.confirmed_at, 'secretSealed', f.secret_sealed, 'lastUsedStep', f.last_used_step))
           FROM (SELECT * FROM mfa_factors WHERE user_id = u.id ORDER BY created_at, id) f) AS factors,
        (SELECT json_group_array(json_object('id', p.id, 'credentialId', p.credential_id, 'publicKey', p.public_key, 'counter', p.counter, 'transports', json(p.transports), 'aaguid', p.aaguid, 'name', p.name, 'software', json(CASE p.software WHEN 1 THEN 'true' ELSE 'false' END), 'createdAt', p.created_at, 'lastUsedAt', p.last_used_at))
           FROM (SELECT * FROM passkeys WHERE user_id = u.id ORDER BY created_at, id) p) AS passkeys
      FROM users u WHERE u.username > ? ORDER BY u.username LIMIT ?`;
    return (this.db.prepare(sql).all(after ?? '', limit) as ExportRow[]).map(toExportedUser);
  }

  insert(user: NewUser): User {
    const id = user.id ?? crypto.randomUUID();
    const at = this.now();
    const restore = restoreStatement(this.db);
    identifierRule(() => restore(id, user, user.source, { createdAt: at, updatedAt: at, lastLoginAt: null }));
    return this.byId(id)!;
  }

  updateProfile(id: string, patch: ProfilePatch): void {
    const current = this.byId(id);
    if (!current) return;
    const update = this.db.prepare(UPDATE_PROFILE_SQL);
    identifierRule(() => update.run(...profileParams({ ...current, ...patch }, this.now()), id));
  }

  /** Any change of status starts both failure counters (password and MFA) afresh. */
  setStatus(id: string, status: UserStatus): void {
    this.db
      .prepare('UPDATE users SET status = ?, failed_logins = 0, mfa_failures = 0, updated_at = ? WHERE id = ?')
      .run(status, this.now(), id);
  }

  /** Lifts a lockout: active again, with every failed-attempt counter back to zero. */
  unlock(id: string): void {
    this.db
      .prepare("UPDATE users SET status = 'active', failed_logins = 0, mfa_failures = 0, updated_at = ? WHERE id = ?")
      .run(this.now(), id);
  }

  setPasswordHash(id: string, hash: string): void {
    this.db.prepare('UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?').run(hash, this.now(), id);
  }

  recordFailedLogin(id: string): number {
    return this.db
      .prepare('UPDATE users SET failed_logins = failed_logins + 1 WHERE id = ? RETURNING failed_logins')
      .pluck()
      .get(id) as number;
  }

  recordFailedMfa(id: string): number {
    return this.db
      .prepare('UPDATE users SET mfa_failures = mfa_failures + 1 WHERE id = ? RETURNING mfa_failures')
      .pluck()
      .get(id) as number;
  }

  recordMfaSuccess(id: string): void {
    this.db.prepare('UPDATE users SET mfa_failures = 0 WHERE id = ?').run(id);
  }

  recordLogin(id: string): void {
    const at = this.now();
    this.db.prepare('UPDATE users SET last_login_at = ?, failed_logins = 0 WHERE id = ?').run(at, id);
  }

  delete(id: string): void {
    this.db.prepare('DELETE FROM users WHERE id = ?').run(id);
  }
}
