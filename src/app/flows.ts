// Use cases on past logins: the recent flows, and one flow's stages as they were recorded.
import { IdpError } from '../core/errors.js';
import { hint } from '../core/fixes.js';
import type { Store } from '../ports.js';

export function recentFlows(store: Store, limit: number) {
  return store.flows.recent(limit).map((r) => ({ id: r.id, app: r.app, status: r.status, created_at: r.created_at }));
}

export function flowStages(store: Store, id: string) {
  const row = store.flows.get(id);
  if (!row) throw new IdpError('FLOW_NOT_FOUND', `no flow with id ${id}`, hint`see ${{ kind: 'show', what: 'flows' }}`);
  const stages = store.events.list({ flow: id, limit: 1000 }).map(({ stage, status, ms, detail, at }) => ({ stage, status, ms, detail, at }));
  return { flow: id, app: row.app, status: row.status, created_at: row.created_at, stages };
}
