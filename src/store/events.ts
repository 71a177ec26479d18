// Repository for the audit trail: config changes (who, what, before, after) and flow stage events.
import type { StageEvent } from '../core/types.js';
import type { ConfigChange, EventQuery, EventRecord } from '../ports.js';
import { configParams, type EventRow, toRecord } from '../store-rows/events.js';
import type { Db } from './db.js';

export class EventRepo {
  constructor(
    private readonly db: Db,
    private readonly now: () => string,
  ) {}

  recordConfig(change: ConfigChange): void {
    this.db
      .prepare(
        "INSERT INTO events (at, kind, actor, action, target, detail, before, after) VALUES (?, 'config', ?, ?, ?, ?, ?, ?)",
      )
      .run(...configParams(change, this.now()));
  }

  recordStage(event: StageEvent): void {
    this.db
      .prepare('INSERT INTO events (at, kind, flow_id, seq, stage, status, ms, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(event.at, 'stage', event.flow, event.seq, event.stage, event.status, event.ms, event.detail);
  }

  /**
   * Newest first, or a flow's stages in order. A config event names what it changed in `target` ("user alice",
   * "connection github"); a stage event belongs to a flow, whose state says who it identified and what was chosen.
   * The flow subqueries run once per query (not per event), over the flows table.
   */
  list(query: EventQuery): EventRecord[] {
    const where: string[] = [];
    const params: unknown[] = [];
    const when = (condition: string, ...values: unknown[]): void => {
      where.push(condition);
      params.push(...values);
    };
    if (query.kind) when('kind = ?', query.kind);
    if (query.flow) when('flow_id = ?', query.flow);
    if (query.since) when('at >= ?', query.since);
    if (query.user !== undefined) {
      const identified = "SELECT id FROM flows WHERE json_extract(state, '$.identity.username') = ? COLLATE NOCASE";
      when(`(target = ? COLLATE NOCASE OR flow_id IN (${identified}))`, `user ${query.user}`, query.user);
    }
    if (query.connection !== undefined) {
      const chose = "SELECT f.id FROM flows f, json_each(f.state, '$.chosen') c WHERE c.value = ?";
      when(`(target = ? OR flow_id IN (${chose}))`, `connection ${query.connection}`, query.connection);
    }
    const filter = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const order = query.flow ? 'ORDER BY seq' : 'ORDER BY id DESC';
    const rows = this.db.prepare(`SELECT * FROM events ${filter} ${order} LIMIT ?`).all(...params, query.limit);
    return (rows as EventRow[]).map(toRecord);
  }
}
