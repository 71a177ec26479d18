// Local users on PostgreSQL: lookups case-insensitive as SQLite's NOCASE columns are (lower() on "C" text, indexed),
// keyset pages on the folded username, and the failure counters bumped in one statement each, so instances share them.
import type { ProfilePatch } from '../core/claims.js';
import { IdpError } from '../core/errors.js';
import type { User, UserStatus } from '../core/types.js';
import type { ExportedUser, ListQuery, NewUser, UserRepository } from '../ports.js';
import {
  cursorOf,
  cursorUsername,
  type ExportRow,
  PROFILE_COLUMNS,
  profileParams,
  toExportedUser,
  toUser,
  USER_COLUMNS,
  type UserRow,
  userParams,
} from '../store-rows/users.js';
import { placeholders, type Sql } from './sql.js';

const INSERT_SQL = `INSERT INTO users (${USER_COLUMNS.join(', ')}) VALUES (${placeholders(USER_COLUMNS.length)})`;
const PROFILE_SETS = PROFILE_COLUMNS.map((c, i) => `${c} = $${i + 1}`);
const UPDATE_PROFILE_SQL = `UPDATE users SET ${PROFILE_SETS.join(', ')} WHERE id = $${PROFILE_SETS.length + 1}`;

/** The users_email_username CHECK (migration 6) refusing a write, as the IdpError SQLite's trigger gives. */
export function identifierRule(err: unknown): unknown {
  const e = err as { code?: string; constraint?: string; message?: string };
  if (e.code !== '23514' || e.constraint !== 'users_email_username') return err;
  return new IdpError(
    'INVALID_VALUE',
    "a username with an @ must be the user's own email",
    "a username with an @ must be exactly the user's email address",
    { cause: err },
  );
}

/** Rows read per query when iterating every user: pages on the folded username, so no cursor holds a connection. */
const BATCH = 1000;

export class PgUserRepo implements UserRepository {
  constructor(
    private readonly sql: Sql,
    private readonly now: () => string,
  ) {}

  /** By id, else username, else email (the last two case-insensitive): one query, ranked in that order. */
  async find(ref: string): Promise<User | undefined> {
    const row = await this.sql.row<UserRow>(
      `SELECT * FROM users WHERE id = $1 OR lower(username) = lower($1) OR lower(email) = lower($1)
       ORDER BY CASE WHEN id = $1 THEN 0 WHEN lower(username) = lower($1) THEN 1 ELSE 2 END LIMIT 1`,
      [ref],
    );
    return row && toUser(row);
  }

  /** Same first character (folded) and a length within 2, read from the folded index's range. */
  async lookalikes(ref: string): Promise<string[]> {
    const first = ref.slice(0, 1);
    if (!first) return [];
    const column = ref.includes('@') ? 'email' : 'username';
    const rows = await this.sql.rows<{ v: string }>(
      `SELECT ${column} AS v FROM users WHERE lower(${column}) >= lower($1) AND lower(${column}) < lower($2)
       AND length(${column}) BETWEEN $3 AND $4 LIMIT 10000`,
      [first, `${first}\u{10ffff}`, ref.length - 2, ref.length + 2],
    );
    return rows.map((r) => r.v);
  }

  async byId(id: string): Promise<User | undefined> {
    const row = await this.sql.row<UserRow>('SELECT * FROM users WHERE id = $1', [id]);
    return row && toUser(row);
  }

  async byEmail(email: string): Promise<User | undefined> {
    const row = await this.sql.row<UserRow>('SELECT * FROM users WHERE lower(email) = lower($1)', [email]);
    return row && toUser(row);
  }

  async identifierTaken(value: string): Promise<boolean> {
    const row = await this.sql.row(
      'SELECT 1 FROM users WHERE id = $1 OR lower(username) = lower($1) OR lower(email) = lower($1) LIMIT 1',
      [value],
    );
    return row !== undefined;
  }

  async count(): Promise<number> {
    return (await this.sql.row<{ n: number }>('SELECT count(*) AS n FROM users'))!.n;
  }

  async passwordState(id: string): Promise<{ hash: string | null; failedLogins: number; mfaFailures: number }> {
    const row = await this.sql.row<{ password_hash: string | null; failed_logins: number; mfa_failures: number }>(
      'SELECT password_hash, failed_logins, mfa_failures FROM users WHERE id = $1',
      [id],
    );
    return {
      hash: row?.password_hash ?? null,
      failedLogins: row?.failed_logins ?? 0,
      mfaFailures: row?.mfa_failures ?? 0,
    };
  }

  /** Keyset pagination on the folded username (the cursor is the last username, opaque), as SQLite's NOCASE order. */
  async list(query: ListQuery): Promise<{ users: User[]; next: string | null }> {
    const where: string[] = [];
    const params: unknown[] = [];
    const when = (condition: (n: number) => string, value: unknown): void => {
      params.push(value);
      where.push(condition(params.length));
    };
    if (query.source) when((n) => `source = $${n}`, query.source);
    if (query.search) {
      // SQLite's LIKE ignores ASCII case; lower() on "C" text does the same.
      const pattern = `%${query.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      when(
        (n) =>
          `(lower(username) LIKE lower($${n}) ESCAPE '\\' OR lower(email) LIKE lower($${n}) ESCAPE '\\' OR lower(name) LIKE lower($${n}) ESCAPE '\\')`,
        pattern,
      );
    }
    if (query.after) when((n) => `lower(username) > lower($${n})`, cursorUsername(query.after));
    params.push(query.limit + 1);
    const filter = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const rows = await this.sql.rows<UserRow>(
      `SELECT * FROM users ${filter} ORDER BY lower(username) LIMIT $${params.length}`,
      params,
    );
    const more = rows.length > query.limit;
    const page = rows.slice(0, query.limit).map(toUser);
    return { users: page, next: more ? cursorOf(page[page.length - 1]!.username) : null };
  }

  async *iterate(): AsyncIterable<User & { passwordHash: string | null }> {
    for await (const row of this.batches<UserRow>('SELECT * FROM users'))
      yield { ...toUser(row), passwordHash: row.password_hash };
  }

  /** As SQLite's: the links, factors and passkeys of each user ride along as JSON, in the same orders. */
  async *iterateForExport(): AsyncIterable<ExportedUser> {
    const sql = `SELECT u.*,
        (SELECT coalesce(json_agg(json_build_object('connection', a.connection, 'subject', a.subject, 'linkedAt', a.linked_at, 'lastLoginAt', a.last_login_at) ORDER BY a.connection, a.subject), '[]')::text
           FROM associations a WHERE a.user_id = u.id) AS links,
        (SELECT coalesce(json_agg(json_build_object('type', f.type, 'createdAt', f.created_at, 'confirmedAt', f.confirmed_at, 'secretSealed', f.secret_sealed, 'lastUsedStep', f.last_used_step) ORDER BY f.created_at, f.id), '[]')::text
           FROM mfa_factors f WHERE f.user_id = u.id) AS factors,
        (SELECT coalesce(json_agg(json_build_object('id', p.id, 'credentialId', p.credential_id, 'publicKey', p.public_key, 'counter', p.counter, 'transports', p.transports::json, 'aaguid', p.aaguid, 'name', p.name, 'software', p.software = 1, 'createdAt', p.created_at, 'lastUsedAt', p.last_used_at) ORDER BY p.created_at, p.id), '[]')::text
           FROM passkeys p WHERE p.user_id = u.id) AS passkeys
      FROM users u`;
    for await (const row of this.batches<ExportRow>(sql, 'u.')) yield toExportedUser(row);
  }

  /** `select` (over users, aliased by `prefix`) in folded-username order, BATCH rows per query. */
  private async *batches<R extends UserRow>(select: string, prefix = ''): AsyncIterable<R> {
    const key = `lower(${prefix}username)`;
    let after: string | null = null;
    for (;;) {
      const rows: R[] =
        after === null
          ? await this.sql.rows<R>(`${select} ORDER BY ${key} LIMIT $1`, [BATCH])
          : await this.sql.rows<R>(`${select} WHERE ${key} > lower($1) ORDER BY ${key} LIMIT $2`, [after, BATCH]);
      yield* rows;
      if (rows.length < BATCH) return;
      after = rows[rows.length - 1]!.username;
    }
  }

  async insert(user: NewUser): Promise<User> {
    const id = user.id ?? crypto.randomUUID();
    const at = this.now();
    try {
      await this.sql.changes(
        INSERT_SQL,
        userParams(id, user, user.source, { createdAt: at, updatedAt: at, lastLoginAt: null }),
      );
    } catch (err) {
      throw identifierRule(err);
    }
    return (await this.byId(id))!;
  }

  async updateProfile(id: string, patch: ProfilePatch): Promise<void> {
    const current = await this.byId(id);
    if (!current) return;
    try {
      await this.sql.changes(UPDATE_PROFILE_SQL, [...profileParams({ ...current, ...patch }, this.now()), id]);
    } catch (err) {
      throw identifierRule(err);
    }
  }

  /** Any change of status starts both failure counters (password and MFA) afresh. */
  async setStatus(id: string, status: UserStatus): Promise<void> {
    await this.sql.changes(
      'UPDATE users SET status = $1, failed_logins = 0, mfa_failures = 0, updated_at = $2 WHERE id = $3',
      [status, this.now(), id],
    );
  }

  async unlock(id: string): Promise<void> {
    await this.sql.changes(
      "UPDATE users SET status = 'active', failed_logins = 0, mfa_failures = 0, updated_at = $1 WHERE id = $2",
      [this.now(), id],
    );
  }

  async setPasswordHash(id: string, hash: string): Promise<void> {
    await this.sql.changes('UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3', [
      hash,
      this.now(),
      id,
    ]);
  }

  async recordFailedLogin(id: string): Promise<number> {
    const row = await this.sql.row<{ n: number }>(
      'UPDATE users SET failed_logins = failed_logins + 1 WHERE id = $1 RETURNING failed_logins AS n',
      [id],
    );
    return row?.n as number;
  }

  async recordFailedMfa(id: string): Promise<number> {
    const row = await this.sql.row<{ n: number }>(
      'UPDATE users SET mfa_failures = mfa_failures + 1 WHERE id = $1 RETURNING mfa_failures AS n',
      [id],
    );
    return row?.n as number;
  }

  async recordMfaSuccess(id: string): Promise<void> {
    await this.sql.changes('UPDATE users SET mfa_failures = 0 WHERE id = $1', [id]);
  }

  async recordLogin(id: string): Promise<void> {
    await this.sql.changes('UPDATE users SET last_login_at = $1, failed_logins = 0 WHERE id = $2', [this.now(), id]);
  }

  async delete(id: string): Promise<void> {
    await this.sql.changes('DELETE FROM users WHERE id = $1', [id]);
  }
}
