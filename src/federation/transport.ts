// How connectors reach upstreams: https everywhere, plain http only for loopback hosts (the sandbox),
// and network failures turned into UPSTREAM_UNREACHABLE naming the endpoint. No openid-client here, so it loads cheaply.

import { IdpError } from '../core/errors.js';
import { hint } from '../core/fixes.js';
import { isLoopbackHost } from '../core/urls.js';

/** The Fetch-compatible signature openid-client's `customFetch` expects. */
export type UpstreamFetch = (url: string, init: RequestInit) => Promise<Response>;

function isLoopbackUrl(url: URL): boolean {
  return isLoopbackHost(url.hostname);
}

/**
 * Parses a configured endpoint and refuses anything but https, or http on a loopback host.
 * `what` names the endpoint in the message, e.g. "GitHub token URL"; `code` says whose mistake it is:
 * the configuration's (INVALID_VALUE) or the upstream metadata's (UPSTREAM_ERROR).
 */
export function parseEndpoint(
  value: string,
  what: string,
  code: 'INVALID_VALUE' | 'UPSTREAM_ERROR' = 'INVALID_VALUE',
): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new IdpError(code, `${what} '${value}' is not a URL`, 'give an absolute https:// URL');
  }
  if (!isAllowedTransport(url)) {
    throw new IdpError(
      code,
      `${what} ${url.origin}${url.pathname} must use https`,
      'plain http is allowed only for loopback hosts (127.0.0.1, localhost, [::1])',
    );
  }
  return url;
}

/** Whether openid-client must be told to allow http: only when some endpoint (already checked by parseEndpoint) is loopback http. */
export function needsInsecureRequests(urls: URL[]): boolean {
  return urls.some((url) => url.protocol === 'http:');
}

function isAllowedTransport(url: URL): boolean {
  return url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackUrl(url));
}

/** The endpoint as named in messages: origin and path, never the query (which may carry parameters of the login). */
function endpointName(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

/** The fetch every connector request goes through, so that a network failure names the endpoint it could not reach. */
export function upstreamFetch(provider: string): UpstreamFetch {
  return async (url, init) => {
    try {
      return await fetch(url, init);
    } catch (err) {
      throw unreachable(provider, new URL(url), err);
    }
  };
}

function unreachable(provider: string, target: URL, err: unknown): IdpError {
  const reason = networkReason(err);
  return new IdpError(
    'UPSTREAM_UNREACHABLE',
    `cannot reach ${provider} at ${endpointName(target)} (${reason})`,
    hint`check that the provider is running and the URL is right; ${{ kind: 'doctor' }} checks every connection`,
    { cause: err },
  );
}

/** The most specific reason in a fetch failure: the socket error code when undici gives one, else the innermost message. */
function networkReason(err: unknown): string {
  if (err instanceof Error && err.name === 'TimeoutError') return 'no answer in time';
  let innermost = err instanceof Error ? err.message : String(err);
  for (let current: unknown = err; current instanceof Error; current = current.cause) {
    const code = (current as NodeJS.ErrnoException).code;
    if (typeof code === 'string') return code;
    innermost = current.message;
  }
  return innermost;
}
