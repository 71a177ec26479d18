// Repository for email one-time codes (hashed, bound to a flow) and the local outbox they are delivered to.
import type { OutboxMessage, StoredEmailOtp } from '../ports.js';
import { type CodeRow, toStoredCode } from '../store-rows/codes.js';
import type { Db } from './db.js';

export class CodeRepo {
  constructor(
    private readonly db: Db,
    private readonly now: () => string,
  ) {}

  issue(flowId: string, userId: string, destination: string, hash: string, expiresAt: string): string {
    const id = crypto.randomUUID();
    this.db
      .prepare(
        'INSERT INTO one_time_codes (id, flow_id, user_id, destination, code_hash, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      )
      .run(id, flowId, userId, destination, hash, expiresAt, this.now());
    return id;
  }

  latestForFlow(flowId: string): (StoredEmailOtp & { id: string }) | undefined {
    const row = this.db
      .prepare(
        'SELECT id, flow_id, code_hash, expires_at, used_at, attempts FROM one_time_codes WHERE flow_id = ? ORDER BY created_at DESC, rowid DESC LIMIT 1',
      )
      .get(flowId) as CodeRow | undefined;
    return row && toStoredCode(row);
  }

  /** Single use: false when another submission used it first. */
  markUsed(id: string): boolean {
    return (
      this.db.prepare('UPDATE one_time_codes SET used_at = ? WHERE id = ? AND used_at IS NULL').run(this.now(), id)
        .changes === 1
    );
  }

  recordAttempt(id: string): void {
    this.db.prepare('UPDATE one_time_codes SET attempts = attempts + 1 WHERE id = ?').run(id);
  }

  deliver(message: { to: string; subject: string; body: string; flow: string | null }): void {
    this.db
      .prepare('INSERT INTO outbox (to_addr, subject, body, flow_id, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(message.to, message.subject, message.body, message.flow, this.now());
  }

  outbox(query: { to?: string; flow?: string; limit: number }): OutboxMessage[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.to) {
      where.push('to_addr = ? COLLATE NOCASE');
      params.push(query.to);
    }
    if (query.flow) {
      where.push('flow_id = ?');
      params.push(query.flow);
    }
    const sql = `SELECT id, to_addr AS "to", subject, body, flow_id AS flow, created_at FROM outbox ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
    return this.db.prepare(sql).all(...params, query.limit) as OutboxMessage[];
  }
}
