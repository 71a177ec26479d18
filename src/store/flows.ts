// Repository for login flows: one row per flow, its engine state as JSON, so any driver can resume it; and their
// expiry: a flow idle past its lifetime is ended and loses its upstream request's secrets on the next read or start.
import { FLOW_LIFETIME_MS } from '../core/flow-lifetime.js';
import type { FlowRow, FlowStatus } from '../ports.js';
import type { Db } from './db.js';

const SELECT =
  "SELECT id, app, CASE WHEN expired_at IS NULL THEN status ELSE 'expired' END AS status, state, created_at, updated_at FROM flows";

export class FlowRepo {
  constructor(
    private readonly db: Db,
    private readonly now: () => string,
  ) {}

  insert(id: string, app: string, state: unknown): void {
    this.expireIdle();
    const at = this.now();
    this.db
      .prepare('INSERT INTO flows (id, app, status, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(id, app, 'active', JSON.stringify(state), at, at);
  }

  get(id: string): FlowRow | undefined {
    this.expireIdle();
    return this.db.prepare(`${SELECT} WHERE id = ?`).get(id) as FlowRow | undefined;
  }

  save(id: string, status: FlowStatus, state: unknown): void {
    this.db
      .prepare('UPDATE flows SET status = ?, state = ?, updated_at = ? WHERE id = ?')
      .run(status, JSON.stringify(state), this.now(), id);
  }

  recent(limit: number): FlowRow[] {
    this.expireIdle();
    return this.db.prepare(`${SELECT} ORDER BY created_at DESC LIMIT ?`).all(limit) as FlowRow[];
  }

  /**
   * Ends every active flow whose last step is older than FLOW_LIFETIME_MS: marked expired, and what it waited for
   * (the PKCE verifier, state and nonce of its upstream request, or an MFA prompt) dropped from its state.
   * On the partial index of active flows, a read first: it runs on every flow read, mostly finds nothing idle, and a
   * read takes no write lock. A read-only store leaves them for the next writer.
   */
  expireIdle(): void {
    if (this.db.readonly) return;
    const now = this.now();
    const cutoff = new Date(Date.parse(now) - FLOW_LIFETIME_MS).toISOString();
    if (
      this.db.prepare("SELECT 1 FROM flows WHERE status = 'active' AND updated_at < ? LIMIT 1").get(cutoff) ===
      undefined
    )
      return;
    this.db
      .prepare(
        `UPDATE flows SET status = 'failed', expired_at = ?, state = json_set(state, '$.waiting', json('{"kind":"none"}')) WHERE status = 'active' AND updated_at < ?`,
      )
      .run(now, cutoff);
  }
}
