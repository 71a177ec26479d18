// Which step runs next under an app's conditional-authentication script. Steps are asynchronous (a person answers)
// but the script runs synchronously, so it is replayed from the start each time: executeStep(n) on a finished step
// returns its outcome, and on the first unfinished one stops the script: that step runs next.
import { IdpError } from '../core/errors.js';
import type { Store } from '../ports.js';
import type { CompletedStep, FlowState, Identity } from './types.js';

class PendingStep extends Error {
  constructor(readonly step: number) {
    super(`step ${step} is pending`);
  }
}

export type ScriptPlan = { next: number } | { next: null; ran: number[] } | { failed: { errorCode?: string; errorMessage?: string } };

export async function planNextStep(store: Store, script: string, state: FlowState, request: Record<string, unknown>): Promise<ScriptPlan> {
  const { runConditionalScript } = await import('../script/index.js');
  try {
    const decision = await runConditionalScript(script, {
      request,
      runStep: (n) => {
        if (!Number.isInteger(n) || n < 1 || n > state.steps.length) {
          throw new IdpError('SCRIPT_ERROR', `the script called executeStep(${n}), but ${state.app} has ${state.steps.length} step(s)`, `fix the script, or add the step: idp app set ${state.app} --step ${n}=...`);
        }
        const done = state.completed.find((c) => c.step === n);
        if (!done) throw new PendingStep(n);
        return { idp: done.idp, subject: subjectOf(store, state, done.remoteClaims) };
      },
    });
    if (decision.failed) return { failed: decision.failed };
    return { next: null, ran: decision.steps };
  } catch (err) {
    if (err instanceof PendingStep) return { next: err.step };
    throw err;
  }
}

function subjectOf(store: Store, state: FlowState, remoteClaims: Record<string, unknown> | undefined) {
  const identity = state.identity;
  if (identity?.kind === 'local') {
    const user = store.users.byId(identity.userId);
    const localClaims = user ? { username: user.username, email: user.email, name: user.name, ...user.attributes } : {};
    return { username: identity.username, localClaims, remoteClaims: remoteClaims ?? {} };
  }
  return { username: identity?.kind === 'pass-through' ? (identity.profile.username ?? undefined) : undefined, localClaims: {}, remoteClaims: remoteClaims ?? {} };
}

/** A flow state for what-if questions (app check, explain): these steps done, this identity, nothing persisted. */
export function simulatedFlow(app: string, steps: string[][], identity: Identity, completed: CompletedStep[]): FlowState {
  return {
    app,
    redirectUri: null,
    steps,
    step: completed.length,
    seq: 0,
    waiting: { kind: 'none' },
    waitingSince: 0,
    identity,
    completed,
    amr: [],
    jit: null,
    authTime: null,
    passwordFailures: 0,
  };
}
