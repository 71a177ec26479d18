// The terminal login's passkey page, served by the loopback server at http://localhost:PORT/passkey/<secret> (a
// passkey's RP ID is `localhost`, so the page must be there, not on 127.0.0.1): it asks the browser's authenticator
// with the flow's options and posts the answer back here, where the terminal's wait ends with it. One page per ask,
// answered once; its scripts come from /assets/.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { IdpError } from '../core/errors.js';
import { hint } from '../core/fixes.js';
import { deviceName } from '../core/device-name.js';
import { PASSKEY_NAME_MAX } from '../core/passkeys.js';
import { readParams } from '../net/http.js';
import { PASSKEY_ASSETS, PASSKEY_PAGE, sendPasskeyAsset } from '../net/passkey-assets.js';
import { escapeHtml, SECURITY_HEADERS, sendText } from './html.js';

export interface PasskeyPrompt {
  mode: 'authenticate' | 'enrol';
  /** Options JSON for @simplewebauthn/browser. */
  options: unknown;
  app: string;
  /** Why the last answer was refused, shown above the button. */
  retry?: string;
}

export interface PasskeyAnswerPosted {
  /** The authenticator's response as the page posted it (JSON-parsed, unchecked). */
  response: unknown;
  name?: string;
}

export interface PasskeyAsk {
  /** http://localhost:PORT/passkey/<secret>: what the person opens. */
  url: string;
  /** http://localhost:PORT: the origin the answer is made for. */
  origin: string;
  /** The posted answer; rejects on timeout, abort, or when the server closes. */
  answer: Promise<PasskeyAnswerPosted>;
}

const ASSETS = '/assets/';

/** One ask's page: `handle` answers the requests that are its own (true), `end` stops it with a refusal. */
export interface PasskeyPage {
  ask: PasskeyAsk;
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  end(err: IdpError): void;
}

export function openPasskeyPage(
  port: number,
  prompt: PasskeyPrompt,
  opts: { timeoutMs: number; signal?: AbortSignal },
): PasskeyPage {
  const origin = `http://localhost:${port}`;
  // Known only to the terminal and the browser it opens: no other local page can post an answer to it.
  const path = `/passkey/${randomBytes(16).toString('base64url')}`;
  let done = false;
  let settle!: { resolve(answer: PasskeyAnswerPosted): void; reject(err: IdpError): void };
  const answer = new Promise<PasskeyAnswerPosted>((resolve, reject) => (settle = { resolve, reject }));
  // The terminal may stop waiting before anyone looks.
  answer.catch(() => undefined);
  const timer = setTimeout(() => end(timeoutError(opts.timeoutMs)), opts.timeoutMs);
  const onAbort = (): void => end(interruptedError());
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  if (opts.signal?.aborted) onAbort();

  function finish(): void {
    done = true;
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
  }

  function end(err: IdpError): void {
    if (done) return;
    finish();
    settle.reject(err);
  }

  function handle(req: IncomingMessage, res: ServerResponse): boolean {
    const target = new URL(req.url ?? '/', origin).pathname;
    if (target !== path && !target.startsWith(ASSETS)) return false;
    // Only the name the page was opened at: a rebound DNS name cannot reach it, and WebAuthn needs `localhost`.
    if (req.headers.host !== `localhost:${port}`) sendText(res, 421, `Open ${origin}${path} instead.`);
    else if (target.startsWith(ASSETS)) asset(req, res, target.slice(ASSETS.length));
    else if (done) sendText(res, 410, 'This passkey page has been used. Return to the terminal.');
    else if (req.method === 'GET') sendPage(res, 200, passkeyHtml(prompt, path, req.headers['user-agent']));
    else if (req.method === 'POST') void posted(req, res);
    else sendText(res, 405, 'Method not allowed.');
    return true;
  }

  async function posted(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // A browser says where a form came from: only this page may answer.
    if (req.headers.origin !== origin) return sendText(res, 403, 'This answer was not sent from the passkey page.');
    let form: URLSearchParams;
    let response: unknown;
    try {
      form = await readParams(req);
      response = JSON.parse(form.get(PASSKEY_PAGE.response) ?? '');
    } catch {
      return sendText(res, 400, 'The passkey answer is missing or not JSON: use the button on the page.');
    }
    if (done) return sendText(res, 410, 'This passkey page has been used. Return to the terminal.');
    finish();
    const name = (form.get('name') ?? '').trim();
    settle.resolve({ response, ...(prompt.mode === 'enrol' && name && { name }) });
    sendPage(res, 200, sentHtml());
  }

  return { ask: { url: `${origin}${path}`, origin, answer }, handle, end };
}

function asset(req: IncomingMessage, res: ServerResponse, name: string): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') return sendText(res, 405, 'Method not allowed.');
  if (!sendPasskeyAsset(res, name)) sendText(res, 404, 'Not found.');
}

/** Scripts only from this server (the two assets), forms only back to it. */
const CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'self'; form-action 'self'";

function sendPage(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    // no-referrer would make the browser post `Origin: null`; same-origin still tells no other site the secret path.
    'Referrer-Policy': 'same-origin',
    'Content-Security-Policy': CSP,
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': Buffer.byteLength(html),
    Connection: 'close',
  });
  res.end(html);
}

function passkeyHtml(prompt: PasskeyPrompt, action: string, userAgent: string | undefined): string {
  const enrol = prompt.mode === 'enrol';
  const title = enrol ? `Create a passkey for ${prompt.app}` : `Sign in to ${prompt.app} with a passkey`;
  const intro = enrol
    ? 'This sign-in needs a passkey, and you have none yet. Create one now: your device will ask for your fingerprint, face, screen lock or security key.'
    : 'Use the passkey saved on this device, your phone or a security key.';
  const retry = prompt.retry ? `<p class="alert" role="alert">${escapeHtml(prompt.retry)}</p>` : '';
  const name = enrol
    ? '<label for="passkey-name">Name for this passkey</label>' +
      `<input id="passkey-name" name="name" type="text" autocomplete="off" maxlength="${PASSKEY_NAME_MAX}" value="${escapeHtml(deviceName(userAgent) ?? '')}">`
    : '';
  const options = JSON.stringify(prompt.options).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>${STYLE}</style></head>
<body><h1>${escapeHtml(title)}</h1>${retry}<p>${escapeHtml(intro)}</p>
<noscript><p class="alert">Passkeys need JavaScript: turn it on for this page, or cancel the login in the terminal (Ctrl-C) and choose another way.</p></noscript>
<form method="post" action="${escapeHtml(action)}" id="${PASSKEY_PAGE.form}" data-mode="${prompt.mode}">${name}
<input type="hidden" name="${PASSKEY_PAGE.response}" value="">
<script type="application/json" id="${PASSKEY_PAGE.options}">${options}</script>
<button type="button" id="${PASSKEY_PAGE.start}" disabled>${enrol ? 'Create a passkey' : 'Use a passkey'}</button>
<p id="${PASSKEY_PAGE.status}" role="status" aria-live="polite"></p></form>
<p class="muted">The terminal is waiting for this page. To use another way, cancel there (Ctrl-C) and run the login again.</p>
<script src="${ASSETS}${PASSKEY_ASSETS.library}"></script><script src="${ASSETS}${PASSKEY_ASSETS.script}"></script>
</body></html>
`;
}

function sentHtml(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Passkey sent</title>
<style>${STYLE}</style></head>
<body><h1>Passkey sent</h1><p>Return to the terminal: it shows whether the sign-in goes on. You can close this tab.</p></body></html>
`;
}

const STYLE =
  'body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem}' +
  'label{display:block;font-weight:600;margin:0 0 .3rem}input[type=text]{width:100%;padding:.5rem;margin:0 0 1rem;font:inherit}' +
  'button{padding:.6rem 1.2rem;font:inherit;font-weight:600}.alert{color:#cf222e}.muted{color:#57606a;font-size:.9rem}';

function timeoutError(timeoutMs: number): IdpError {
  return new IdpError(
    'TIMEOUT',
    `no passkey answer reached the loopback page within ${timeoutMs < 1000 ? `${timeoutMs} ms` : `${Math.round(timeoutMs / 1000)} s`}`,
    hint`use the passkey in the browser sooner, or pass a longer ${{ kind: 'option', option: 'timeout' }}`,
  );
}

function interruptedError(): IdpError {
  return new IdpError('INTERRUPTED', 'interrupted while waiting for the passkey page', 'run the login again');
}
