// Email one-time codes (hashed, bound to a flow) and the local outbox on PostgreSQL; a code is marked used by one
// conditional UPDATE, so of two submissions on any instances only one wins.
import type { CodeRepository, OutboxMessage, StoredEmailOtp } from '../ports.js';
import { type CodeRow, toStoredCode } from '../store-rows/codes.js';
import type { Sql } from './sql.js';

export class PgCodeRepo implements CodeRepository {
  constructor(
    private readonly sql: Sql,
    private readonly now: () => string,
  ) {}

  async issue(flowId: string, userId: string, destination: string, hash: string, expiresAt: string): Promise<string> {
    const id = crypto.randomUUID();
    await this.sql.changes(
      'INSERT INTO one_time_codes (id, flow_id, user_id, destination, code_hash, expires_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)',
      [id, flowId, userId, destination, hash, expiresAt, this.now()],
    );
    return id;
  }

  /** The newest code of a flow; ties on the creation time (one millisecond) go to the later insert, as SQLite's rowid. */
  async latestForFlow(flowId: string): Promise<(StoredEmailOtp & { id: string }) | undefined> {
    const row = await this.sql.row<CodeRow>(
      'SELECT id, flow_id, code_hash, expires_at, used_at, attempts FROM one_time_codes WHERE flow_id = $1 ORDER BY created_at DESC, xmin::text::bigint DESC LIMIT 1',
      [flowId],
    );
    return row && toStoredCode(row);
  }

  async markUsed(id: string): Promise<boolean> {
    return (
      (await this.sql.changes('UPDATE one_time_codes SET used_at = $1 WHERE id = $2 AND used_at IS NULL', [
        this.now(),
        id,
      ])) === 1
    );
  }

  async recordAttempt(id: string): Promise<void> {
    await this.sql.changes('UPDATE one_time_codes SET attempts = attempts + 1 WHERE id = $1', [id]);
  }

  async deliver(message: { to: string; subject: string; body: string; flow: string | null }): Promise<void> {
    await this.sql.changes(
      'INSERT INTO outbox (to_addr, subject, body, flow_id, created_at) VALUES ($1, $2, $3, $4, $5)',
      [message.to, message.subject, message.body, message.flow, this.now()],
    );
  }

  async outbox(query: { to?: string; flow?: string; limit: number }): Promise<OutboxMessage[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.to) where.push(`lower(to_addr) = lower($${params.push(query.to)})`);
    if (query.flow) where.push(`flow_id = $${params.push(query.flow)}`);
    const filter = where.length ? `WHERE ${where.join(' AND ')}` : '';
    return this.sql.rows<OutboxMessage>(
      `SELECT id, to_addr AS "to", subject, body, flow_id AS flow, created_at FROM outbox ${filter} ORDER BY id DESC LIMIT $${params.push(query.limit)}`,
      params,
    );
  }
}
