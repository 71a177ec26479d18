// The audit trail on PostgreSQL: config changes (who, what, before, after) and flow stage events, filtered as SQLite's
// repository filters them (a flow's JSON state read with jsonb operators instead of json_extract and json_each).
import type { StageEvent } from '../core/types.js';
import type { ConfigChange, EventQuery, EventRecord, EventRepository } from '../ports.js';
import { configParams, type EventRow, toRecord } from '../store-rows/events.js';
import type { Sql } from './sql.js';

export class PgEventRepo implements EventRepository {
  constructor(
    private readonly sql: Sql,
    private readonly now: () => string,
  ) {}

  async recordConfig(change: ConfigChange): Promise<void> {
    await this.sql.changes(
      "INSERT INTO events (at, kind, actor, action, target, detail, before, after) VALUES ($1, 'config', $2, $3, $4, $5, $6, $7)",
      configParams(change, this.now()),
    );
  }

  async recordStage(event: StageEvent): Promise<void> {
    await this.sql.changes(
      "INSERT INTO events (at, kind, flow_id, seq, stage, status, ms, detail) VALUES ($1, 'stage', $2, $3, $4, $5, $6, $7)",
      [event.at, event.flow, event.seq, event.stage, event.status, event.ms, event.detail],
    );
  }

  /** Newest first, or a flow's stages in order; `user` and `connection` also match the flows that named them. */
  async list(query: EventQuery): Promise<EventRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const when = (condition: (...n: string[]) => string, ...values: unknown[]): void => {
      const refs = values.map((v) => `$${params.push(v)}`);
      where.push(condition(...refs));
    };
    if (query.kind) when((k) => `kind = ${k}`, query.kind);
    if (query.flow) when((f) => `flow_id = ${f}`, query.flow);
    if (query.since) when((s) => `at >= ${s}`, query.since);
    if (query.user !== undefined) {
      when(
        (target, user) =>
          `(lower(target) = lower(${target}) OR flow_id IN (SELECT id FROM flows WHERE lower(state::jsonb #>> '{identity,username}') = lower(${user})))`,
        `user ${query.user}`,
        query.user,
      );
    }
    if (query.connection !== undefined) {
      when(
        (target, connection) =>
          `(target = ${target} OR flow_id IN (SELECT f.id FROM flows f WHERE jsonb_typeof(f.state::jsonb -> 'chosen') = 'array' AND (f.state::jsonb -> 'chosen') ? ${connection}))`,
        `connection ${query.connection}`,
        query.connection,
      );
    }
    const filter = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const order = query.flow ? 'ORDER BY seq' : 'ORDER BY id DESC';
    params.push(query.limit);
    const rows = await this.sql.rows<EventRow>(
      `SELECT * FROM events ${filter} ${order} LIMIT $${params.length}`,
      params,
    );
    return rows.map(toRecord);
  }
}
