// Repository for login flows: one row per flow, its engine state as JSON, so any driver can resume it.
import type { FlowRepository, FlowRow, FlowStatus } from '../ports.js';
import type { Db } from './db.js';

export class FlowRepo implements FlowRepository {
  constructor(private readonly db: Db, private readonly now: () => string) {}

  insert(id: string, app: string, state: unknown): void {
    const at = this.now();
    this.db.prepare('INSERT INTO flows (id, app, status, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)').run(id, app, 'active', JSON.stringify(state), at, at);
  }

  get(id: string): FlowRow | undefined {
    return this.db.prepare('SELECT * FROM flows WHERE id = ?').get(id) as FlowRow | undefined;
  }

  save(id: string, status: FlowStatus, state: unknown): void {
    this.db.prepare('UPDATE flows SET status = ?, state = ?, updated_at = ? WHERE id = ?').run(status, JSON.stringify(state), this.now(), id);
  }

  recent(limit: number): FlowRow[] {
    return this.db.prepare('SELECT * FROM flows ORDER BY created_at DESC LIMIT ?').all(limit) as FlowRow[];
  }
}
