// Bulk user import on PostgreSQL: every record, with its linked connections, MFA factors and passkeys, in one unit of
// work of multi-row INSERTs, so a bad record leaves the store as it was; a conflict names the record's line.
import { IdpError } from '../core/errors.js';
import type { UserRecord } from '../core/user-records.js';
import { type ImportResult, importEvent, newImportResult } from '../store-rows/import.js';
import { PASSKEY_COLUMNS, passkeyParams } from '../store-rows/passkeys.js';
import { USER_COLUMNS, userParams } from '../store-rows/users.js';
import { placeholders, type Sql } from './sql.js';
import type { PgStore } from './store.js';

/** PostgreSQL binds at most 65535 parameters per statement; an INSERT carries as many rows as fit well under that. */
const MAX_PARAMS = 60000;

interface Table {
  sql: string;
  columns: number;
}

const USERS: Table = { sql: `INSERT INTO users (${USER_COLUMNS.join(', ')}) VALUES`, columns: USER_COLUMNS.length };
const LINKS: Table = {
  sql: 'INSERT INTO associations (connection, subject, user_id, linked_at, last_login_at, last_claims) VALUES',
  columns: 6,
};
const FACTORS: Table = {
  sql: 'INSERT INTO mfa_factors (id, user_id, type, secret_sealed, last_used_step, created_at, confirmed_at) VALUES',
  columns: 7,
};
const PASSKEYS: Table = {
  sql: `INSERT INTO passkeys (${PASSKEY_COLUMNS.join(', ')}) VALUES`,
  columns: PASSKEY_COLUMNS.length,
};

/** One row to insert, with the record it comes from (to name its line when the row breaks a constraint). */
interface Pending {
  record: UserRecord;
  params: unknown[];
}

export async function importUsers(
  store: PgStore,
  records: UserRecord[],
  file: string,
  actor: string,
): Promise<ImportResult> {
  const at = store.clock().toISOString();
  const result = newImportResult(records.length);
  const users: Pending[] = [];
  const links: Pending[] = [];
  const factors: Pending[] = [];
  const passkeys: Pending[] = [];
  for (const r of records) {
    const id = r.id ?? crypto.randomUUID();
    const times = { createdAt: r.createdAt ?? at, updatedAt: r.updatedAt ?? at, lastLoginAt: r.lastLoginAt };
    users.push({ record: r, params: userParams(id, r, r.source, times) });
    for (const a of r.associations)
      links.push({ record: r, params: [a.connection, a.subject, id, a.linkedAt ?? at, a.lastLoginAt, '{}'] });
    for (const f of r.mfa) {
      if (f.secretSealed === null) continue;
      const params = [
        crypto.randomUUID(),
        id,
        'totp',
        f.secretSealed,
        f.lastUsedStep,
        f.createdAt ?? at,
        f.confirmedAt,
      ];
      factors.push({ record: r, params });
    }
    if (r.mfa.some((f) => f.secretSealed === null)) result.mfaToEnrol.push(r.username);
    for (const p of r.passkeys)
      passkeys.push({
        record: r,
        params: passkeyParams(p.id ?? crypto.randomUUID(), id, p, p.createdAt ?? at, p.lastUsedAt),
      });
    if (r.passwordLeftBehind) result.passwordToSet.push(r.username);
  }
  result.associations = links.length;
  result.factors = factors.length;
  result.passkeys = passkeys.length;
  await store.tx(async (tx) => {
    const sql = (tx as PgStore).sql;
    for (const [table, rows] of [
      [USERS, users],
      [LINKS, links],
      [FACTORS, factors],
      [PASSKEYS, passkeys],
    ] as const)
      await insertAll(sql, table, rows, file);
    await tx.events.recordConfig(importEvent(result, file, actor));
  });
  return result;
}

async function insertAll(sql: Sql, table: Table, rows: Pending[], file: string): Promise<void> {
  const perInsert = Math.floor(MAX_PARAMS / table.columns);
  for (let start = 0; start < rows.length; start += perInsert) {
    const batch = rows.slice(start, start + perInsert);
    const tuples = batch.map((_, i) => `(${placeholders(table.columns, i * table.columns)})`);
    try {
      await sql.changes(
        `${table.sql} ${tuples.join(', ')}`,
        batch.flatMap((row) => row.params),
      );
    } catch (err) {
      throw refusal(err, batch, file);
    }
  }
}

/** A row that broke a constraint, as the import's refusal naming its record's line; any other error as it was. */
function refusal(err: unknown, batch: Pending[], file: string): unknown {
  const e = err as { code?: string; constraint?: string; detail?: string };
  if (e.code === '23514' && e.constraint === 'users_email_username') {
    const broken = batch.find(({ record: r }) => r.username.includes('@') && !sameText(r.email, r.username));
    return new IdpError(
      'IMPORT_INVALID',
      `${file}: username '${broken?.record.username ?? '?'}' looks like an email address but is not the user's email`,
      "use a username without @, or the user's own email; nothing was imported",
      { cause: err },
    );
  }
  if (e.code !== '23505') return err;
  const key = /\)=\((.*)\) already exists/.exec(e.detail ?? '')?.[1];
  const rule = UNIQUE_RULES[e.constraint ?? ''];
  if (key === undefined || rule === undefined) return err;
  // Rows go in as listed: of two in this batch holding the key the second broke it; one alone met it in the store
  // or in an earlier batch.
  const holders = batch.filter((row) => rule.holds(row.params, key));
  const record = holders[Math.min(1, holders.length - 1)]?.record ?? batch[0]!.record;
  return new IdpError(
    'IMPORT_INVALID',
    `${file}:${record.line}: ${rule.what(record)}`,
    'fix that record and import again; nothing was imported',
    { cause: err },
  );
}

/** ASCII case folded, as the "C" collation's lower() compares. */
function fold(text: string): string {
  return text.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

function sameText(a: string | null, b: string): boolean {
  return a !== null && fold(a) === fold(b);
}

/** Per unique index: whether a row's parameters hold the key PostgreSQL names, and what the refusal says. */
const UNIQUE_RULES: Record<
  string,
  { holds: (params: unknown[], key: string) => boolean; what: (r: UserRecord) => string }
> = {
  users_pkey: {
    holds: (p, key) => p[0] === key,
    what: (r) => `id ${r.id} already exists (in the store or earlier in the file)`,
  },
  users_username: {
    holds: (p, key) => fold(p[1] as string) === key,
    what: (r) => `username ${r.username} already exists (in the store or earlier in the file)`,
  },
  users_email: {
    holds: (p, key) => p[2] !== null && fold(p[2] as string) === key,
    what: (r) => `email ${r.email} already exists (in the store or earlier in the file)`,
  },
  associations_pkey: {
    holds: (p, key) => `${p[0]}, ${p[1]}` === key,
    what: () => 'one of its linked connections is already linked to another user',
  },
  mfa_factors_one_totp: {
    holds: (p, key) => p[1] === key,
    what: () => 'the record has more than one TOTP factor',
  },
  passkeys_pkey: {
    holds: (p, key) => p[0] === key,
    what: () => 'one of its passkey ids already exists (in the store or earlier in the file)',
  },
  passkeys_credential_id_key: {
    holds: (p, key) => p[2] === key,
    what: () => 'one of its passkeys is already registered (in the store or earlier in the file)',
  },
};
