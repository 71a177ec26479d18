// The end of a flow: every step done, the `session` stage issues the ID token for the app and the flow is done.
import { IdpError } from '../../core/errors.js';
import { multiFactor } from '../../core/signin.js';
import { issueIdToken } from '../session.js';
import type { FlowView } from '../types.js';
import type { Kit, Run } from './kit.js';

export async function finish(kit: Kit, run: Run): Promise<FlowView> {
  const { state, app } = run;
  run.current = 'session';
  const started = performance.now();
  const identity = state.identity;
  const first = state.completed[0];
  if (!identity || !first || state.authTime === null)
    throw new IdpError('INTERNAL', 'the flow finished without identifying anyone');
  const { idToken, claims } = await issueIdToken(kit.deps, app, identity, {
    amr: state.amr,
    mfa: multiFactor(state.amr),
    authTime: state.authTime,
    idp: first.idp,
    sign: kit.deps.signIdTokens !== false,
  });
  kit.stage(
    run,
    'session',
    'ok',
    `${idToken ? 'ID token' : 'session'} for ${app.name}: sub ${String(claims.sub)}, amr ${state.amr.join(',')}, acr ${String(claims.acr)}`,
    performance.now() - started,
  );
  state.waiting = { kind: 'none' };
  return {
    flow: run.id,
    app: app.name,
    step: state.step,
    status: 'done',
    result: {
      app: app.name,
      user: identity.kind === 'local' ? { id: identity.userId, username: identity.username } : null,
      passThrough: identity.kind === 'pass-through',
      jit: state.jit,
      amr: state.amr,
      acr: String(claims.acr),
      idToken,
      claims,
      redirectUri: state.redirectUri,
    },
  };
}
