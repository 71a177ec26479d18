// Claim mapping: upstream (OIDC-named) claims -> local user attributes, per connection type with --map overrides;
// attribute sync on returning logins; and the username a newly provisioned user gets.
import { defaultAttributeMap } from './connection-defaults.js';
import { IdpError } from './errors.js';
import type { ConnectionType, ProfileFields, SyncPolicy, User } from './types.js';
import { sameIdentifier, usernameFitsEmail } from './user-fields.js';

export interface MappedProfile extends ProfileFields {
  username: string | null;
}

export type ProfilePatch = Partial<ProfileFields>;

/** The profile fields under their OIDC claim names: what a token, a view and My Account all call them. */
export function profileClaims(p: Omit<MappedProfile, 'attributes'>) {
  return {
    username: p.username,
    email: p.email,
    email_verified: p.emailVerified,
    name: p.name,
    given_name: p.givenName,
    family_name: p.familyName,
    picture: p.picture,
  };
}

const FIELD: Record<string, keyof Omit<MappedProfile, 'attributes' | 'emailVerified'>> = {
  username: 'username',
  email: 'email',
  name: 'name',
  given_name: 'givenName',
  family_name: 'familyName',
  picture: 'picture',
};

/** `--map picture=-`: do not take this upstream claim at all, even where the connection type maps it by default. */
export const IGNORE = '-';

/**
 * The provider's own verification: the federation adapters put the address the provider says is verified in `email`
 * (GitHub: its /user/emails entry; OIDC: the `email` claim) and the provider's word in `email_verified`.
 */
const PROVIDER_EMAIL = 'email';
const PROVIDER_VERIFIED = 'email_verified';

export function mapClaims(
  claims: Record<string, unknown>,
  type: ConnectionType,
  overrides: Record<string, string>,
): MappedProfile {
  const map = { ...defaultAttributeMap(type), ...overrides };
  const profile = emptyProfile();
  for (const [upstream, local] of Object.entries(map)) {
    const value = claims[upstream];
    if (local === IGNORE || local === PROVIDER_VERIFIED || value === undefined || value === null || value === '')
      continue;
    const field = FIELD[local];
    if (field) profile[field] = String(value);
    else profile.attributes[local] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  profile.emailVerified = providerVerified(claims, map, profile.email);
  return profile;
}

/**
 * email_verified describes the provider's address and nothing else: the mapped email is verified only when it is that
 * address and the provider says so. An email taken from any other claim (`--map name=email`) is unverified.
 */
function providerVerified(claims: Record<string, unknown>, map: Record<string, string>, email: string | null): boolean {
  const said = claims[PROVIDER_VERIFIED];
  if (map[PROVIDER_VERIFIED] !== PROVIDER_VERIFIED || (said !== true && said !== 'true')) return false;
  const address = claims[PROVIDER_EMAIL];
  return email !== null && typeof address === 'string' && sameIdentifier(email, address);
}

/** A --map edit may not make another upstream claim the source of email_verified: only the provider's word counts. */
export function refuseVerificationMap(edits: [string, string][]): void {
  for (const [upstream, local] of edits) {
    if (local === PROVIDER_VERIFIED && upstream !== PROVIDER_VERIFIED) {
      throw new IdpError(
        'INVALID_VALUE',
        `${upstream} cannot be mapped to ${PROVIDER_VERIFIED}`,
        `${PROVIDER_VERIFIED} is always the provider's own word on its email address; map ${upstream} to another attribute`,
      );
    }
  }
}

/**
 * What a returning login changes locally. override-all: upstream wins for every mapped attribute;
 * preserve-local: only fills what is empty locally; none: nothing.
 */
export function syncPatch(user: User, mapped: MappedProfile, policy: SyncPolicy): ProfilePatch {
  if (policy === 'none') return {};
  const patch: ProfilePatch = {};
  const take =
    policy === 'override-all'
      ? (local: unknown, upstream: unknown) => upstream !== null && upstream !== local
      : (local: unknown, upstream: unknown) => (local === null || local === '') && upstream !== null;
  for (const key of ['name', 'givenName', 'familyName', 'picture'] as const) {
    if (take(user[key], mapped[key])) patch[key] = mapped[key];
  }
  if (mapped.email && take(user.email, mapped.email)) {
    patch.email = mapped.email;
    patch.emailVerified = mapped.emailVerified;
  } else if (
    mapped.email &&
    mapped.email.toLowerCase() === user.email?.toLowerCase() &&
    mapped.emailVerified &&
    !user.emailVerified
  ) {
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

/**
 * The upstream username, else the email's local part, else connection-subject; a taken one gets -2, -3, ...
 * An upstream username shaped like an email is kept only when it is the person's own verified email (else its
 * local part is used), and `taken` must cover every identifier (id, username, email): see user-fields.ts.
 */
export async function provisionUsername(
  mapped: MappedProfile,
  connection: string,
  subject: string,
  taken: (candidate: string) => Promise<boolean> | boolean,
): Promise<string> {
  const ownEmail = mapped.emailVerified ? mapped.email : null;
  const base = usernameBase(
    mapped.username || (mapped.email ? localPart(mapped.email) : '') || `${connection}-${subject}`,
    ownEmail,
    connection,
  );
  if (!(await taken(base))) return base;
  // A numbered variant of an address is no longer the person's own email.
  const stem = base.includes('@') ? usernameBase(localPart(base), null, connection) : base;
  if (stem !== base && !(await taken(stem))) return stem;
  for (let n = 2; ; n++) {
    const candidate = `${stem}-${n}`;
    if (!(await taken(candidate))) return candidate;
  }
}

/** raw in the username alphabet; an email-shaped result that is not ownEmail is cut to its local part. */
function usernameBase(raw: string, ownEmail: string | null, connection: string): string {
  const fit = (s: string) =>
    s
      .replace(/[^A-Za-z0-9._@+-]/g, '-')
      .replace(/^[^A-Za-z0-9]+/, '')
      .slice(0, 56);
  let base = fit(raw);
  if (!usernameFitsEmail(base, ownEmail)) base = fit(localPart(base));
  return base || `${connection}-user`;
}

function localPart(address: string): string {
  return address.split('@')[0] ?? '';
}

/** A profile that says nothing: where mapping starts, and who a simulated sign-in is when no claims are known. */
export function emptyProfile(): MappedProfile {
  return {
    username: null,
    email: null,
    emailVerified: false,
    name: null,
    givenName: null,
    familyName: null,
    picture: null,
    attributes: {},
  };
}
