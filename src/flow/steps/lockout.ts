// Account lockout, one policy for wrong passwords and wrong MFA codes: each kind is counted per user across sign-ins
// (a new flow does not start afresh), and the fifth in a row locks the account until an admin unlocks it.
import { IdpError } from '../../core/errors.js';
import { restoreAccessHint } from '../../core/jit.js';
import type { User } from '../../core/types.js';
import type { Kit, Run } from './kit.js';

export const LOCKOUT_AFTER_FAILURES = 5;

/**
 * Locks the user once `failures` reaches the policy, with an audit event (the flow's failed stage alone is easy to
 * miss). The person is told only the identifier they gave (`given`), never the account's username: they may have
 * typed someone else's email. Any identifier names the account for an admin's unlock, so the hint still works.
 */
export async function lockIfTooMany(
  kit: Kit,
  run: Run,
  user: Pick<User, 'id' | 'username'>,
  failures: number,
  what: 'passwords' | 'MFA codes' | 'MFA answers',
  given: string,
): Promise<void> {
  if (failures < LOCKOUT_AFTER_FAILURES) return;
  const { store } = kit.deps;
  await store.tx(async (tx) => {
    await tx.users.setStatus(user.id, 'locked');
    await tx.events.recordConfig({
      actor: 'idp',
      action: 'users.lock',
      target: `user ${user.username}`,
      detail: `locked ${user.username} after ${failures} wrong ${what} in a row across sign-ins (last in flow ${run.id} to ${run.app.name})`,
      before: { status: 'active' },
      after: { status: 'locked' },
    });
  });
  throw new IdpError(
    'USER_LOCKED',
    `too many wrong ${what}: the account is now locked`,
    restoreAccessHint(given, 'locked'),
  );
}
