// Claim mapping: upstream (OIDC-named) claims -> local user attributes, per connection type with --map overrides;
// attribute sync on returning logins; and the username a newly provisioned user gets.
import { defaultAttributeMap } from './connection-defaults.js';
import type { ConnectionType, ProfileFields, SyncPolicy, User } from './types.js';

export interface MappedProfile extends ProfileFields {
  username: string | null;
}

export type ProfilePatch = Partial<ProfileFields>;

const FIELD: Record<string, keyof Omit<MappedProfile, 'attributes'>> = {
  username: 'username',
  email: 'email',
  email_verified: 'emailVerified',
  name: 'name',
  given_name: 'givenName',
  family_name: 'familyName',
  picture: 'picture',
};

/** `--map picture=-`: do not take this upstream claim at all, even where the connection type maps it by default. */
export const IGNORE = '-';

export function mapClaims(claims: Record<string, unknown>, type: ConnectionType, overrides: Record<string, string>): MappedProfile {
  const map = { ...defaultAttributeMap(type), ...overrides };
  const profile: MappedProfile = { username: null, email: null, emailVerified: false, name: null, givenName: null, familyName: null, picture: null, attributes: {} };
  for (const [upstream, local] of Object.entries(map)) {
    const value = claims[upstream];
    if (local === IGNORE || value === undefined || value === null || value === '') continue;
    const field = FIELD[local];
    if (field === 'emailVerified') profile.emailVerified = value === true || value === 'true';
    else if (field) profile[field] = String(value);
    else profile.attributes[local] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  return profile;
}

/**
 * What a returning login changes locally. override-all: upstream wins for every mapped attribute;
 * preserve-local: only fills what is empty locally; none: nothing.
 */
export function syncPatch(user: User, mapped: MappedProfile, policy: SyncPolicy): ProfilePatch {
  if (policy === 'none') return {};
  const patch: ProfilePatch = {};
  const take = policy === 'override-all' ? (local: unknown, upstream: unknown) => upstream !== null && upstream !== local : (local: unknown, upstream: unknown) => (local === null || local === '') && upstream !== null;
  for (const key of ['name', 'givenName', 'familyName', 'picture'] as const) {
    if (take(user[key], mapped[key])) patch[key] = mapped[key];
  }
  if (mapped.email && take(user.email, mapped.email)) {
    patch.email = mapped.email;
    patch.emailVerified = mapped.emailVerified;
  } else if (mapped.email && mapped.email.toLowerCase() === user.email?.toLowerCase() && mapped.emailVerified && !user.emailVerified) {
    patch.emailVerified = true;
  }
  const attributes = { ...user.attributes };
  let attributesChanged = false;
  for (const [k, v] of Object.entries(mapped.attributes)) {
    if (take(user.attributes[k] ?? null, v)) {
      attributes[k] = v;
      attributesChanged = true;
    }
  }
  if (attributesChanged) patch.attributes = attributes;
  return patch;
}

/** The upstream username, else the email's local part, else connection-subject; a taken one gets -2, -3, ... */
export function provisionUsername(mapped: MappedProfile, connection: string, subject: string, taken: (candidate: string) => boolean): string {
  const raw = mapped.username ?? mapped.email?.split('@')[0] ?? `${connection}-${subject}`;
  const base = raw.replace(/[^A-Za-z0-9._@+-]/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 56) || `${connection}-user`;
  if (!taken(base)) return base;
  for (let n = 2; ; n++) {
    const candidate = `${base}-${n}`;
    if (!taken(candidate)) return candidate;
  }
}
