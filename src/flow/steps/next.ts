// Between steps: which step runs next (the app's steps in order, or what its script says), and whether it waits for
// a choice, starts its only option at once, or cannot run at all (MFA for a pass-through user). No step left: My
// Account asks for a factor the user holds if none was used (core/signin.ts myAccountFactorStep); then finish.
import { IdpError } from '../../core/errors.js';
import { hint } from '../../core/fixes.js';
import { isLocalOption, myAccountFactorStep } from '../../core/signin.js';
import type { SignInStep } from '../../core/types.js';
import { heldFactors } from '../factors.js';
import { planNextStep } from '../script-plan.js';
import type { FlowView } from '../types.js';
import { chooseOption } from './choose.js';
import { mfaNeedsLocalUser, type Kit, type Run } from './kit.js';
import { finish } from './session.js';

export async function nextStep(kit: Kit, run: Run): Promise<FlowView> {
  const { state } = run;
  // After My Account's factor step, no step of the app's (or its script's) is left.
  const next =
    state.factorStep !== undefined
      ? null
      : run.app.script
        ? await scriptedNext(kit, run, run.app.script)
        : state.step + 1 > state.steps.length
          ? null
          : state.step + 1;
  if (next !== null) return startStep(kit, run, next);
  const factors = await factorStep(kit, run);
  if (!factors) return finish(kit, run);
  state.steps.push(factors);
  state.factorStep = state.steps.length;
  kit.stage(run, 'options', 'ok', `step ${state.factorStep}: My Account asks for a factor the user holds`, 0);
  return startStep(kit, run, state.factorStep);
}

/** My Account's extra step for the local user identified, if they hold factors and used none (asked once). */
async function factorStep(kit: Kit, run: Run): Promise<SignInStep | null> {
  const { identity, amr, factorStep: asked } = run.state;
  if (identity?.kind !== 'local' || asked !== undefined) return null;
  return myAccountFactorStep(run.app, await heldFactors(kit.deps.store, identity.userId), amr);
}

function startStep(kit: Kit, run: Run, next: number): Promise<FlowView> {
  const { state } = run;
  state.step = next;
  const options = state.steps[next - 1]!;
  run.current = 'options';
  if (state.identity?.kind === 'pass-through' && options.every((o) => isLocalOption(o))) {
    run.current = 'mfa';
    throw mfaNeedsLocalUser(run, state.identity.connection);
  }
  if (next > 1 && options.length === 1) return chooseOption(kit, run, options[0]!, undefined, true);
  return kit.wait(run, { kind: 'choose' });
}

/** Asks the app's script which step comes next (null: none), and says so in a `script` stage. */
async function scriptedNext(kit: Kit, run: Run, script: string): Promise<number | null> {
  const { state, app } = run;
  run.current = 'script';
  const started = performance.now();
  const plan = await planNextStep(kit.deps, script, state, { app: app.name, clientId: app.clientId });
  const last = state.completed[state.completed.length - 1];
  const after = last ? `after step ${state.step} (idp ${last.idp})` : 'at the start';
  if ('failed' in plan) {
    const message = plan.failed.errorMessage ?? 'the script refused this sign-in';
    const code = plan.failed.errorCode ? ` (${plan.failed.errorCode})` : '';
    const showScript = { kind: 'show', what: 'app-script', name: app.name } as const;
    throw new IdpError(
      'SCRIPT_FAILED_LOGIN',
      `${app.name}'s script failed the login${code}: ${message}`,
      hint`see the script: ${showScript}`,
    );
  }
  if (plan.next !== null) {
    if (last) kit.stage(run, 'script', 'ok', `${after}: runs step ${plan.next}`, performance.now() - started);
    return plan.next;
  }
  if (!last)
    throw new IdpError(
      'SCRIPT_ERROR',
      `${app.name}'s script ran no step, so nobody was identified`,
      'call executeStep(1) in onLoginRequest',
    );
  const skipped = state.steps.map((_, i) => i + 1).filter((n) => !plan.ran.includes(n));
  kit.stage(
    run,
    'script',
    'ok',
    `${after}: done; ran step ${plan.ran.join(', ')}${skipped.length ? `, skipped step ${skipped.join(', ')}` : ''}`,
    performance.now() - started,
  );
  return null;
}
