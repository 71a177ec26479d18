// The claims idp sets itself in an ID token, which no app attribute, attribute mapping or user attribute may carry,
// and the one function that assembles a token's claims so that idp's own are always written last.
import { IdpError } from './errors.js';

/** Every claim idp puts in a token of its own accord: idTokenClaims accepts no other, so the list cannot fall behind the builder. */
export const PROTECTED_CLAIMS = [
  'iss',
  'sub',
  'aud',
  'exp',
  'iat',
  'nbf',
  'auth_time',
  'nonce',
  'acr',
  'amr',
  'azp',
  'sid',
  'jti',
  'idp',
  'pass_through',
] as const;

export type ProtectedClaim = (typeof PROTECTED_CLAIMS)[number];
export type OwnClaims = { [K in ProtectedClaim]?: unknown };

const PROTECTED: ReadonlySet<string> = new Set(PROTECTED_CLAIMS);

export function isProtectedClaim(name: string): boolean {
  return PROTECTED.has(name);
}

/**
 * Refuses the first protected claim among `names`. `as` says what the name was to become (an app attribute, a
 * mapped attribute, a user attribute), `where` optionally prefixes the message with its place in a file.
 */
export function refuseProtectedClaims(names: Iterable<string>, as: string, where?: string): void {
  for (const name of names) {
    if (!isProtectedClaim(name)) continue;
    throw new IdpError(
      'PROTECTED_CLAIM',
      `${where ? `${where}: ` : ''}${name} is a protected claim and cannot be ${as}`,
      `idp sets it itself; the protected claims are ${PROTECTED_CLAIMS.join(', ')}`,
    );
  }
}

/** Refuses the first record of a user file that has a protected claim among its attributes, naming its line. */
export function refuseProtectedInRecords(
  records: Iterable<{ line: number; attributes: Record<string, unknown> }>,
  file: string,
): void {
  for (const r of records) refuseProtectedClaims(Object.keys(r.attributes), USER_ATTRIBUTE, `${file}:${r.line}`);
}

export const USER_ATTRIBUTE = 'a user attribute';

/** The protected claims among `names`, for reporting what is already stored. */
export function protectedAmong(names: Iterable<string>): string[] {
  return [...names].filter(isProtectedClaim);
}

/**
 * A token's claims: the requested attributes without any protected claim, then idp's own over them, so not even a
 * value stored behind idp's back can replace a claim idp sets.
 */
export function idTokenClaims<T extends OwnClaims>(
  own: T & Record<Exclude<keyof T, ProtectedClaim>, never>,
  requested: Record<string, unknown>,
): T & Record<string, unknown> {
  const attributes = Object.fromEntries(Object.entries(requested).filter(([name]) => !isProtectedClaim(name)));
  return { ...attributes, ...own };
}
