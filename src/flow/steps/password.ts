// The `credentials` state: a local username and password, with per-flow attempt caps and account lockout (lockout.ts).
import { IdpError } from '../../core/errors.js';
import { restoreAccessHint } from '../../core/jit.js';
import { verifyPassword } from '../../core/password.js';
import { LOCAL_OPTION_AMR } from '../../core/signin.js';
import type { User } from '../../core/types.js';
import type { FlowError, FlowView } from '../types.js';
import { completeStep, type Kit, type Run } from './kit.js';
import { lockIfTooMany } from './lockout.js';

const MAX_PASSWORD_ATTEMPTS_PER_FLOW = 3;

const DUMMY_HASH = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

export async function checkPassword(
  kit: Kit,
  run: Run,
  { username, password }: { username: string; password: string },
): Promise<FlowView> {
  const { store } = kit.deps;
  run.current = 'password';
  const started = performance.now();
  const user = await store.users.find(username);
  const stored = user ? await store.users.passwordState(user.id) : { hash: null, failedLogins: 0 };
  // Hash even for an unknown user, so timing does not reveal which usernames exist.
  const ok = await verifyPassword(password, stored.hash ?? DUMMY_HASH);
  if (user && user.status !== 'active') {
    throw new IdpError(
      user.status === 'locked' ? 'USER_LOCKED' : 'USER_DISABLED',
      `the account ${username} is ${user.status}`,
      restoreAccessHint(username, user.status),
    );
  }
  if (!user || !stored.hash || !ok) return wrongPassword(kit, run, user, username);
  await store.users.recordLogin(user.id);
  kit.stage(run, 'password', 'ok', `${user.username} verified (scrypt)`, performance.now() - started);
  run.state.identity = { kind: 'local', userId: user.id, username: user.username };
  completeStep(kit, run, 'password', 'LOCAL', LOCAL_OPTION_AMR.password);
  return kit.next(run);
}

async function wrongPassword(kit: Kit, run: Run, user: User | undefined, given: string): Promise<FlowView> {
  if (user)
    await lockIfTooMany(kit, run, user, await kit.deps.store.users.recordFailedLogin(user.id), 'passwords', given);
  const attempts = ++run.state.passwordFailures;
  kit.stage(
    run,
    'password',
    'failed',
    `wrong username or password (attempt ${attempts} of ${MAX_PASSWORD_ATTEMPTS_PER_FLOW})`,
    0,
  );
  if (attempts >= MAX_PASSWORD_ATTEMPTS_PER_FLOW)
    throw new IdpError('BAD_CREDENTIALS', 'wrong username or password', 'check the credentials and sign in again');
  const retry: FlowError = {
    code: 'BAD_CREDENTIALS',
    message: `wrong username or password (${MAX_PASSWORD_ATTEMPTS_PER_FLOW - attempts} attempt(s) left)`,
    hint: null,
  };
  return { ...((await kit.view(run)) as Extract<FlowView, { waiting: 'credentials' }>), retry };
}
