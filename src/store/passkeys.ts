// Repository for passkeys (WebAuthn credentials: public keys only) and the challenges of enrolments begun outside a
// flow. A use's counter is stored only if it is still the highest, and a held challenge is taken by deleting it, so a
// racing second answer finds nothing.
import type { PendingPasskeyChallenge, StoredPasskey } from '../ports.js';
import { type NewPasskey, PASSKEY_COLUMNS, type PasskeyRow, passkeyParams, toPasskey } from '../store-rows/passkeys.js';
import type { Db } from './db.js';

/** A new or imported passkey's INSERT, its parameters given by passkeyParams. */
export const INSERT_PASSKEY_SQL = `INSERT INTO passkeys (${PASSKEY_COLUMNS.join(', ')}) VALUES (${PASSKEY_COLUMNS.map(() => '?').join(', ')})`;

export class PasskeyRepo {
  constructor(
    private readonly db: Db,
    private readonly now: () => string,
  ) {}

  forUser(userId: string): StoredPasskey[] {
    return (
      this.db.prepare('SELECT * FROM passkeys WHERE user_id = ? ORDER BY created_at, id').all(userId) as PasskeyRow[]
    ).map(toPasskey);
  }

  byCredential(credentialId: string): StoredPasskey | undefined {
    const row = this.db.prepare('SELECT * FROM passkeys WHERE credential_id = ?').get(credentialId) as
      | PasskeyRow
      | undefined;
    return row && toPasskey(row);
  }

  softwareHolders(aaguid: string): string[] {
    const rows = this.db
      .prepare(
        'SELECT DISTINCT u.username FROM passkeys p JOIN users u ON u.id = p.user_id WHERE p.software = 1 OR p.aaguid = ? ORDER BY u.username',
      )
      .all(aaguid) as { username: string }[];
    return rows.map((r) => r.username);
  }

  add(userId: string, c: NewPasskey): StoredPasskey | null {
    const id = crypto.randomUUID();
    const inserted = this.db
      .prepare(`${INSERT_PASSKEY_SQL} ON CONFLICT (credential_id) DO NOTHING`)
      .run(...passkeyParams(id, userId, c, this.now(), null));
    return inserted.changes === 1 ? this.byCredential(c.credentialId)! : null;
  }

  recordUse(id: string, counter: number): boolean {
    // A counter of 0 is an authenticator that keeps none (0/0 passes); any other must beat the stored one.
    return (
      this.db
        .prepare(
          'UPDATE passkeys SET counter = ?, last_used_at = ? WHERE id = ? AND (counter < ? OR (? = 0 AND counter = 0))',
        )
        .run(counter, this.now(), id, counter, counter).changes === 1
    );
  }

  rename(userId: string, id: string, name: string): boolean {
    return (
      this.db.prepare('UPDATE passkeys SET name = ? WHERE user_id = ? AND id = ?').run(name, userId, id).changes === 1
    );
  }

  remove(userId: string, id?: string): number {
    return id
      ? this.db.prepare('DELETE FROM passkeys WHERE user_id = ? AND id = ?').run(userId, id).changes
      : this.db.prepare('DELETE FROM passkeys WHERE user_id = ?').run(userId).changes;
  }

  holdChallenge(userId: string, pending: PendingPasskeyChallenge): string {
    const id = crypto.randomUUID();
    // Expired ones are dropped here, so the table holds only live enrolments.
    this.db.prepare('DELETE FROM passkey_challenges WHERE expires_at <= ?').run(this.now());
    this.db
      .prepare('INSERT INTO passkey_challenges (id, user_id, challenge, origin, expires_at) VALUES (?, ?, ?, ?, ?)')
      .run(id, userId, pending.challenge, pending.origin, pending.expiresAt);
    return id;
  }

  takeChallenge(userId: string, id: string): PendingPasskeyChallenge | undefined {
    const row = this.db
      .prepare(
        'DELETE FROM passkey_challenges WHERE id = ? AND user_id = ? RETURNING challenge, origin, expires_at AS expiresAt',
      )
      .get(id, userId) as PendingPasskeyChallenge | undefined;
    return row && row.expiresAt > this.now() ? row : undefined;
  }
}
