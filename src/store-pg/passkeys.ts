// Passkeys (public keys only) and held enrolment challenges on PostgreSQL. A use's counter is stored by one conditional
// UPDATE and a challenge is taken by one DELETE ... RETURNING, so a racing second answer on any instance finds nothing.
import type { PasskeyRepository, PendingPasskeyChallenge, StoredPasskey } from '../ports.js';
import { type NewPasskey, PASSKEY_COLUMNS, type PasskeyRow, passkeyParams, toPasskey } from '../store-rows/passkeys.js';
import { placeholders, type Sql } from './sql.js';

export class PgPasskeyRepo implements PasskeyRepository {
  constructor(
    private readonly sql: Sql,
    private readonly now: () => string,
  ) {}

  async forUser(userId: string): Promise<StoredPasskey[]> {
    return (
      await this.sql.rows<PasskeyRow>('SELECT * FROM passkeys WHERE user_id = $1 ORDER BY created_at, id', [userId])
    ).map(toPasskey);
  }

  async byCredential(credentialId: string): Promise<StoredPasskey | undefined> {
    const row = await this.sql.row<PasskeyRow>('SELECT * FROM passkeys WHERE credential_id = $1', [credentialId]);
    return row && toPasskey(row);
  }

  async softwareHolders(aaguid: string): Promise<string[]> {
    const rows = await this.sql.rows<{ username: string }>(
      'SELECT DISTINCT u.username FROM passkeys p JOIN users u ON u.id = p.user_id WHERE p.software = 1 OR p.aaguid = $1 ORDER BY u.username',
      [aaguid],
    );
    return rows.map((r) => r.username);
  }

  async add(userId: string, c: NewPasskey): Promise<StoredPasskey | null> {
    const row = await this.sql.row<PasskeyRow>(
      `INSERT INTO passkeys (${PASSKEY_COLUMNS.join(', ')}) VALUES (${placeholders(PASSKEY_COLUMNS.length)})
       ON CONFLICT (credential_id) DO NOTHING RETURNING *`,
      passkeyParams(crypto.randomUUID(), userId, c, this.now(), null),
    );
    return row ? toPasskey(row) : null;
  }

  async recordUse(id: string, counter: number): Promise<boolean> {
    // A counter of 0 is an authenticator that keeps none (0/0 passes); any other must beat the stored one.
    const stored = await this.sql.changes(
      'UPDATE passkeys SET counter = $1, last_used_at = $2 WHERE id = $3 AND (counter < $1 OR ($1 = 0 AND counter = 0))',
      [counter, this.now(), id],
    );
    return stored === 1;
  }

  async rename(userId: string, id: string, name: string): Promise<boolean> {
    return (
      (await this.sql.changes('UPDATE passkeys SET name = $1 WHERE user_id = $2 AND id = $3', [name, userId, id])) === 1
    );
  }

  async remove(userId: string, id?: string): Promise<number> {
    return id
      ? this.sql.changes('DELETE FROM passkeys WHERE user_id = $1 AND id = $2', [userId, id])
      : this.sql.changes('DELETE FROM passkeys WHERE user_id = $1', [userId]);
  }

  async holdChallenge(userId: string, pending: PendingPasskeyChallenge): Promise<string> {
    const id = crypto.randomUUID();
    // Expired ones are dropped here, so the table holds only live enrolments.
    await this.sql.changes('DELETE FROM passkey_challenges WHERE expires_at <= $1', [this.now()]);
    await this.sql.changes(
      'INSERT INTO passkey_challenges (id, user_id, challenge, origin, expires_at) VALUES ($1, $2, $3, $4, $5)',
      [id, userId, pending.challenge, pending.origin, pending.expiresAt],
    );
    return id;
  }

  async takeChallenge(userId: string, id: string): Promise<PendingPasskeyChallenge | undefined> {
    const row = await this.sql.row<PendingPasskeyChallenge>(
      'DELETE FROM passkey_challenges WHERE id = $1 AND user_id = $2 RETURNING challenge, origin, expires_at AS "expiresAt"',
      [id, userId],
    );
    return row && row.expiresAt > this.now() ? row : undefined;
  }
}
