// The `passkey` state: WebAuthn in a flow. Step 1 signs in passwordless with a discoverable credential; a later step
// checks a passkey of the user an earlier step identified, or enrols one the user lacks.
import { IdpError } from '../../core/errors.js';
import type { FlowView, PasskeyAnswer, Waiting } from '../types.js';
import type { Kit, Run } from './kit.js';

type PasskeyWaiting = Extract<Waiting, { kind: 'passkey' }>;

/** The view of a waiting passkey step: its options, and the step's other options as the fallback. */
export function passkeyView(run: Run, waiting: PasskeyWaiting): Extract<FlowView, { waiting: 'passkey' }> {
  const options = run.state.steps[run.state.step - 1] ?? [];
  return {
    flow: run.id,
    app: run.app.name,
    step: run.state.step,
    status: 'active',
    waiting: 'passkey',
    mode: waiting.mode,
    options: waiting.options,
    alternatives: options.filter((o) => o !== 'passkey'),
  };
}

export async function checkPasskey(
  _kit: Kit,
  _run: Run,
  _waiting: PasskeyWaiting,
  _answer: PasskeyAnswer,
): Promise<FlowView> {
  // Interface commit: the verification lands in the next commits.
  throw new IdpError('INTERNAL', 'passkey steps are not built yet');
}
