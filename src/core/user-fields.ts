// The shape of a username and an email address, shared by every way a user is created or changed, and the rule that
// keeps one identifier naming one account: a username with an @ is allowed only as the user's own email address.
// Kept apart from user-records.ts so that commands checking one field do not load the import parser and scrypt.
import { IdpError } from './errors.js';

const USERNAME = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function validUsername(value: string): boolean {
  return USERNAME.test(value);
}

export function validEmail(value: string): boolean {
  return EMAIL.test(value);
}

/** Equal as the store compares usernames and emails (SQLite NOCASE folds ASCII letters only). */
export function sameIdentifier(a: string, b: string): boolean {
  const fold = (s: string) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());
  return fold(a) === fold(b);
}

/**
 * A username may look like an email address only when it is the user's own email: otherwise a sign-in or an admin
 * command naming that address could mean two accounts (the store enforces the same rule with a trigger).
 */
export function usernameFitsEmail(username: string, email: string | null): boolean {
  return !username.includes('@') || (email !== null && sameIdentifier(username, email));
}

export function refuseEmailShapedUsername(username: string, email: string | null): void {
  if (usernameFitsEmail(username, email)) return;
  throw new IdpError(
    'INVALID_VALUE',
    `username '${username}' looks like an email address but is not the user's own email`,
    "choose a username without @, or make it exactly the user's email address",
  );
}

/** The shortest password idp accepts, however it is set (an admin, a JIT prompt). */
export const MIN_PASSWORD_LENGTH = 8;
