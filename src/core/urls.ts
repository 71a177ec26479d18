// URL rules: redirect URIs and issuers must be absolute http(s) URLs, and plain http is only for loopback hosts; the
// SMTP relay is plain smtp to a loopback mail catcher. Messages name the kind of URL, not a flag, because both flags
// and policy files go through these rules.
import { IdpError } from './errors.js';
import { hint } from './fixes.js';

export function isLoopbackHost(hostname: string): boolean {
  return hostname === '127.0.0.1' || hostname === 'localhost' || hostname === '[::1]' || hostname === '::1';
}

function checkedUrl(value: string, what: string, example: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new IdpError('INVALID_VALUE', `the ${what} must be an absolute URL, not '${value}'`, `e.g. ${example}`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    throw new IdpError(
      'INVALID_VALUE',
      `the ${what} must use https (plain http only for localhost/127.0.0.1): '${value}'`,
      `e.g. ${example}`,
    );
  }
  return url;
}

export function validateRedirectUri(value: string): string {
  const url = checkedUrl(value, 'redirect URI', 'http://localhost:5173/');
  if (url.hash)
    throw new IdpError('INVALID_VALUE', `the redirect URI must not have a fragment: '${value}'`, 'drop the #... part');
  return value;
}

export function validateIssuer(value: string): string {
  const url = checkedUrl(value, 'issuer', 'https://login.example.com');
  if (url.search || url.hash)
    throw new IdpError(
      'INVALID_VALUE',
      `the issuer must not have a query or fragment: '${value}'`,
      'use the issuer exactly as its discovery document states it',
    );
  return value;
}

/** A GitHub Enterprise Server address: the web root, under which idp finds /login/oauth and /api/v3. */
export function validateBaseUrl(value: string): string {
  const url = checkedUrl(value, 'base URL', 'https://github.example.com');
  if (url.search || url.hash || url.username || url.password)
    throw new IdpError(
      'INVALID_VALUE',
      `the base URL must not have credentials, a query or a fragment: '${value}'`,
      'give the address of the GitHub Enterprise Server, e.g. https://github.example.com',
    );
  return url.href.replace(/\/+$/, '');
}

/**
 * The one address instances of `idp serve` behind a load balancer answer at: an origin (scheme, host, port), because
 * every route lives under /t/<org> at the host's root. Returned without a trailing slash.
 */
export function validatePublicUrl(value: string): string {
  const url = checkedUrl(value, 'public URL', 'https://idp.example.com');
  if (url.search || url.hash || url.username || url.password || url.pathname !== '/')
    throw new IdpError(
      'INVALID_VALUE',
      `the public URL must be an origin, without a path, credentials, a query or a fragment: '${value}'`,
      'give the scheme, host and port the browser uses, e.g. https://idp.example.com; idp serves /t/<org> at its root',
    );
  return url.origin;
}

/**
 * The optional SMTP relay for emailed codes: a mail catcher on this machine (Mailpit, MailHog, smtp4dev). Plain SMTP
 * without TLS or a password, so the codes never leave the machine. Returns `smtp://host:port` (port 25 if none).
 */
export function validateSmtpRelay(value: string): string {
  const example = 'smtp://127.0.0.1:1025';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new IdpError(
      'INVALID_VALUE',
      `the SMTP relay must be a URL like ${example}, not '${value}'`,
      `e.g. ${example} (a local mail catcher)`,
    );
  }
  if (url.protocol !== 'smtp:')
    throw new IdpError('INVALID_VALUE', `the SMTP relay must be an smtp:// URL, not '${value}'`, `e.g. ${example}`);
  if (!isLoopbackHost(url.hostname)) {
    throw new IdpError(
      'INVALID_VALUE',
      `the SMTP relay must be on this machine (localhost/127.0.0.1): '${value}'`,
      hint`emailed codes go in plain SMTP, so only to a local mail catcher; every code is in ${{ kind: 'show', what: 'outbox' }} anyway`,
    );
  }
  if (url.username || url.password || (url.pathname && url.pathname !== '/') || url.search || url.hash) {
    throw new IdpError('INVALID_VALUE', `the SMTP relay takes only a host and a port: '${value}'`, `e.g. ${example}`);
  }
  return `smtp://${url.hostname}:${url.port || '25'}`;
}

/** A browser origin allowed cross-origin calls (CORS): compared exactly, so it must be written as browsers send it. */
export function validateOrigin(value: string): string {
  const url = checkedUrl(value, 'origin', 'http://localhost:5173');
  if (url.origin !== value)
    throw new IdpError(
      'INVALID_VALUE',
      `the origin must be scheme://host[:port] only, with no path or trailing slash: '${value}'`,
      `e.g. ${url.origin}`,
    );
  return value;
}

/** The origins of the http(s) redirect URIs, each once: what a spa's browser code calls from. */
export function originsOf(redirectUris: readonly string[]): string[] {
  const origins = redirectUris.flatMap((uri) => {
    const url = URL.parse(uri);
    return url && (url.protocol === 'http:' || url.protocol === 'https:') ? [url.origin] : [];
  });
  return [...new Set(origins)];
}

/** A postgres:// or postgresql:// URL, where an org's store may live instead of a data directory. */
export function isDatabaseUrl(value: string): boolean {
  return /^postgres(?:ql)?:\/\//i.test(value);
}
