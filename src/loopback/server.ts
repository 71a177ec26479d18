// The ephemeral RFC 8252 callback server: 127.0.0.1 only, port 0, one exact path, one callback, then closed.
// The browser's response is held until the flow has finished, so the page it shows tells the truth about the outcome.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { IdpError } from '../core/errors.js';
import { hint } from '../core/fixes.js';

export interface OutcomePage {
  title: string;
  message: string;
  ok: boolean;
}

export interface LoopbackCallback {
  /** The full callback URL, query included. */
  url: URL;
  /** Completes the held HTTP response with the outcome page, then closes the server. Later calls do nothing. */
  respond(page: OutcomePage): void;
}

export interface LoopbackServer {
  /** http://127.0.0.1:PORT/callback */
  redirectUri: string;
  port: number;
  waitForCallback(opts: { timeoutMs: number; signal?: AbortSignal }): Promise<LoopbackCallback>;
  /** Idempotent. A still-held browser response gets a neutral page rather than hanging. */
  close(): Promise<void>;
}

const HOST = '127.0.0.1';

const SECURITY_HEADERS = {
  'Cache-Control': 'no-store',
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
  'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'",
} as const;

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

  const server = createServer((req, res) => {
    if (received || closing) return sendText(res, 410, 'This callback has already been used.');
    if (requestPath(req) !== path) return sendText(res, 404, 'Not found.');
    if (req.method !== 'GET') return sendText(res, 405, 'Method not allowed.');

    const url = new URL(req.url ?? '/', redirectUri);
    heldResponse = res;
    received = {
      url,
      respond(page) {
        if (heldResponse !== res) return;
        heldResponse = null;
        sendPage(res, redactQueryValues(page, url));
        void close();
      },
    };
    const current = waiter;
    waiter = null;
    current?.resolve(received);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: HOST, port: 0, exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const redirectUri = `http://${HOST}:${port}${path}`;

  function close(): Promise<void> {
    if (closing) return closing;
    closing = new Promise<void>((resolve) => server.close(() => resolve()));
    if (heldResponse) {
      sendPage(heldResponse, ENDED_PAGE);
      heldResponse = null;
    }
    // A browser keeps idle keep-alive sockets open; they must not keep the port bound.
    server.closeIdleConnections();
    setTimeout(() => server.closeAllConnections(), 1000).unref();
    const pending = waiter;
    waiter = null;
    pending?.reject(interruptedError());
    return closing;
  }

  function waitForCallback({ timeoutMs, signal }: { timeoutMs: number; signal?: AbortSignal }): Promise<LoopbackCallback> {
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

  return { redirectUri, port, waitForCallback, close };
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

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close' });
  res.end(text);
}

function sendPage(res: ServerResponse, page: OutcomePage): void {
  const html = renderPage(page);
  res.writeHead(page.ok ? 200 : 400, {
    ...SECURITY_HEADERS,
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': Buffer.byteLength(html),
    Connection: 'close',
  });
  res.end(html);
}

function renderPage({ title, message, ok }: OutcomePage): string {
  const colour = ok ? '#1a7f37' : '#cf222e';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="referrer" content="no-referrer"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem}h1{color:${colour}}</style></head>
<body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p><p>You can close this tab.</p></body></html>
`;
}

const SECRET_PARAMS = ['code', 'state', 'id_token', 'access_token', 'refresh_token', 'token'];

/** Belt and braces: whatever the caller writes, the callback's code, state or tokens never reach the page. */
function redactQueryValues(page: OutcomePage, url: URL): OutcomePage {
  const secrets = SECRET_PARAMS.flatMap((name) => url.searchParams.getAll(name)).filter((v) => v.length > 0);
  const scrub = (text: string): string => secrets.reduce((acc, s) => acc.split(s).join('[redacted]'), text);
  return { ...page, title: scrub(page.title), message: scrub(page.message) };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
