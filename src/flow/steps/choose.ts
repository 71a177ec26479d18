// The `choose` state: the person picks one of the step's sign-in options (or the only one is picked for them), and
// the step starts: a password form, an MFA code, a passkey, or the redirect to an upstream.
import { IdpError } from '../../core/errors.js';
import { isMfaOption } from '../../core/signin.js';
import type { MfaMethod } from '../mfa.js';
import type { FlowView } from '../types.js';
import type { Kit, Run } from './kit.js';
import { startMfa } from './mfa.js';
import { startPasskey } from './passkey.js';
import { redirect } from './redirect.js';

/** A wait shorter than this is a program answering, not a person thinking: not worth a mention. */
const PERSON_MS = 100;

export async function chooseOption(
  kit: Kit,
  run: Run,
  option: string,
  redirectUri?: string,
  automatic = false,
): Promise<FlowView> {
  const { state } = run;
  const options = state.steps[state.step - 1]!;
  run.current = 'options';
  if (!options.includes(option)) {
    throw new IdpError(
      'UNKNOWN_SIGN_IN_OPTION',
      `${run.app.name} does not offer '${option}' in step ${state.step}`,
      `step ${state.step} offers: ${options.join(', ')}`,
    );
  }
  state.chosen ??= [];
  state.chosen[state.step - 1] = option;
  // The stage's ms is idp's own work; how long the person took to choose goes in the detail.
  const waited = automatic ? 0 : kit.waited(run);
  const offered = automatic
    ? 'the only option'
    : `offered ${options.join(' | ')}${waited >= PERSON_MS ? `; chose after ${(waited / 1000).toFixed(1)} s` : ''}`;
  kit.stage(
    run,
    'options',
    'ok',
    `step ${state.step}: ${option} (${offered})`,
    automatic ? 0 : performance.now() - run.since,
  );
  if (option === 'password') return kit.wait(run, { kind: 'credentials' });
  if (option === 'passkey') return startPasskey(kit, run);
  if (isMfaOption(option)) return startMfa(kit, run, option as MfaMethod);
  return redirect(kit, run, option, redirectUri);
}
