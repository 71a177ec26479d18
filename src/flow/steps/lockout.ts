// Account lockout, one policy for wrong passwords and wrong MFA codes: each kind is counted per user across sign-ins
// (a new flow does not start afresh), and the fifth in a row locks the account until an admin unlocks it.
import { IdpError } from '../../core/errors.js';
import { hint } from '../../core/fixes.js';
import type { User } from '../../core/types.js';
import type { Kit, Run } from './kit.js';

export const LOCKOUT_AFTER_FAILURES = 5;

/**
 * Locks the user once `failures` reaches the policy, with an audit event (the flow's failed stage alone is easy to
 * miss). The person is not told whose account it is: they may have typed someone else's identifier.
 */
export function lockIfTooMany(kit: Kit, run: Run, user: Pick<User, 'id' | 'username'>, failures: number, what: 'passwords' | 'MFA codes'): void {
  if (failures < LOCKOUT_AFTER_FAILURES) return;
  const { store } = kit.deps;
  store.tx(() => {
    store.users.setStatus(user.id, 'locked');
    store.events.recordConfig({
      actor: 'idp',
      action: 'users.lock',
      target: `user ${user.username}`,
      detail: `locked ${user.username} after ${failures} wrong ${what} in a row across sign-ins (last in flow ${run.id} to ${run.app.name})`,
      before: { status: 'active' },
      after: { status: 'locked' },
    });
  });
  const unlock = { kind: 'set', on: 'user', name: '<user>', setting: 'unlock' } as const;
  throw new IdpError('USER_LOCKED', `too many wrong ${what}: the account is now locked`, hint`an admin can unlock it: ${unlock}`);
}
