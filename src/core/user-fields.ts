// The shape of a username and an email address, shared by every way a user is created or changed.
// Kept apart from user-records.ts so that commands checking one field do not load the import parser and scrypt.

const USERNAME = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function validUsername(value: string): boolean {
  return USERNAME.test(value);
}

export function validEmail(value: string): boolean {
  return EMAIL.test(value);
}
