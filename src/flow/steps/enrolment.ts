// Enrolling a second factor during a sign-in (TOTP or a passkey the step needs and the user lacks): allowed only by
// core's rule (an account with no second factor at all), checked when the step starts and again when the answer
// arrives, since the user may have enrolled a factor elsewhere meanwhile.
import type { IdpError } from '../../core/errors.js';
import { enrolmentRefusal, type EnrollableFactor } from '../../core/signin.js';
import type { User } from '../../core/types.js';
import type { FlowView } from '../types.js';
import type { Kit, Run } from './kit.js';

/** Why this sign-in may not enrol `factor` for `user` now, or null. */
export async function enrolmentRefused(
  kit: Kit,
  run: Run,
  user: User,
  factor: EnrollableFactor,
): Promise<IdpError | null> {
  const { store } = kit.deps;
  const held = {
    totp: (await store.factors.totpFor(user.id)) !== undefined,
    passkey: (await store.passkeys.forUser(user.id)).length > 0,
  };
  return enrolmentRefusal(factor, held, run.state.steps[run.state.step - 1] ?? []);
}

/**
 * A refused enrolment is a retry in the same step: the person chooses another option, from the view they chose
 * from (a passkey's "use another way" keeps its challenge and attempt count), or from the step's choice when the
 * refused enrolment was waiting for its answer. A step with no other option cannot go on.
 */
export async function refuseEnrolment(
  kit: Kit,
  run: Run,
  factor: EnrollableFactor,
  refusal: IdpError,
): Promise<FlowView> {
  const options = run.state.steps[run.state.step - 1] ?? [];
  if (options.every((o) => o === factor)) throw refusal;
  kit.stage(run, 'mfa', 'failed', `${factor}: ${refusal.message}`, kit.waited(run));
  const w = run.state.waiting;
  const stay = w.kind === 'choose' || (w.kind === 'passkey' && w.mode === 'authenticate');
  const view = await (stay ? kit.view(run) : kit.wait(run, { kind: 'choose' }));
  return { ...view, retry: refusal.toJSON() } as FlowView;
}
