// Which step runs next under an app's conditional-authentication script. Steps are asynchronous (a person answers)
// but the script runs synchronously, so it is replayed from the start each time (see script/replay.ts), with what
// the flow knows of each finished step.
import type { ReplayResult, ScriptRunner, Store } from '../ports.js';
import type { CompletedStep, FlowState, Identity } from './types.js';

/** Replays the app's script (isolated by the runner), with the outcomes of the steps finished so far. */
export async function planNextStep(
  { store, scripts }: { store: Store; scripts: ScriptRunner },
  script: string,
  state: FlowState,
  request: Record<string, unknown>,
): Promise<ReplayResult> {
  const finished: Record<number, { idp: string; subject: Awaited<ReturnType<typeof subjectOf>> }> = {};
  for (const c of state.completed)
    finished[c.step] = { idp: c.idp, subject: await subjectOf(store, state, c.remoteClaims) };
  return scripts.replay({ source: script, request, finished, stepCount: state.steps.length, app: state.app });
}

async function subjectOf(store: Store, state: FlowState, remoteClaims: Record<string, unknown> | undefined) {
  const identity = state.identity;
  if (identity?.kind === 'local') {
    const user = await store.users.byId(identity.userId);
    const localClaims = user ? { username: user.username, email: user.email, name: user.name, ...user.attributes } : {};
    return { username: identity.username, localClaims, remoteClaims: remoteClaims ?? {} };
  }
  return {
    username: identity?.kind === 'pass-through' ? (identity.profile.username ?? undefined) : undefined,
    localClaims: {},
    remoteClaims: remoteClaims ?? {},
  };
}

/** A flow state for what-if questions (app check, explain): these steps done, this identity, nothing persisted. */
export function simulatedFlow(
  app: string,
  steps: string[][],
  identity: Identity,
  completed: CompletedStep[],
): FlowState {
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
