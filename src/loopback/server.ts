// The ephemeral RFC 8252 callback server: 127.0.0.1 only, port 0, one exact path, one callback, then closed.
// The browser's response is held while the callback is redeemed. When the flow then waits for the person at the
// terminal (MFA, a JIT prompt), the browser is told so at once, and a page still open learns the outcome through an
// unguessable status URL (long-polled) until the flow ends and the server closes. A passkey step asks through a page
// at http://localhost:PAGEPORT (passkey-page.ts), on a port of its own held on both 127.0.0.1 and ::1 (listenBoth).

import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { IdpError } from '../core/errors.js';
import { hint } from '../core/fixes.js';
import { escapeHtml, SECURITY_HEADERS, sendText } from './html.js';
import { openPasskeyPage, type PasskeyAsk, type PasskeyPage, type PasskeyPrompt } from './passkey-page.js';

export interface OutcomePage {
  title: string;
  message: string;
  ok: boolean;
}

export interface LoopbackCallback {
  /** The full callback URL, query included. */
  url: URL;
  /** Answers the held HTTP response with a page saying the sign-in at `provider` goes on in the terminal. */
  continueInTerminal(provider: string): void;
  /**
   * The outcome: completes the held response with it, or (after continueInTerminal) hands it to the page's status
   * request; then closes the server. Later calls do nothing.
   */
  respond(page: OutcomePage): void;
}

export interface LoopbackServer {
  /** http://127.0.0.1:PORT/callback */
  redirectUri: string;
  port: number;
  waitForCallback(opts: { timeoutMs: number; signal?: AbortSignal }): Promise<LoopbackCallback>;
  /**
   * Serves a page asking the browser's authenticator for `prompt` and waits for its answer; a page asked before stops
   * answering (a retry gets a new one).
   */
  askPasskey(prompt: PasskeyPrompt, opts: { timeoutMs: number; signal?: AbortSignal }): Promise<PasskeyAsk>;
  /** Idempotent. A still-held browser response gets a neutral page rather than hanging. */
  close(): Promise<void>;
}

const HOST = '127.0.0.1';

/** A status request is answered "still waiting" after this long, and the page asks again: no browser gives up on it. */
const LONG_POLL_MS = 25_000;

const ENDED_PAGE: OutcomePage = {
  title: 'Sign-in ended',
  message: 'This sign-in is over. Return to the terminal to see its outcome.',
  ok: false,
};

interface Waiter {
  resolve(callback: LoopbackCallback): void;
  reject(err: IdpError): void;
}

export async function startLoopback(opts: { path?: string } = {}): Promise<LoopbackServer> {
  const path = opts.path ?? '/callback';
  let received: LoopbackCallback | null = null;
  let heldResponse: ServerResponse | null = null;
  let waiter: Waiter | null = null;
  let closing: Promise<void> | null = null;
  // Known only to the page that continueInTerminal sends: no other local process reads the outcome.
  const statusPath = `/status/${randomBytes(16).toString('base64url')}`;
  let statusOpen = false;
  let outcome: OutcomePage | null = null;
  const statusRequests = new Set<ServerResponse>();
  let passkey: PasskeyPage | null = null;
  // The passkey page's own listeners, bound on its first ask.
  let pages: Promise<BoundPair> | null = null;

  const answer = (req: IncomingMessage, res: ServerResponse): void => {
    if (statusOpen && requestPath(req) === statusPath && req.method === 'GET') return holdStatus(res);
    if (received || closing) return sendText(res, 410, 'This callback has already been used.');
    if (requestPath(req) !== path) return sendText(res, 404, 'Not found.');
    if (req.method !== 'GET') return sendText(res, 405, 'Method not allowed.');

    const url = new URL(req.url ?? '/', redirectUri);
    heldResponse = res;
    received = {
      url,
      continueInTerminal(provider) {
        if (heldResponse !== res) return;
        heldResponse = null;
        statusOpen = true;
        sendPage(res, continuePage(provider, url), statusPath);
      },
      respond(page) {
        if (outcome || closing) return;
        outcome = redactQueryValues(page, url);
        if (heldResponse === res) {
          heldResponse = null;
          sendPage(res, outcome);
        }
        void close();
      },
    };
    const current = waiter;
    waiter = null;
    current?.resolve(received);
  };
  const server = createServer(answer);

  await listen(server, 0, HOST);
  const { port } = server.address() as AddressInfo;
  const redirectUri = `http://${HOST}:${port}${path}`;

  function close(): Promise<void> {
    if (closing) return closing;
    const pageServers =
      pages?.then(
        (pair) => pair.servers,
        () => [],
      ) ?? Promise.resolve([]);
    closing = Promise.all([shut(server), pageServers.then((servers) => Promise.all(servers.map(shut)))]).then(
      () => undefined,
    );
    passkey?.end(interruptedError());
    if (heldResponse) {
      sendPage(heldResponse, ENDED_PAGE);
      heldResponse = null;
    }
    for (const res of statusRequests) endStatus(res, outcome ?? ENDED_PAGE);
    statusRequests.clear();
    const pending = waiter;
    waiter = null;
    pending?.reject(interruptedError());
    return closing;
  }

  function waitForCallback({
    timeoutMs,
    signal,
  }: {
    timeoutMs: number;
    signal?: AbortSignal;
  }): Promise<LoopbackCallback> {
    if (received) return Promise.resolve(received);
    if (closing) return Promise.reject(new IdpError('INTERNAL', 'the loopback server is already closed'));
    if (waiter) return Promise.reject(new IdpError('INTERNAL', 'already waiting for the loopback callback'));
    if (signal?.aborted) return close().then(() => Promise.reject(interruptedError()));

    return new Promise<LoopbackCallback>((resolve, reject) => {
      const timer = setTimeout(() => fail(timeoutError(timeoutMs)), timeoutMs);
      const onAbort = (): void => fail(interruptedError());
      signal?.addEventListener('abort', onAbort, { once: true });
      const settle = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        waiter = null;
      };
      function fail(err: IdpError): void {
        settle();
        void close().then(() => reject(err));
      }
      waiter = {
        resolve(callback) {
          settle();
          resolve(callback);
        },
        reject: fail,
      };
    });
  }

  /**
   * The headers go out at once (the page knows it is being answered); the body when the outcome is known or the server
   * closes, or after LONG_POLL_MS as "pending".
   */
  function holdStatus(res: ServerResponse): void {
    res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'application/json; charset=utf-8', Connection: 'close' });
    if (outcome || closing) return endStatus(res, outcome ?? ENDED_PAGE);
    res.flushHeaders();
    statusRequests.add(res);
    const timer = setTimeout(() => {
      statusRequests.delete(res);
      endStatus(res, null);
    }, LONG_POLL_MS);
    res.on('close', () => {
      clearTimeout(timer);
      statusRequests.delete(res);
    });
  }

  async function askPasskey(
    prompt: PasskeyPrompt,
    opts: { timeoutMs: number; signal?: AbortSignal },
  ): Promise<PasskeyAsk> {
    if (closing) throw new IdpError('INTERNAL', 'the loopback server is already closed');
    pages ??= listenBoth((req, res) => {
      if (!passkey?.handle(req, res)) sendText(res, 404, 'Not found.');
    });
    const { port: pagePort } = await pages;
    if (closing) throw new IdpError('INTERNAL', 'the loopback server is already closed');
    passkey?.end(new IdpError('INTERNAL', 'a newer passkey page replaced this one'));
    passkey = openPasskeyPage(pagePort, prompt, opts);
    return passkey.ask;
  }

  return { redirectUri, port, waitForCallback, askPasskey, close };
}

interface BoundPair {
  port: number;
  servers: Server[];
}

/** Ports tried before the passkey page gives up: each is lost only to a process that took its ::1 side first. */
const PAGE_PORT_TRIES = 5;

/**
 * Listens on 127.0.0.1 and ::1 at one port. A browser opening `localhost` may try either address, so a process that
 * held the other one at that port would receive the page's secret URL and could answer in its place (a forged Host
 * and Origin pass the page's checks): a port whose ::1 side is taken is given up for another. A machine without an
 * IPv6 loopback has no ::1 for anyone to take. (DESIGN.md's "127.0.0.1 only" holds for the callback, not this page.)
 */
async function listenBoth(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<BoundPair> {
  for (let tried = 0; tried < PAGE_PORT_TRIES; tried++) {
    const v4 = createServer(handler);
    await listen(v4, 0, HOST);
    const { port } = v4.address() as AddressInfo;
    const v6 = createServer(handler);
    const refused = await listen(v6, port, '::1').then(
      () => null,
      (err: NodeJS.ErrnoException) => err,
    );
    if (!refused) return { port, servers: [v4, v6] };
    if (refused.code === 'EADDRNOTAVAIL' || refused.code === 'EAFNOSUPPORT') return { port, servers: [v4] };
    await shut(v4);
  }
  throw new IdpError(
    'LOOPBACK_CONTESTED',
    `the passkey page found no port free on both 127.0.0.1 and ::1 in ${PAGE_PORT_TRIES} tries`,
    'another program on this computer is taking the ::1 side of new ports: stop it, then run the login again',
  );
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Stops listening; a browser's idle keep-alive sockets must not keep the port bound, nor a slow one for long. */
function shut(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  setTimeout(() => server.closeAllConnections(), 1000).unref();
  return closed;
}

function requestPath(req: IncomingMessage): string {
  const raw = req.url ?? '/';
  const q = raw.indexOf('?');
  return q === -1 ? raw : raw.slice(0, q);
}

function timeoutError(timeoutMs: number): IdpError {
  return new IdpError(
    'TIMEOUT',
    `no callback reached the loopback server within ${timeoutMs < 1000 ? `${timeoutMs} ms` : `${Math.round(timeoutMs / 1000)} s`}`,
    hint`finish the sign-in in the browser sooner, or pass a longer ${{ kind: 'option', option: 'timeout' }}`,
  );
}

function interruptedError(): IdpError {
  return new IdpError('INTERRUPTED', 'interrupted while waiting for the browser callback', 'run the login again');
}

/** What the browser shows while the terminal finishes: whether the provider signed the person in, never its text. */
function continuePage(provider: string, url: URL): OutcomePage {
  if (url.searchParams.has('error'))
    return {
      title: 'Sign-in refused',
      message: `${provider} did not sign you in. Return to the terminal for the details.`,
      ok: false,
    };
  return { title: `Signed in at ${provider}`, message: 'Finish in your terminal.', ok: true };
}

function endStatus(res: ServerResponse, page: OutcomePage | null): void {
  res.end(JSON.stringify(page ?? { pending: true }));
}

/** `statusPath`: the page is an interim one whose script shows the outcome once the status URL gives it. */
function sendPage(res: ServerResponse, page: OutcomePage, statusPath?: string): void {
  const nonce = randomBytes(16).toString('base64');
  const html = renderPage(page, statusPath ? { path: statusPath, nonce } : undefined);
  const csp = statusPath
    ? `${SECURITY_HEADERS['Content-Security-Policy']}; script-src 'nonce-${nonce}'; connect-src 'self'`
    : SECURITY_HEADERS['Content-Security-Policy'];
  res.writeHead(page.ok ? 200 : 400, {
    ...SECURITY_HEADERS,
    'Content-Security-Policy': csp,
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': Buffer.byteLength(html),
    Connection: 'close',
  });
  res.end(html);
}

const OK_COLOUR = '#1a7f37';
const FAILED_COLOUR = '#cf222e';

function renderPage({ title, message, ok }: OutcomePage, status?: { path: string; nonce: string }): string {
  const colour = ok ? OK_COLOUR : FAILED_COLOUR;
  const after = status
    ? `<p id="outcome">The outcome will show here while this tab stays open.</p><noscript><p>The terminal shows the outcome.</p></noscript>${statusScript(status)}`
    : '<p>You can close this tab.</p>';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="referrer" content="no-referrer"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem}h1{color:${colour}}</style></head>
<body><h1>${escapeHtml(title)}</h1><p id="message">${escapeHtml(message)}</p>${after}</body></html>
`;
}

/** Long-polls the status URL; the outcome is set as text (never HTML). A closed server means the sign-in is over. */
function statusScript({ path, nonce }: { path: string; nonce: string }): string {
  const colours = JSON.stringify({ ok: OK_COLOUR, failed: FAILED_COLOUR });
  return `<script nonce="${nonce}">
(function poll() {
  var c = ${colours}, h = document.querySelector('h1'), m = document.getElementById('message'), o = document.getElementById('outcome');
  fetch(${JSON.stringify(path)}, { cache: 'no-store' }).then(function (r) { return r.json(); }).then(function (page) {
    if (page.pending) return poll();
    document.title = h.textContent = page.title;
    h.style.color = page.ok ? c.ok : c.failed;
    m.textContent = page.message;
    o.textContent = 'You can close this tab.';
  }, function () { o.textContent = 'This sign-in is over. The terminal shows its outcome.'; });
})();
</script>`;
}

const SECRET_PARAMS = ['code', 'state', 'id_token', 'access_token', 'refresh_token', 'token'];

/** Belt and braces: whatever the caller writes, the callback's code, state or tokens never reach the page. */
function redactQueryValues(page: OutcomePage, url: URL): OutcomePage {
  const secrets = SECRET_PARAMS.flatMap((name) => url.searchParams.getAll(name)).filter((v) => v.length > 0);
  const scrub = (text: string): string => secrets.reduce((acc, s) => acc.split(s).join('[redacted]'), text);
  return { ...page, title: scrub(page.title), message: scrub(page.message) };
}
