// Writes `users export` as a JSON array or CSV: every user with what an import into another organisation needs to
// restore them (id, source, times, status, linked connections, MFA enrolments, passkeys), password hashes and the
// sealed MFA secrets only when asked. JSON streams row by row so 100k users never sit in memory as one string.
import type { Writable } from 'node:stream';
import type { ExportedUser } from '../ports.js';
import { userView } from '../app/views.js';

export interface ExportOptions {
  /** Include scrypt password hashes. */
  hashes: boolean;
  /** Include MFA secrets, sealed with the organisation's key (secret.key): only an org holding that key can import them. */
  secrets: boolean;
}

const CSV_COLUMNS = [
  'id',
  'username',
  'email',
  'email_verified',
  'name',
  'given_name',
  'family_name',
  'picture',
  'status',
  'source',
  'created_at',
  'updated_at',
  'last_login_at',
  'associations',
  'mfa',
  'passkeys',
];

function csvCell(value: unknown): string {
  const text =
    value === null || value === undefined ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

async function write(out: Writable, chunk: string): Promise<void> {
  if (!out.write(chunk)) await new Promise((resolve) => out.once('drain', resolve));
}

/** One user as an import record (core/schemas/user-record.ts reads every field back). */
function record(u: ExportedUser, opts: ExportOptions): Record<string, unknown> {
  return {
    ...userView(u),
    ...(opts.hashes ? { password_hash: u.passwordHash } : {}),
    associations: u.associations.map((a) => ({
      connection: a.connection,
      subject: a.subject,
      linked_at: a.linkedAt,
      last_login_at: a.lastLoginAt,
    })),
    mfa: u.factors.map((f) => ({
      type: f.type,
      created_at: f.createdAt,
      confirmed_at: f.confirmedAt,
      ...(opts.secrets ? { secret_sealed: f.secretSealed, last_used_step: f.lastUsedStep } : {}),
    })),
    passkeys: u.passkeys.map((p) => ({
      id: p.id,
      credential_id: p.credentialId,
      public_key: p.publicKey,
      counter: p.counter,
      transports: p.transports,
      aaguid: p.aaguid,
      name: p.name,
      software: p.software,
      created_at: p.createdAt,
      last_used_at: p.lastUsedAt,
    })),
  };
}

export async function writeExport(
  users: AsyncIterable<ExportedUser>,
  format: 'json' | 'csv',
  opts: ExportOptions,
  out: Writable,
): Promise<void> {
  if (format === 'json') {
    let first = true;
    await write(out, '[');
    for await (const u of users) {
      await write(out, `${first ? '\n' : ',\n'}  ${JSON.stringify(record(u, opts))}`);
      first = false;
    }
    await write(out, first ? ']\n' : '\n]\n');
    return;
  }
  // The header names every attribute key, so CSV reads all users before writing the first row.
  const columns = opts.hashes ? [...CSV_COLUMNS, 'password_hash'] : CSV_COLUMNS;
  const attributeKeys = new Set<string>();
  const rows: ExportedUser[] = [];
  for await (const u of users) {
    rows.push(u);
    for (const k of Object.keys(u.attributes)) attributeKeys.add(k);
  }
  const extra = [...attributeKeys].sort();
  await write(out, `${[...columns, ...extra].join(',')}\n`);
  for (const u of rows) {
    const view = record(u, opts);
    const lists = {
      associations: (view.associations as unknown[]).length ? view.associations : null,
      mfa: (view.mfa as unknown[]).length ? view.mfa : null,
      passkeys: (view.passkeys as unknown[]).length ? view.passkeys : null,
    };
    await write(
      out,
      `${[...columns.map((c) => csvCell(c in lists ? lists[c as keyof typeof lists] : view[c])), ...extra.map((k) => csvCell(u.attributes[k]))].join(',')}\n`,
    );
  }
}
