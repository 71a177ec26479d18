// Repository for the audit trail: config changes (who, what, before, after) and flow stage events.
import type { Stage, StageEvent, StageStatus } from '../core/types.js';
import type { ConfigChange, EventRecord, EventRepository } from '../ports.js';
import type { Db } from './db.js';

interface EventRow {
  id: number;
  at: string;
  kind: 'stage' | 'config';
  flow_id: string | null;
  seq: number | null;
  stage: Stage | null;
  status: StageStatus | null;
  ms: number | null;
  actor: string | null;
  action: string | null;
  target: string | null;
  detail: string;
  before: string | null;
  after: string | null;
}

function toRecord(row: EventRow): EventRecord {
  return {
    id: row.id,
    at: row.at,
    kind: row.kind,
    flow: row.flow_id,
    seq: row.seq,
    stage: row.stage,
    status: row.status,
    ms: row.ms,
    actor: row.actor,
    action: row.action,
    target: row.target,
    detail: row.detail,
    before: row.before === null ? null : JSON.parse(row.before),
    after: row.after === null ? null : JSON.parse(row.after),
  };
}

export class EventRepo implements EventRepository {
  constructor(private readonly db: Db, private readonly now: () => string) {}

  recordConfig(change: ConfigChange): void {
    this.db
      .prepare('INSERT INTO events (at, kind, actor, action, target, detail, before, after) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(this.now(), 'config', change.actor, change.action, change.target, change.detail, JSON.stringify(change.before ?? null), JSON.stringify(change.after ?? null));
  }

  recordStage(event: StageEvent): void {
    this.db
      .prepare('INSERT INTO events (at, kind, flow_id, seq, stage, status, ms, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(event.at, 'stage', event.flow, event.seq, event.stage, event.status, event.ms, event.detail);
  }

  /** Newest first, or a flow's stages in order. */
  list(query: { flow?: string; limit: number }): EventRecord[] {
    const rows = query.flow
      ? this.db.prepare('SELECT * FROM events WHERE flow_id = ? ORDER BY seq LIMIT ?').all(query.flow, query.limit)
      : this.db.prepare('SELECT * FROM events ORDER BY id DESC LIMIT ?').all(query.limit);
    return (rows as EventRow[]).map(toRecord);
  }
}
