// Associations on PostgreSQL: the link (connection, upstream subject) -> local user, whose primary key is what makes
// two instances' concurrent first logins of one person end with one link.
import type { Association } from '../core/types.js';
import type { AssociationRepository } from '../ports.js';
import { type AssociationRow, toAssociation } from '../store-rows/associations.js';
import type { Sql } from './sql.js';

export class PgAssociationRepo implements AssociationRepository {
  constructor(
    private readonly sql: Sql,
    private readonly now: () => string,
  ) {}

  async get(connection: string, subject: string): Promise<Association | undefined> {
    const row = await this.sql.row<AssociationRow>(
      'SELECT * FROM associations WHERE connection = $1 AND subject = $2',
      [connection, subject],
    );
    return row && toAssociation(row);
  }

  async holdNewLinks(): Promise<void> {
    // SHARE ROW EXCLUSIVE conflicts with the ROW EXCLUSIVE an INSERT takes, and a LOCK takes no snapshot.
    await this.sql.changes('LOCK TABLE associations IN SHARE ROW EXCLUSIVE MODE');
  }

  async forUser(userId: string): Promise<Association[]> {
    const rows = await this.sql.rows<AssociationRow>(
      'SELECT * FROM associations WHERE user_id = $1 ORDER BY connection',
      [userId],
    );
    return rows.map(toAssociation);
  }

  async insert(a: {
    connection: string;
    subject: string;
    userId: string;
    claims: Record<string, unknown>;
  }): Promise<void> {
    const at = this.now();
    await this.sql.changes(
      'INSERT INTO associations (connection, subject, user_id, linked_at, last_login_at, last_claims) VALUES ($1, $2, $3, $4, $5, $6)',
      [a.connection, a.subject, a.userId, at, at, JSON.stringify(a.claims)],
    );
  }

  async recordLogin(connection: string, subject: string, claims: Record<string, unknown>): Promise<void> {
    await this.sql.changes(
      'UPDATE associations SET last_login_at = $1, last_claims = $2 WHERE connection = $3 AND subject = $4',
      [this.now(), JSON.stringify(claims), connection, subject],
    );
  }

  async delete(connection: string, subject: string): Promise<void> {
    await this.sql.changes('DELETE FROM associations WHERE connection = $1 AND subject = $2', [connection, subject]);
  }

  async deleteForConnection(connection: string): Promise<number> {
    return this.sql.changes('DELETE FROM associations WHERE connection = $1', [connection]);
  }

  async countForConnection(connection: string): Promise<number> {
    return (await this.sql.row<{ n: number }>('SELECT count(*) AS n FROM associations WHERE connection = $1', [
      connection,
    ]))!.n;
  }
}
