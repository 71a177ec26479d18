// Use cases on past logins: the recent flows with what each did (app, choice, user, JIT decision, outcome, error), and
// one flow's stages as they were recorded. A flow's summary is read from its persisted state.
import { IdpError, type ErrorCode } from '../core/errors.js';
import { hint } from '../core/fixes.js';
import type { JitDecisionKind } from '../core/types.js';
import type { FlowState } from '../flow/types.js';
import type { FlowRow, Store } from '../ports.js';

export interface FlowSummary {
  id: string;
  app: string;
  /** As stored (`active`, `done`, `failed`, `expired`). */
  status: FlowRow['status'];
  created_at: string;
  /** The option chosen in each step (`github`, then `totp`); empty until the person chose. */
  options: string[];
  /** Who the flow identified: a local user, a pass-through identity (no local user), or nobody yet. */
  user: { kind: 'local'; username: string } | { kind: 'pass-through'; connection: string } | null;
  jit: JitDecisionKind | null;
  outcome: 'success' | 'failed' | 'expired' | 'in progress';
  error: ErrorCode | null;
}

export async function recentFlows(store: Store, limit: number): Promise<FlowSummary[]> {
  return (await store.flows.recent(limit)).map(summary);
}

const OUTCOME = { done: 'success', failed: 'failed', expired: 'expired', active: 'in progress' } as const;

/** Read defensively: a flow's state is JSON written by whichever idp version ran it. */
function summary(row: FlowRow): FlowSummary {
  const state = JSON.parse(row.state) as Partial<FlowState>;
  const identity = state.identity ?? null;
  return {
    id: row.id,
    app: row.app,
    status: row.status,
    created_at: row.created_at,
    // Flows stored before `chosen` was kept still show the options of the steps they finished.
    options: state.chosen ?? state.completed?.map((c) => c.option) ?? [],
    user:
      identity === null
        ? null
        : identity.kind === 'local'
          ? { kind: 'local', username: identity.username }
          : { kind: 'pass-through', connection: identity.connection },
    jit: state.jit?.decision ?? null,
    outcome: OUTCOME[row.status],
    error: row.status === 'expired' ? 'FLOW_EXPIRED' : (state.error ?? null),
  };
}

export async function flowStages(store: Store, id: string) {
  const row = await store.flows.get(id);
  if (!row) throw new IdpError('FLOW_NOT_FOUND', `no flow with id ${id}`, hint`see ${{ kind: 'show', what: 'flows' }}`);
  const stages = (await store.events.list({ flow: id, limit: 1000 })).map(({ stage, status, ms, detail, at }) => ({
    stage,
    status,
    ms,
    detail,
    at,
  }));
  return { flow: id, app: row.app, status: row.status, created_at: row.created_at, stages };
}
