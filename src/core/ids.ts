// Identifiers the org hands out: client ids and flow ids (random, URL-safe), app and sandbox client secrets, and the
// short form of a user id for messages.
import { randomBytes } from 'node:crypto';

export function newClientId(): string {
  return randomBytes(15).toString('base64url');
}

export function newFlowId(): string {
  return `f_${randomBytes(9).toString('base64url')}`;
}

/** The client secret of a sandbox connection: only the in-process sandbox provider ever checks it. */
export function newSandboxSecret(): string {
  return randomBytes(20).toString('hex');
}

export function shortId(id: string): string {
  return id.slice(0, 8);
}

/** A web app's client secret: 32 random bytes, base64url (256 bits, as long as RFC 7518 wants an HS256 key). */
export function newAppSecret(): string {
  return randomBytes(32).toString('base64url');
}
