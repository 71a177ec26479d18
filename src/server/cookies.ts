// The server's own cookies and form tokens: HttpOnly, SameSite=Lax, scoped to the org's mount, and values signed with
// the server's key so a browser can carry them but not forge them.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

export class Signer {
  constructor(private readonly key: string) {}

  /** A token bound to `purpose` and `value`: the CSRF token of an interaction's forms, a cookie's signature. */
  mac(purpose: string, value: string): string {
    return createHmac('sha256', this.key).update(`${purpose}\0${value}`).digest('base64url');
  }

  verify(purpose: string, value: string, mac: string | null | undefined): boolean {
    if (!mac) return false;
    const expected = Buffer.from(this.mac(purpose, value));
    const given = Buffer.from(mac);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }

  /** `value.mac`, for a cookie. */
  sign(purpose: string, value: string): string {
    return `${value}.${this.mac(purpose, value)}`;
  }

  /** The value of a signed cookie, or null when it was not signed by this server for this purpose. */
  unsign(purpose: string, signed: string | undefined): string | null {
    if (!signed) return null;
    const dot = signed.lastIndexOf('.');
    if (dot < 0) return null;
    const value = signed.slice(0, dot);
    return this.verify(purpose, value, signed.slice(dot + 1)) ? value : null;
  }
}

export function readCookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

/** Adds a Set-Cookie; `maxAge` 0 deletes it. */
export function setCookie(
  res: ServerResponse,
  name: string,
  value: string,
  opts: { path: string; maxAge: number },
): void {
  const cookie = `${name}=${encodeURIComponent(value)}; Path=${opts.path}; Max-Age=${opts.maxAge}; HttpOnly; SameSite=Lax`;
  const current = res.getHeader('set-cookie');
  res.setHeader('set-cookie', [...(Array.isArray(current) ? current : current ? [String(current)] : []), cookie]);
}
