// An events row on either engine (a config change or a flow's stage), the EventRecord it reads as, and the cells a
// config change fills.
import type { Stage, StageStatus } from '../core/types.js';
import type { ConfigChange, EventRecord } from '../ports.js';

export interface EventRow {
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

export function toRecord(row: EventRow): EventRecord {
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

/** A config change's cells, made `at`: at, actor, action, target, detail, before, after (the last two as JSON). */
export function configParams(change: ConfigChange, at: string): unknown[] {
  return [
    at,
    change.actor,
    change.action,
    change.target,
    change.detail,
    JSON.stringify(change.before ?? null),
    JSON.stringify(change.after ?? null),
  ];
}
