// The headless driver of the sandbox providers: walks their account chooser and consent pages over real HTTP,
// as a user's browser would (cookies included), and hands back the final redirect to the client.

import { IdpError, didYouMean } from '../core/errors.js';
import { hint } from '../core/fixes.js';
import { isLoopbackHost } from '../core/urls.js';
import { DECISION_FIELD, PERSONA_FIELD, pageMessage, parseForm, type ParsedForm } from './pages.js';

export interface SandboxAnswer {
  persona: string;
  consent: 'approve' | 'deny';
}

/** Enough for chooser + consent pages and the redirects between them; more means the pages loop. */
const MAX_STEPS = 12;

/**
 * Answers the sandbox pages behind `authorizationUrl` and returns the URL the provider finally redirects to
 * (the client's redirect_uri, with code or error), without requesting it.
 */
export async function completeSandboxConsent(authorizationUrl: string, answer: SandboxAnswer): Promise<string> {
  const start = new URL(authorizationUrl);
  // Answering a real provider's pages by script would be scraping it: the driver only talks to the local sandbox.
  if (start.protocol !== 'http:' || !isLoopbackHost(start.hostname)) {
    throw new IdpError(
      'HEADLESS_NEEDS_SANDBOX',
      `cannot answer the sign-in pages of ${start.origin} headlessly`,
      'use a sandbox connection, or sign in from a terminal with a browser',
    );
  }
  const sandboxOrigin = start.origin;
  const cookies = new CookieJar();
  let request: { url: URL; body?: URLSearchParams } = { url: start };
  for (let step = 0; step < MAX_STEPS; step++) {
    const res = await send(request.url, request.body, cookies);
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      const next = new URL(location, request.url);
      // Leaving the sandbox's origin means the provider is done: that redirect is the client's callback.
      if (next.origin !== sandboxOrigin) return next.href;
      request = { url: next };
      continue;
    }
    const html = await res.text();
    const form = res.ok ? parseForm(html) : null;
    if (!form) {
      throw new IdpError(
        'UPSTREAM_ERROR',
        `the sandbox refused the sign-in (HTTP ${res.status}): ${pageMessage(html) || 'no message'}`,
        "check the app's client_id and redirect URI registered with the sandbox",
      );
    }
    request = { url: new URL(form.action, request.url), body: fillForm(form, answer) };
  }
  throw new IdpError(
    'UPSTREAM_ERROR',
    `the sandbox sign-in did not finish within ${MAX_STEPS} pages`,
    hint`run with ${{ kind: 'option', option: 'debug' }} and report the pages seen`,
  );
}

function fillForm(form: ParsedForm, answer: SandboxAnswer): URLSearchParams {
  const body = new URLSearchParams(form.hidden);
  if (form.personas.length > 0) {
    if (!form.personas.includes(answer.persona)) {
      const close = didYouMean(answer.persona, form.personas);
      throw new IdpError(
        'UNKNOWN_PERSONA',
        `the sandbox has no persona '${answer.persona}'`,
        `${close ? `did you mean '${close}'? ` : ''}personas offered: ${form.personas.join(', ')}`,
      );
    }
    body.set(PERSONA_FIELD, answer.persona);
  }
  // An account chooser only moves on; the answer to consent goes to the page that asks for it.
  const decision = form.decisions.includes('continue') ? 'continue' : answer.consent;
  if (!form.decisions.includes(decision)) {
    throw new IdpError(
      'UPSTREAM_ERROR',
      `the sandbox page offers no '${decision}' button`,
      `buttons offered: ${form.decisions.join(', ') || 'none'}`,
    );
  }
  body.set(DECISION_FIELD, decision);
  return body;
}

async function send(url: URL, body: URLSearchParams | undefined, cookies: CookieJar): Promise<Response> {
  const headers: Record<string, string> = { accept: 'text/html' };
  const cookie = cookies.header();
  if (cookie) headers['cookie'] = cookie;
  try {
    const res = await fetch(
      url,
      body ? { method: 'POST', headers, body, redirect: 'manual' } : { headers, redirect: 'manual' },
    );
    cookies.store(res.headers.getSetCookie());
    return res;
  } catch (err) {
    throw new IdpError(
      'UPSTREAM_UNREACHABLE',
      `cannot reach the sandbox at ${url.origin}: ${(err as Error).message}`,
      'is the sandbox still running?',
      { cause: err },
    );
  }
}

/** Just enough of a browser's cookie jar for one sign-in against one origin: names, values and deletions. */
class CookieJar {
  private readonly values = new Map<string, string>();

  store(setCookies: string[]): void {
    for (const line of setCookies) {
      const [pair = '', ...attributes] = line.split(';').map((part) => part.trim());
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq);
      const expired = attributes.some((a) => {
        const [key = '', value = ''] = a.split('=');
        if (key.toLowerCase() === 'max-age') return Number(value) <= 0;
        return key.toLowerCase() === 'expires' && Date.parse(value) <= Date.now();
      });
      if (expired) this.values.delete(name);
      else this.values.set(name, pair.slice(eq + 1));
    }
  }

  header(): string {
    return [...this.values].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}
