// Which second factors a local user holds (a confirmed TOTP factor, passkeys): what My Account's sign-in asks for
// (steps/next.ts), and what the self-service rule checks before a factor is added or removed (app/account.ts).
import type { HeldFactor } from '../core/signin.js';
import type { Store } from '../ports.js';

export async function heldFactors(store: Pick<Store, 'factors' | 'passkeys'>, userId: string): Promise<HeldFactor[]> {
  const held: HeldFactor[] = [];
  if (await store.factors.totpFor(userId)) held.push('totp');
  if ((await store.passkeys.forUser(userId)).length > 0) held.push('passkey');
  return held;
}
