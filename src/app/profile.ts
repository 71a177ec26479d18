// Attribute edits on a local user (`users set --attr`, My Account): profile fields by name, anything else a custom
// attribute (never a protected claim); an email change must stay unique, drops its verified mark, and never parts a
// user from an email-shaped username (the two are one identifier).
import { IdpError } from '../core/errors.js';
import { hint } from '../core/fixes.js';
import type { ProfilePatch } from '../core/claims.js';
import { refuseProtectedClaims, USER_ATTRIBUTE } from '../core/protected-claims.js';
import type { User } from '../core/types.js';
import { sameIdentifier, validEmail } from '../core/user-fields.js';
import type { Store } from '../ports.js';

const PROFILE_FIELDS = {
  name: 'name',
  given_name: 'givenName',
  family_name: 'familyName',
  picture: 'picture',
} as const;
const FIXED = ['username', 'id', 'source', 'status', 'email_verified'];

/**
 * `by`: an admin is told which user holds a taken email; the user themselves (My Account) is not, since that would
 * name another account. Who holds an address first keeps it, verified or not: only a sign-in whose provider verified
 * the address takes an unverified one over (core/jit.ts).
 */
export async function profilePatch(
  store: Store,
  user: User,
  pairs: [string, string][],
  by: 'admin' | 'self',
): Promise<ProfilePatch> {
  const patch: ProfilePatch & { attributes: Record<string, string> } = { attributes: { ...user.attributes } };
  for (const [key, value] of pairs) {
    if (key === 'email') {
      if (value && !validEmail(value))
        throw new IdpError(
          'INVALID_VALUE',
          `'${value}' is not a valid email address`,
          hint`e.g. ${{ kind: 'option', option: 'attr', value: 'email=dave@example.com' }}`,
        );
      if (user.username.includes('@') && !(value && sameIdentifier(value, user.username))) {
        throw new IdpError(
          'INVALID_VALUE',
          `the email of ${user.username} cannot change: the username is that email address`,
          'create a user with another username for another address',
        );
      }
      const owner = value ? await store.users.byEmail(value) : undefined;
      if (owner && owner.id !== user.id)
        throw new IdpError(
          'USER_EXISTS',
          `email ${value} belongs to ${by === 'admin' ? owner.username : 'another account'}`,
          'choose another email',
        );
      patch.email = value || null;
      if (value.toLowerCase() !== (user.email ?? '').toLowerCase()) patch.emailVerified = false;
    } else if (key in PROFILE_FIELDS) {
      patch[PROFILE_FIELDS[key as keyof typeof PROFILE_FIELDS] as 'name'] = value || null;
    } else if (FIXED.includes(key)) {
      const status = (option: string) => ({ kind: 'option', option }) as const;
      const why =
        key === 'status'
          ? hint`use ${status('lock')}, ${status('unlock')}, ${status('disable')} or ${status('enable')}`
          : `${key} is fixed once the user exists`;
      throw new IdpError('INVALID_VALUE', `an attribute edit cannot change ${key}`, why);
    } else if (value) {
      refuseProtectedClaims([key], USER_ATTRIBUTE);
      patch.attributes[key] = value;
    } else delete patch.attributes[key];
  }
  return patch;
}
