// What every step handler works with: the flow being run (Run) and the engine services it calls back into (Kit).
// A handler resumes the flow from one waiting state; see ../engine.ts for the table that picks it.
import { IdpError } from '../../core/errors.js';
import { hint } from '../../core/fixes.js';
import type { App, Stage, StageEvent, StageStatus, User } from '../../core/types.js';
import type { EngineDeps, FlowState, FlowView, Waiting } from '../types.js';

export interface Run {
  id: string;
  state: FlowState;
  app: App;
  /** The stage a failure is reported against. */
  current: Stage;
  /** performance.now() when this call began: a failure's ms is measured from here. */
  since: number;
  /** Stage events of this call not yet stored: written with the flow's state, in one transaction, when it ends. */
  events: StageEvent[];
}

export interface Kit {
  readonly deps: EngineDeps;
  /** Appends a stage event: to the live listener at once, to the store with the flow's state when the call ends. */
  stage(run: Run, stage: Stage, status: StageStatus, detail: string, ms: number): void;
  /** Persists what the flow waits for next and returns its view. */
  wait(run: Run, waiting: Waiting): Promise<FlowView>;
  /** The view of what the flow waits for now. */
  view(run: Run): Promise<FlowView>;
  /** ms since the flow started waiting: how long the person (or the upstream page) took. */
  waited(run: Run): number;
  /** After a finished step: the next step's options, or the session. */
  next(run: Run): Promise<FlowView>;
}

/** Records a finished step: what a script sees of it, its amr, and the time of the first authentication. */
export function completeStep(
  kit: Kit,
  run: Run,
  option: string,
  idp: string,
  amr: string,
  remoteClaims?: Record<string, unknown>,
): void {
  const { state } = run;
  state.completed.push({ step: state.step, option, idp, ...(remoteClaims && { remoteClaims }) });
  if (!state.amr.includes(amr)) state.amr.push(amr);
  state.authTime ??= Math.floor(kit.deps.store.clock().getTime() / 1000);
}

/** The local user an MFA step verifies: refused for a pass-through identity, and when nobody was identified yet. */
export async function localUser(kit: Kit, run: Run): Promise<User> {
  const identity = run.state.identity;
  if (identity?.kind === 'pass-through') throw mfaNeedsLocalUser(run, identity.connection);
  const user = identity && (await kit.deps.store.users.byId(identity.userId));
  if (!user)
    throw new IdpError(
      'MFA_MISCONFIGURED',
      'an MFA step needs a user identified by an earlier step',
      `put a sign-in option in step 1 of ${run.app.name}`,
    );
  return user;
}

export function mfaNeedsLocalUser(run: Run, connection: string): IdpError {
  const step = run.state.step;
  const jitOn = { kind: 'set', on: 'connection', name: connection, setting: 'jit', value: 'true' } as const;
  const skipMfa = { kind: 'script-template', app: run.app.name, template: 'skip-mfa-for-federated' } as const;
  return new IdpError(
    'MFA_NEEDS_LOCAL_USER',
    `step ${step} of ${run.app.name} is MFA, but ${connection} has JIT off: this pass-through user has no local account to hold a factor`,
    hint`either ${jitOn}, or run step ${step} only when context.steps[1].idp == 'LOCAL' (${skipMfa})`,
  );
}
