// An events row on either engine (a config change or a flow's stage) and the EventRecord it reads as.
import type { Stage, StageStatus } from '../core/types.js';
import type { EventRecord } from '../ports.js';

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
