// Login flows on PostgreSQL: one row per flow with its engine state as JSON text, resumable on any instance; a flow idle
// past its lifetime is ended, losing its upstream request's secrets, on the next read or start.
import { FLOW_LIFETIME_MS } from '../core/flow-lifetime.js';
import type { FlowRepository, FlowRow, FlowStatus } from '../ports.js';
import type { Sql } from './sql.js';

const SELECT =
  "SELECT id, app, CASE WHEN expired_at IS NULL THEN status ELSE 'expired' END AS status, state, created_at, updated_at FROM flows";

export class PgFlowRepo implements FlowRepository {
  constructor(
    private readonly sql: Sql,
    private readonly now: () => string,
  ) {}

  async insert(id: string, app: string, state: unknown): Promise<void> {
    await this.expireIdle();
    const at = this.now();
    await this.sql.changes(
      "INSERT INTO flows (id, app, status, state, created_at, updated_at) VALUES ($1, $2, 'active', $3, $4, $5)",
      [id, app, JSON.stringify(state), at, at],
    );
  }

  async get(id: string): Promise<FlowRow | undefined> {
    await this.expireIdle();
    return this.sql.row<FlowRow>(`${SELECT} WHERE id = $1`, [id]);
  }

  async save(id: string, status: FlowStatus, state: unknown): Promise<void> {
    await this.sql.changes('UPDATE flows SET status = $1, state = $2, updated_at = $3 WHERE id = $4', [
      status,
      JSON.stringify(state),
      this.now(),
      id,
    ]);
  }

  async recent(limit: number): Promise<FlowRow[]> {
    await this.expireIdle();
    return this.sql.rows<FlowRow>(`${SELECT} ORDER BY created_at DESC LIMIT $1`, [limit]);
  }

  /**
   * Ends every active flow whose last step is older than FLOW_LIFETIME_MS: failed, with the time it expired, and what
   * it waited for dropped from its state. A read first, on the partial index of active flows: it mostly finds nothing.
   */
  private async expireIdle(): Promise<void> {
    const now = this.now();
    const cutoff = new Date(Date.parse(now) - FLOW_LIFETIME_MS).toISOString();
    if (!(await this.sql.row("SELECT 1 FROM flows WHERE status = 'active' AND updated_at < $1 LIMIT 1", [cutoff])))
      return;
    await this.sql.changes(
      `UPDATE flows SET status = 'failed', expired_at = $1, state = jsonb_set(state::jsonb, '{waiting}', '{"kind":"none"}')::text
       WHERE status = 'active' AND updated_at < $2`,
      [now, cutoff],
    );
  }
}
