// A users row on either engine: its columns, the User it reads as, the cells a new or restored user fills, and the
// opaque page cursor both stores print and read back.
import { IdpError } from '../core/errors.js';
import { hint } from '../core/fixes.js';
import type { User, UserStatus } from '../core/types.js';
import type { ExportedUser, NewUser } from '../ports.js';

export interface UserRow {
  id: string;
  username: string;
  email: string | null;
  email_verified: number;
  name: string | null;
  given_name: string | null;
  family_name: string | null;
  picture: string | null;
  attributes: string;
  password_hash: string | null;
  failed_logins: number;
  status: UserStatus;
  source: string;
  created_at: string;
  updated_at: string;
  last_login_at: string | null;
}

export function toUser(row: UserRow): User {
  return {
    id: row.id,
    username: row.username,
    email: row.email,
    emailVerified: row.email_verified === 1,
    name: row.name,
    givenName: row.given_name,
    familyName: row.family_name,
    picture: row.picture,
    attributes: JSON.parse(row.attributes) as Record<string, string>,
    hasPassword: row.password_hash !== null,
    status: row.status,
    source: row.source,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    lastLoginAt: row.last_login_at,
  };
}

/** A users row with what a lossless export adds, each list as the JSON array text the export query builds. */
export interface ExportRow extends UserRow {
  links: string;
  factors: string;
  passkeys: string;
}

export function toExportedUser(row: ExportRow): ExportedUser {
  return {
    ...toUser(row),
    passwordHash: row.password_hash,
    associations: JSON.parse(row.links),
    factors: JSON.parse(row.factors),
    passkeys: JSON.parse(row.passkeys),
  } as ExportedUser;
}

/** The columns a new or restored user fills, in userParams order. */
export const USER_COLUMNS = [
  'id',
  'username',
  'email',
  'email_verified',
  'name',
  'given_name',
  'family_name',
  'picture',
  'attributes',
  'password_hash',
  'status',
  'source',
  'created_at',
  'updated_at',
  'last_login_at',
] as const;

/** When a row was made, changed and last used: now for a new user, the exported times for a restored one. */
export interface RowTimes {
  createdAt: string;
  updatedAt: string;
  lastLoginAt: string | null;
}

/** A user's cells in USER_COLUMNS order, for the repository's insert and the bulk import alike. */
export function userParams(id: string, u: Omit<NewUser, 'id' | 'source'>, source: string, times: RowTimes): unknown[] {
  return [
    id,
    u.username,
    u.email,
    u.emailVerified ? 1 : 0,
    u.name ?? null,
    u.givenName ?? null,
    u.familyName ?? null,
    u.picture ?? null,
    JSON.stringify(u.attributes ?? {}),
    u.passwordHash ?? null,
    u.status ?? 'active',
    source,
    times.createdAt,
    times.updatedAt,
    times.lastLoginAt,
  ];
}

/** The columns a profile change rewrites, in profileParams order. */
export const PROFILE_COLUMNS = [
  'email',
  'email_verified',
  'name',
  'given_name',
  'family_name',
  'picture',
  'attributes',
  'updated_at',
] as const;

/** The changed user's profile cells in PROFILE_COLUMNS order, changed `at`. */
export function profileParams(next: User, at: string): unknown[] {
  return [
    next.email,
    next.emailVerified ? 1 : 0,
    next.name,
    next.givenName,
    next.familyName,
    next.picture,
    JSON.stringify(next.attributes),
    at,
  ];
}

/** The cursor of the page after `username`, the last one listed: opaque, so a caller cannot mistake it for a name. */
export function cursorOf(username: string): string {
  return Buffer.from(username).toString('base64url');
}

/** A cursor is what cursorOf printed; anything else (a typo, a truncated paste) is refused rather than read as a position. */
export function cursorUsername(cursor: string): string {
  const username = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!username || cursorOf(username) !== cursor) {
    throw new IdpError(
      'INVALID_VALUE',
      `'${cursor}' is not a page cursor`,
      hint`pass the cursor the previous page printed (its \`more:\` line, or \`next\` with ${{ kind: 'option', option: 'json' }})`,
    );
  }
  return username;
}
