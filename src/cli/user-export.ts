// Writes `users export` as a JSON array or CSV, streaming row by row so 100k users never sit in memory as one string.
import type { Writable } from 'node:stream';
import type { User } from '../core/types.js';
import { userView } from '../app/views.js';

type ExportedUser = User & { passwordHash: string | null };

const CSV_COLUMNS = ['id', 'username', 'email', 'email_verified', 'name', 'given_name', 'family_name', 'picture', 'status', 'source', 'created_at', 'last_login_at'];

function csvCell(value: unknown): string {
  const text = value === null || value === undefined ? '' : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

async function write(out: Writable, chunk: string): Promise<void> {
  if (!out.write(chunk)) await new Promise((resolve) => out.once('drain', resolve));
}

export async function writeExport(users: Iterable<ExportedUser>, format: 'json' | 'csv', withHashes: boolean, out: Writable): Promise<void> {
  if (format === 'json') {
    let first = true;
    await write(out, '[');
    for (const u of users) {
      const record = { ...userView(u), ...(withHashes ? { password_hash: u.passwordHash } : {}) };
      await write(out, `${first ? '\n' : ',\n'}  ${JSON.stringify(record)}`);
      first = false;
    }
    await write(out, first ? ']\n' : '\n]\n');
    return;
  }
  const columns = withHashes ? [...CSV_COLUMNS, 'password_hash'] : CSV_COLUMNS;
  const attributeKeys = new Set<string>();
  const rows: ExportedUser[] = [];
  for (const u of users) {
    rows.push(u);
    for (const k of Object.keys(u.attributes)) attributeKeys.add(k);
  }
  const extra = [...attributeKeys].sort();
  await write(out, `${[...columns, ...extra].join(',')}\n`);
  for (const u of rows) {
    const view: Record<string, unknown> = { ...userView(u), password_hash: u.passwordHash };
    await write(out, `${[...columns.map((c) => csvCell(view[c])), ...extra.map((k) => csvCell(u.attributes[k]))].join(',')}\n`);
  }
}
