// Repository for associations: the link (connection, upstream subject) -> local user, the only key for a returning federated user.
import type { Association } from '../core/types.js';
import { type AssociationRow, toAssociation } from '../store-rows/associations.js';
import type { Db } from './db.js';

export class AssociationRepo {
  constructor(
    private readonly db: Db,
    private readonly now: () => string,
  ) {}

  get(connection: string, subject: string): Association | undefined {
    const row = this.db
      .prepare('SELECT * FROM associations WHERE connection = ? AND subject = ?')
      .get(connection, subject) as AssociationRow | undefined;
    return row && toAssociation(row);
  }

  /** Units of work run one at a time (BEGIN IMMEDIATE): no link can land during one. */
  holdNewLinks(): void {}

  forUser(userId: string): Association[] {
    return (
      this.db
        .prepare('SELECT * FROM associations WHERE user_id = ? ORDER BY connection')
        .all(userId) as AssociationRow[]
    ).map(toAssociation);
  }

  insert(a: { connection: string; subject: string; userId: string; claims: Record<string, unknown> }): void {
    const at = this.now();
    this.db
      .prepare(
        'INSERT INTO associations (connection, subject, user_id, linked_at, last_login_at, last_claims) VALUES (?, ?, ?, ?, ?, ?)',
      )
      .run(a.connection, a.subject, a.userId, at, at, JSON.stringify(a.claims));
  }

  recordLogin(connection: string, subject: string, claims: Record<string, unknown>): void {
    this.db
      .prepare('UPDATE associations SET last_login_at = ?, last_claims = ? WHERE connection = ? AND subject = ?')
      .run(this.now(), JSON.stringify(claims), connection, subject);
  }

  delete(connection: string, subject: string): void {
    this.db.prepare('DELETE FROM associations WHERE connection = ? AND subject = ?').run(connection, subject);
  }

  /** Forgets every subject of a connection (its users stay); returns how many went. */
  deleteForConnection(connection: string): number {
    return this.db.prepare('DELETE FROM associations WHERE connection = ?').run(connection).changes;
  }

  countForConnection(connection: string): number {
    return this.db.prepare('SELECT count(*) FROM associations WHERE connection = ?').pluck().get(connection) as number;
  }
}
